/* Claims ABI major 2 behind the v1 entry symbol: the host must refuse to load it and say
 * which major it was built for. */
#include <spoa/plugin.h>

static int never_init(const spoa_host_api* host, spoa_instance* instance,
                      const spoa_config_entry* config, size_t nconfig, void** state, char* error,
                      size_t error_size) {
  (void)host, (void)instance, (void)config, (void)nconfig, (void)state, (void)error,
      (void)error_size;
  return 0;
}

static const spoa_plugin_descriptor descriptor = {
    sizeof(spoa_plugin_descriptor), 2, 0, "wrong_major", "0.0.0", never_init, NULL, 0, 0};

SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void) {
  return &descriptor;
}
