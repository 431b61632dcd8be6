/* echo_1_0.so: built against the plugin.h of ABI 1.0 (tests/sdk/abi-1.0), the header of the
 * previous release, to prove that a 1.0 plugin still loads and works in this host: it reads
 * its arguments with the 1.0 layout of spoa_arg (40 bytes) and answers with 1.0-sized
 * spoa_value structs. For every named argument it sets a txn variable of the same name,
 * type and value, as echo does. */
#include <spoa/plugin.h>

#if SPOA_ABI_MINOR != 0
#error "echo_1_0.c must be compiled against the ABI 1.0 header"
#endif

static const spoa_host_api* host;

static int32_t on_message(void* user, spoa_request* request, spoa_str message, const spoa_arg* args,
                          size_t nargs) {
  size_t i;
  (void)user;
  (void)message;
  for (i = 0; i < nargs; ++i) {
    if (args[i].name.len == 0) continue;
    if (host->set_var(request, SPOA_SCOPE_TXN, args[i].name, &args[i].value) != SPOA_OK)
      return SPOA_FAILED;
  }
  return SPOA_DONE;
}

static int init(const spoa_host_api* table, spoa_instance* instance,
                const spoa_config_entry* config, size_t nconfig, void** state, char* error,
                size_t error_size) {
  spoa_str names[8];
  size_t count, i;
  (void)config;
  (void)nconfig;
  (void)state;
  (void)error;
  (void)error_size;
  host = table;
  count = table->claimed_messages(instance, names, 8);
  for (i = 0; i < count && i < 8; ++i)
    table->register_message(instance, names[i], on_message, NULL);
  return 0;
}

static const spoa_plugin_descriptor descriptor = {sizeof(spoa_plugin_descriptor),
                                                  SPOA_ABI_MAJOR,
                                                  SPOA_ABI_MINOR,
                                                  "echo-1.0",
                                                  "1.0.0",
                                                  init,
                                                  NULL};

SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void) {
  return &descriptor;
}
