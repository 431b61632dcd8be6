/* Built "against" a minor the host does not have yet: the host must refuse it, since the
 * plugin could use table entries the host lacks. */
#include <spoa/plugin.h>

static int never_init(const spoa_host_api* host, spoa_instance* instance,
                      const spoa_config_entry* config, size_t nconfig, void** state, char* error,
                      size_t error_size) {
  (void)host, (void)instance, (void)config, (void)nconfig, (void)state, (void)error,
      (void)error_size;
  return 0;
}

static const spoa_plugin_descriptor descriptor =
    SPOA_PLUGIN_DESCRIPTOR_INIT(SPOA_ABI_MINOR + 1, "newer_minor", "0.0.0", never_init, NULL);

SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void) {
  return &descriptor;
}
