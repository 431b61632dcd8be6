#pragma once
// The argument layout of plugin.h 1.0, for plugins built against that header: they index
// `args` with the 40-byte spoa_arg of 1.0, so the host hands them that layout (plugin.h
// 1.1 grew spoa_value and spoa_arg). Values a 1.0 plugin hands out need no conversion:
// type and union start at the same offsets in both layouts, and the host never reads the
// bytes 1.1 added.
#include <spoa/plugin.h>

#include <cstddef>
#include <cstring>

namespace spoa::host {

struct LegacyValue {
  uint32_t type;
  union {
    uint64_t align;
    uint8_t bytes[16];
  } u;
};
struct LegacyArg {
  spoa_str name;
  LegacyValue value;
};
static_assert(sizeof(LegacyValue) == 24 && sizeof(LegacyArg) == 40, "the 1.0 layout");
static_assert(offsetof(spoa_value, u) == offsetof(LegacyValue, u) &&
                  offsetof(spoa_arg, value) == offsetof(LegacyArg, value),
              "1.1 keeps the offsets a 1.0 plugin reads and writes");

// The size a plugin built against plugin.h 1.0 gives its descriptor.
inline constexpr size_t descriptor_1_0_size =
    offsetof(spoa_plugin_descriptor, shutdown) + sizeof(spoa_shutdown_fn);

inline LegacyArg to_legacy(const spoa_arg& arg) noexcept {
  LegacyArg out{};
  out.name = arg.name;
  out.value.type = arg.value.type;
  std::memcpy(out.value.u.bytes, &arg.value.u, sizeof out.value.u.bytes);
  return out;
}

}  // namespace spoa::host
