/* The C half of misbehave.so: the handler the host sees. */
#include <spoa/plugin.h>

#include <string.h>

struct misbehave_route {
  spoa_message_handler cpp_handler;
  void* cpp_user;
};

spoa_result misbehave_raw_handler(void* user, spoa_request* request, spoa_str message,
                                  const spoa_arg* args, size_t nargs);

static int is_mode(const spoa_arg* arg, const char* mode) {
  size_t len = strlen(mode);
  return arg->name.len == 4 && memcmp(arg->name.ptr, "mode", 4) == 0 &&
         arg->value.type == SPOA_TYPE_STRING && arg->value.u.bytes.len == len &&
         memcmp(arg->value.u.bytes.ptr, mode, len) == 0;
}

spoa_result misbehave_raw_handler(void* user, spoa_request* request, spoa_str message,
                                  const spoa_arg* args, size_t nargs) {
  const struct misbehave_route* route = (const struct misbehave_route*)user;
  size_t i;
  for (i = 0; i < nargs; ++i) {
    /* plugin.h: "Any other value is treated as SPOA_FAILED". */
    if (is_mode(&args[i], "bad_return")) return (spoa_result)42;
  }
  return route->cpp_handler(route->cpp_user, request, message, args, nargs);
}
