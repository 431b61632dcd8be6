/* A plugin whose init() refuses to start unless its config has the key `required`: the
 * host must report the reason written into `error` and not start the instance. */
#include <spoa/plugin.h>

#include <stdio.h>
#include <string.h>

static int init_fails_init(const spoa_host_api* host, spoa_instance* instance,
                           const spoa_config_entry* config, size_t nconfig, void** state,
                           char* error, size_t error_size) {
  size_t i;
  (void)host, (void)instance;
  for (i = 0; i < nconfig; ++i) {
    if (config[i].key.len == 8 && memcmp(config[i].key.ptr, "required", 8) == 0) {
      *state = NULL;
      return 0;
    }
  }
  snprintf(error, error_size, "refusing to start: config key 'required' is missing");
  return 1;
}

static const spoa_plugin_descriptor descriptor =
    SPOA_PLUGIN_DESCRIPTOR_INIT(SPOA_ABI_MINOR, "init_fails", "0.0.0", init_fails_init, NULL);

SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void) {
  return &descriptor;
}
