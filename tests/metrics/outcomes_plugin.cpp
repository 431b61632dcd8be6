// A test-only plugin written against the bare C ABI (no SDK wrapper), so that its handler
// can do what the wrapper never lets through: throw a C++ exception across the ABI. The
// metrics tests use it to produce every handler outcome on demand, chosen by the message's
// first argument (a string):
//   "set"      SET-VAR txn.seen = true, DONE        "unset"  UNSET-VAR txn.seen, DONE
//   "fail"     FAILED                               "bogus"  returns 7 (no spoa_result)
//   "throw"    throws std::runtime_error             anything else: DONE, no action
#include <spoa/plugin.h>

#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace {

const spoa_host_api* host = nullptr;

spoa_str str(std::string_view text) {
  return {text.data(), text.size()};
}

int32_t handle(void* /*user*/, spoa_request* request, spoa_str /*message*/, const spoa_arg* args,
               size_t nargs) {
  std::string_view mode;
  if (nargs > 0 && args[0].value.type == SPOA_TYPE_STRING) {
    mode = std::string_view(args[0].value.u.bytes.ptr, args[0].value.u.bytes.len);
  }
  if (mode == "set") {
    spoa_value value{};
    value.type = SPOA_TYPE_BOOL;
    value.u.boolean = 1;
    return host->set_var(request, SPOA_SCOPE_TXN, str("seen"), &value) == SPOA_OK ? SPOA_DONE
                                                                                  : SPOA_FAILED;
  }
  if (mode == "unset") {
    return host->unset_var(request, SPOA_SCOPE_TXN, str("seen")) == SPOA_OK ? SPOA_DONE
                                                                            : SPOA_FAILED;
  }
  if (mode == "fail") return SPOA_FAILED;
  if (mode == "bogus") return 7;
  if (mode == "throw") throw std::runtime_error("outcomes: thrown through the C ABI on purpose");
  return SPOA_DONE;
}

int init(const spoa_host_api* api, spoa_instance* instance, const spoa_config_entry*, size_t,
         void** state, char* error, size_t error_size) {
  host = api;
  *state = nullptr;
  std::vector<spoa_str> names(api->claimed_messages(instance, nullptr, 0));
  api->claimed_messages(instance, names.data(), names.size());
  for (const spoa_str& name : names) {
    if (api->register_message(instance, name, handle, nullptr) != SPOA_OK) {
      std::strncpy(error, "cannot register a message", error_size - 1);
      return 1;
    }
  }
  return 0;
}

const spoa_plugin_descriptor descriptor =
    SPOA_PLUGIN_DESCRIPTOR_INIT(SPOA_ABI_MINOR, "outcomes", "1.0", init, nullptr);

}  // namespace

extern "C" SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void) {
  return &descriptor;
}
