#pragma once

#include <cstdint>
#include <limits>
#include <string_view>

#include "spop/errors.hpp"
#include "spop/value.hpp"
#include "spop/writer.hpp"

// KV-lists (spop.md §4): HELLO and DISCONNECT payloads, `name` `typed-data` until the end.
namespace spop::kv {

constexpr size_t item_size(std::string_view key, const Value& v) noexcept {
  return name_size(key) + encoded_size(v);
}

inline void put(Writer& w, std::string_view key, const Value& v) noexcept {
  w.name(key);
  w.value(v);
}

// HAProxy accepts any of the four integer types for its numeric keys (§5, §7); so do we,
// as long as the value fits in 32 unsigned bits.
inline Error to_u32(const Value& v, uint32_t& out) noexcept {
  if (!v.is_integer()) return Error::wrong_value_type;
  const bool is_signed = v.type == DataType::int32 || v.type == DataType::int64;
  if (is_signed && v.as_int64() < 0) return Error::value_out_of_range;
  if (v.integer > std::numeric_limits<uint32_t>::max()) return Error::value_out_of_range;
  out = static_cast<uint32_t>(v.integer);
  return Error::none;
}

inline Error to_string(const Value& v, std::string_view& out) noexcept {
  if (v.type != DataType::string) return Error::wrong_value_type;
  out = v.bytes;
  return Error::none;
}

inline Error to_bool(const Value& v, bool& out) noexcept {
  if (v.type != DataType::boolean) return Error::wrong_value_type;
  out = v.as_bool();
  return Error::none;
}

}  // namespace spop::kv
