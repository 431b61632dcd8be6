/* Every size and offset of plugin.h that a plugin and the host must agree on, listed once
 * and compiled as C99 (abi_layout.c), as C99 with -fshort-enums (abi_layout_short_enums.c)
 * and as C++ (abi_layout_test.cpp): a member whose layout differs between the two
 * languages, or with the size of an enum, would break every C plugin silently. No enum
 * type is in the list: plugin.h keeps them out of every struct and signature (int32_t and
 * uint32_t instead), precisely so that their size does not matter. */
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
  X(sizeof(spoa_host_api))                       \
  X(offsetof(spoa_host_api, abi_major))          \
  X(offsetof(spoa_host_api, abi_minor))          \
  X(offsetof(spoa_host_api, log))                \
  X(offsetof(spoa_host_api, register_message))   \
  X(offsetof(spoa_host_api, set_var))            \
  X(offsetof(spoa_host_api, unset_var))          \
  X(offsetof(spoa_host_api, complete))           \
  X(offsetof(spoa_host_api, claimed_messages))   \
  X(offsetof(spoa_host_api, instance_name))      \
  X(offsetof(spoa_host_api, config))             \
  X(offsetof(spoa_host_api, request_context))    \
  X(offsetof(spoa_host_api, request_abandoned))  \
  X(offsetof(spoa_host_api, on_abandon))         \
  X(offsetof(spoa_host_api, define_metric))      \
  X(offsetof(spoa_host_api, metric_add))         \
  X(offsetof(spoa_host_api, metric_observe))     \
  X(offsetof(spoa_host_api, metric_set))         \
  X(offsetof(spoa_value, flags))                 \
  X(offsetof(spoa_arg, flags))                   \
  X(offsetof(spoa_arg, reserved))                \
  X(sizeof(spoa_config_value))                   \
  X(offsetof(spoa_config_value, type))           \
  X(offsetof(spoa_config_value, line))           \
  X(offsetof(spoa_config_value, column))         \
  X(offsetof(spoa_config_value, file))           \
  X(offsetof(spoa_config_value, u))              \
  X(sizeof(spoa_config_member))                  \
  X(offsetof(spoa_config_member, value))         \
  X(sizeof(spoa_metric_desc))                    \
  X(offsetof(spoa_metric_desc, kind))            \
  X(offsetof(spoa_metric_desc, max_series))      \
  X(offsetof(spoa_metric_desc, name))            \
  X(offsetof(spoa_metric_desc, help))            \
  X(offsetof(spoa_metric_desc, label_names))     \
  X(offsetof(spoa_metric_desc, nlabels))         \
  X(offsetof(spoa_metric_desc, buckets))         \
  X(offsetof(spoa_metric_desc, nbuckets))        \
  X(sizeof(spoa_request_context))                \
  X(offsetof(spoa_request_context, stream_id))   \
  X(offsetof(spoa_request_context, frame_id))    \
  X(offsetof(spoa_request_context, deadline_ns)) \
  X(offsetof(spoa_request_context, flags))       \
  X(offsetof(spoa_request_context, engine_id))   \
  X(offsetof(spoa_request_context, peer))        \
  X(sizeof(spoa_plugin_descriptor))              \
  X(offsetof(spoa_plugin_descriptor, abi_major)) \
  X(offsetof(spoa_plugin_descriptor, abi_minor)) \
  X(offsetof(spoa_plugin_descriptor, name))      \
  X(offsetof(spoa_plugin_descriptor, version))   \
  X(offsetof(spoa_plugin_descriptor, init))      \
  X(offsetof(spoa_plugin_descriptor, shutdown))  \
  X(offsetof(spoa_plugin_descriptor, sdk_minor))

/* Defines `array` (the list above as size_t) and `count` in a C file. */
#define SPOA_AS_ELEMENT(expr) (size_t)(expr),
#define SPOA_ABI_LAYOUT_DEFINE(array, count)                 \
  const size_t array[] = {SPOA_ABI_LAYOUT(SPOA_AS_ELEMENT)}; \
  const size_t count = sizeof array / sizeof array[0];

#ifdef __cplusplus
extern "C" {
#endif
extern const size_t spoa_c_layout[];
extern const size_t spoa_c_layout_count;
extern const size_t spoa_c_short_enums_layout[];
extern const size_t spoa_c_short_enums_layout_count;
/* sizeof(spoa_result) under -fshort-enums: proves that flag took effect. */
extern const size_t spoa_c_short_enums_result_size;
/* A C handler and host functions with the signatures of plugin.h (abi_layout.c): they
 * compile only if the C view of the table agrees with them. */
extern const spoa_message_handler spoa_c_handler;
extern const spoa_host_api spoa_c_table;
#ifdef __cplusplus
}
#endif

#endif
