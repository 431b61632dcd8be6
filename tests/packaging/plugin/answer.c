/* Out-of-tree test plugin, plain C99 built with only `pkg-config --cflags spoa-host-sdk`:
 * answers the message "answer" with txn.answer = 42 (int32). */
#include <spoa/plugin.h>

#include <stdio.h>
#include <string.h>

static spoa_str str_of(const char* text) {
  spoa_str s;
  s.ptr = text;
  s.len = strlen(text);
  return s;
}

static int32_t on_answer(void* user, spoa_request* request, spoa_str message, const spoa_arg* args,
                         size_t nargs) {
  const spoa_host_api* host = (const spoa_host_api*)user;
  spoa_value value = {0};
  (void)message;
  (void)args;
  (void)nargs;
  value.type = SPOA_TYPE_INT32;
  value.u.int32 = 42;
  return host->set_var(request, SPOA_SCOPE_TXN, str_of("answer"), &value) == SPOA_OK ? SPOA_DONE
                                                                                     : SPOA_FAILED;
}

static int answer_init(const spoa_host_api* host, spoa_instance* instance,
                       const spoa_config_entry* config, size_t nconfig, void** state, char* error,
                       size_t error_size) {
  (void)config;
  (void)nconfig;
  /* The host table outlives the instance, so it serves as the handler's user data. */
  if (host->register_message(instance, str_of("answer"), on_answer, (void*)host) != SPOA_OK) {
    snprintf(error, error_size, "cannot claim message 'answer'");
    return 1;
  }
  *state = NULL;
  return 0;
}

static void answer_shutdown(void* state) {
  (void)state;
}

static const spoa_plugin_descriptor answer_descriptor =
    SPOA_PLUGIN_DESCRIPTOR_INIT(0, "answer", "1.0.0", answer_init, answer_shutdown);

SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void) {
  return &answer_descriptor;
}
