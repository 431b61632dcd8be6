/* Out-of-tree C plugin: every message the config gives the instance ("greet" in the test)
 * sets txn greeting = "hello", and ip_seen = true when an `ip` argument holds an address. */
#include <spoa/plugin.h>

#include <stddef.h>
#include <string.h>

static const spoa_host_api* host_table;

static spoa_str str(const char* s) {
  spoa_str r;
  r.ptr = s;
  r.len = strlen(s);
  return r;
}

static int32_t greet(void* user, spoa_request* request, spoa_str message, const spoa_arg* args,
                     size_t nargs) {
  spoa_value v = {0};
  size_t i;
  (void)user, (void)message;
  v.type = SPOA_TYPE_STRING;
  v.u.bytes = str("hello");
  host_table->set_var(request, SPOA_SCOPE_TXN, str("greeting"), &v);
  for (i = 0; i < nargs; ++i) {
    if (args[i].name.len == 2 && memcmp(args[i].name.ptr, "ip", 2) == 0 &&
        (args[i].value.type == SPOA_TYPE_IPV4 || args[i].value.type == SPOA_TYPE_IPV6)) {
      v.type = SPOA_TYPE_BOOL;
      v.u.boolean = 1;
      host_table->set_var(request, SPOA_SCOPE_TXN, str("ip_seen"), &v);
    }
  }
  return SPOA_DONE;
}

static int init(const spoa_host_api* host, spoa_instance* instance, const spoa_config_entry* config,
                size_t nconfig, void** state, char* error, size_t error_size) {
  spoa_str names[8];
  size_t count, i;
  (void)config, (void)nconfig, (void)state;
  host_table = host;
  if (host->struct_size <
      offsetof(spoa_host_api, claimed_messages) + sizeof host->claimed_messages) {
    strncpy(error, "the host has no claimed_messages()", error_size - 1);
    error[error_size - 1] = '\0';
    return 1;
  }
  count = host->claimed_messages(instance, names, sizeof names / sizeof names[0]);
  for (i = 0; i < count && i < sizeof names / sizeof names[0]; ++i) {
    if (host->register_message(instance, names[i], greet, NULL) != SPOA_OK) {
      strncpy(error, "cannot claim a message", error_size - 1);
      error[error_size - 1] = '\0';
      return 1;
    }
  }
  return 0;
}

static const spoa_plugin_descriptor descriptor =
    SPOA_PLUGIN_DESCRIPTOR_INIT(0, "greeter-c", "1.0", init, NULL);

SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void) {
  return &descriptor;
}
