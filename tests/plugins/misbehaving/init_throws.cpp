// init_throws.so: a bare-C-ABI plugin whose init() lets a C++ exception escape, as a plugin
// written without spoa/plugin.hpp might. The host must catch it (the instance fails to
// start, with the exception's text) and, during a SIGHUP, keep serving and keep hearing
// signals.
#include <spoa/plugin.h>

#include <stdexcept>

namespace {

int init(const spoa_host_api*, spoa_instance*, const spoa_config_entry*, size_t, void**, char*,
         size_t) {
  throw std::runtime_error("init_throws: thrown from init()");
}

const spoa_plugin_descriptor descriptor =
    SPOA_PLUGIN_DESCRIPTOR_INIT(0, "init_throws", "0.0.0", init, nullptr);

}  // namespace

extern "C" SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void) {
  return &descriptor;
}
