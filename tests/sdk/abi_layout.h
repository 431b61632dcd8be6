/* Every size and offset of plugin.h that a plugin and the host must agree on, listed once
 * and compiled both as C99 (abi_layout.c) and as C++ (abi_layout_test.cpp): a member whose
 * layout differs between the two languages would break every C plugin silently. */
#ifndef SPOA_TESTS_ABI_LAYOUT_H
#define SPOA_TESTS_ABI_LAYOUT_H

#include <spoa/plugin.h>
#include <stddef.h>

#define SPOA_ABI_LAYOUT(X)                       \
  X(sizeof(spoa_str))                            \
  X(offsetof(spoa_str, len))                     \
  X(sizeof(spoa_value))                          \
  X(offsetof(spoa_value, u))                     \
  X(sizeof(((spoa_value*)0)->u))                 \
  X(sizeof(spoa_arg))                            \
  X(offsetof(spoa_arg, value))                   \
  X(sizeof(spoa_config_entry))                   \
  X(offsetof(spoa_config_entry, value))          \
  X(sizeof(spoa_type))                           \
  X(sizeof(spoa_scope))                          \
  X(sizeof(spoa_status))                         \
  X(sizeof(spoa_result))                         \
  X(sizeof(spoa_log_level))                      \
  X(sizeof(spoa_host_api))                       \
  X(offsetof(spoa_host_api, abi_major))          \
  X(offsetof(spoa_host_api, abi_minor))          \
  X(offsetof(spoa_host_api, log))                \
  X(offsetof(spoa_host_api, register_message))   \
  X(offsetof(spoa_host_api, set_var))            \
  X(offsetof(spoa_host_api, unset_var))          \
  X(offsetof(spoa_host_api, complete))           \
  X(sizeof(spoa_plugin_descriptor))              \
  X(offsetof(spoa_plugin_descriptor, abi_major)) \
  X(offsetof(spoa_plugin_descriptor, abi_minor)) \
  X(offsetof(spoa_plugin_descriptor, name))      \
  X(offsetof(spoa_plugin_descriptor, version))   \
  X(offsetof(spoa_plugin_descriptor, init))      \
  X(offsetof(spoa_plugin_descriptor, shutdown))

#ifdef __cplusplus
extern "C" {
#endif
extern const size_t spoa_c_layout[];
extern const size_t spoa_c_layout_count;
#ifdef __cplusplus
}
#endif

#endif
