/* plugin.h as a C99 compiler sees it (built with -std=c99 -pedantic -Werror). */
#include "abi_layout.h"

#include <stdint.h>

SPOA_ABI_LAYOUT_DEFINE(spoa_c_layout, spoa_c_layout_count)

/* Every function of the ABI, written in C with plugin.h's int32_t signatures. A mismatch
 * is an "incompatible pointer type" error under -Werror. The handler returns 42, which
 * is no spoa_result: plugin.h says the host treats it as SPOA_FAILED. */
static int32_t c_handler(void* user, spoa_request* request, spoa_str message, const spoa_arg* args,
                         size_t nargs) {
  (void)user, (void)request, (void)message, (void)args, (void)nargs;
  return 42;
}
static void c_log(spoa_instance* instance, int32_t level, spoa_str text) {
  (void)instance, (void)level, (void)text;
}
static int32_t c_register(spoa_instance* instance, spoa_str name, spoa_message_handler handler,
                          void* user) {
  (void)instance, (void)name, (void)handler, (void)user;
  return SPOA_OK;
}
static int32_t c_set_var(spoa_request* request, int32_t scope, spoa_str name,
                         const spoa_value* value) {
  (void)request, (void)scope, (void)name, (void)value;
  return SPOA_OK;
}
static int32_t c_unset_var(spoa_request* request, int32_t scope, spoa_str name) {
  (void)request, (void)scope, (void)name;
  return SPOA_OK;
}
static int32_t c_complete(spoa_request* request, int32_t result) {
  (void)request, (void)result;
  return SPOA_OK;
}
static size_t c_claimed_messages(spoa_instance* instance, spoa_str* names, size_t capacity) {
  (void)instance, (void)names, (void)capacity;
  return 0;
}

const spoa_message_handler spoa_c_handler = c_handler;
/* Designated: a 1.1 table has more entries than this test needs. */
const spoa_host_api spoa_c_table = {.struct_size = sizeof(spoa_host_api),
                                    .abi_major = SPOA_ABI_MAJOR,
                                    .abi_minor = SPOA_ABI_MINOR,
                                    .log = c_log,
                                    .register_message = c_register,
                                    .set_var = c_set_var,
                                    .unset_var = c_unset_var,
                                    .complete = c_complete,
                                    .claimed_messages = c_claimed_messages};
