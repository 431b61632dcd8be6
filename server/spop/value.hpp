#pragma once

#include <cstdint>
#include <string_view>

#include "spop/types.hpp"

namespace spop {

// A typed value (spop.md §3). Decoded values are views into the caller's buffer: they
// live as long as that buffer does. Constructed values view the caller's bytes likewise.
struct Value {
  DataType type = DataType::null;
  // bool (0/1), int32/int64 as two's complement sign-extended to 64 bits, uint32/uint64.
  uint64_t integer = 0;
  // ipv4 (4 bytes, network order), ipv6 (16), string, binary.
  std::string_view bytes;

  static constexpr Value null() noexcept { return {}; }
  static constexpr Value boolean(bool v) noexcept { return {DataType::boolean, v ? 1u : 0u, {}}; }
  static constexpr Value int32(int32_t v) noexcept {
    return {DataType::int32, static_cast<uint64_t>(static_cast<int64_t>(v)), {}};
  }
  static constexpr Value uint32(uint32_t v) noexcept { return {DataType::uint32, v, {}}; }
  static constexpr Value int64(int64_t v) noexcept {
    return {DataType::int64, static_cast<uint64_t>(v), {}};
  }
  static constexpr Value uint64(uint64_t v) noexcept { return {DataType::uint64, v, {}}; }
  // The encoders refuse (Error::bad_value) an address of the wrong length.
  static constexpr Value ipv4(std::string_view four_bytes) noexcept {
    return {DataType::ipv4, 0, four_bytes};
  }
  static constexpr Value ipv6(std::string_view sixteen_bytes) noexcept {
    return {DataType::ipv6, 0, sixteen_bytes};
  }
  static constexpr Value string(std::string_view v) noexcept { return {DataType::string, 0, v}; }
  static constexpr Value binary(std::string_view v) noexcept { return {DataType::binary, 0, v}; }

  constexpr int64_t as_int64() const noexcept { return static_cast<int64_t>(integer); }
  constexpr uint64_t as_uint64() const noexcept { return integer; }
  constexpr bool as_bool() const noexcept { return integer != 0; }

  constexpr bool is_integer() const noexcept {
    return type == DataType::int32 || type == DataType::uint32 || type == DataType::int64 ||
           type == DataType::uint64;
  }
};

// Same type and same content; fields a type does not use are ignored.
bool operator==(const Value& a, const Value& b) noexcept;

std::string_view name_of(DataType) noexcept;

}  // namespace spop
