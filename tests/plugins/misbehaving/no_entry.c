/* A shared object without spoa_plugin_entry_v1: what a typo in the entry name, or a
 * library that is not a plugin at all, looks like to the host. */
#include <spoa/plugin.h>

SPOA_PLUGIN_EXPORT int spoa_plugin_entry(void);
SPOA_PLUGIN_EXPORT int spoa_plugin_entry(void) {
  return 0;
}
