#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

#include "spop/errors.hpp"
#include "spop/value.hpp"
#include "spop/varint.hpp"

namespace spop {

// Bounds-checked cursor over a byte range; never reads outside it. Every read either
// succeeds and advances, or fails and leaves the position where it was.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) noexcept
      : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  Error read_u8(uint8_t& out) noexcept {
    if (p_ == end_) return Error::truncated;
    out = *p_++;
    return Error::none;
  }

  Error read_u32_be(uint32_t& out) noexcept {
    if (remaining() < 4) return Error::truncated;
    out = static_cast<uint32_t>(p_[0]) << 24 | static_cast<uint32_t>(p_[1]) << 16 |
          static_cast<uint32_t>(p_[2]) << 8 | static_cast<uint32_t>(p_[3]);
    p_ += 4;
    return Error::none;
  }

  Error read_varint(uint64_t& out) noexcept { return decode_varint(p_, end_, out); }

  // Names (KV keys, message, argument and variable names) are a varint length and the
  // bytes, with no type byte (spop.md §3).
  Error read_name(std::string_view& out) noexcept {
    const uint8_t* q = p_;
    uint64_t len = 0;
    if (Error e = decode_varint(q, end_, len); e != Error::none) return e;
    if (len > static_cast<uint64_t>(end_ - q)) return Error::length_overflow;
    out = as_chars(q, static_cast<size_t>(len));
    p_ = q + len;
    return Error::none;
  }

  // Type byte (low nibble = type id, high nibble = flags, spop.md §3) then the data.
  // Flags are only meaningful for BOOL; on other types they are reserved and ignored.
  Error read_value(Value& out) noexcept {
    if (p_ == end_) return Error::truncated;
    const uint8_t type_byte = *p_;
    const uint8_t* q = p_ + 1;
    Value v;
    v.type = static_cast<DataType>(type_byte & 0x0F);
    switch (v.type) {
      case DataType::null:
        break;
      case DataType::boolean:
        // Only 0x01 / 0x11 exist on the wire; anything else in the flags is not a bool
        // HAProxy would send, and HAProxy itself reads only exactly 0x11 as true.
        if ((type_byte & 0xE0) != 0) return Error::bad_bool;
        v.integer = (type_byte & 0x10) ? 1 : 0;
        break;
      case DataType::int32:
      case DataType::uint32:
      case DataType::int64:
      case DataType::uint64:
        if (Error e = decode_varint(q, end_, v.integer); e != Error::none) return e;
        if (!in_range(v.type, v.integer)) return Error::value_out_of_range;
        break;
      case DataType::ipv4:
      case DataType::ipv6: {
        const size_t n = v.type == DataType::ipv4 ? 4 : 16;
        if (static_cast<size_t>(end_ - q) < n) return Error::truncated;
        v.bytes = as_chars(q, n);
        q += n;
        break;
      }
      case DataType::string:
      case DataType::binary: {
        uint64_t len = 0;
        if (Error e = decode_varint(q, end_, len); e != Error::none) return e;
        if (len > static_cast<uint64_t>(end_ - q)) return Error::length_overflow;
        v.bytes = as_chars(q, static_cast<size_t>(len));
        q += len;
        break;
      }
      default:
        return Error::bad_type;
    }
    out = v;
    p_ = q;
    return Error::none;
  }

  bool empty() const noexcept { return p_ == end_; }
  size_t remaining() const noexcept { return static_cast<size_t>(end_ - p_); }
  const uint8_t* position() const noexcept { return p_; }

 private:
  static std::string_view as_chars(const uint8_t* p, size_t n) noexcept {
    return {reinterpret_cast<const char*>(p), n};
  }

  // INT32 must be a sign-extended 32-bit value: HAProxy reads every integer type as a
  // 64-bit varint (spop.md §2), so 0xFFFFFFFF would be 4294967295 to it, not -1.
  static bool in_range(DataType type, uint64_t v) noexcept {
    constexpr uint64_t int32_max = std::numeric_limits<int32_t>::max();
    constexpr uint64_t int32_min =
        static_cast<uint64_t>(int64_t{std::numeric_limits<int32_t>::min()});
    switch (type) {
      case DataType::int32:
        return v <= int32_max || v >= int32_min;
      case DataType::uint32:
        return v <= std::numeric_limits<uint32_t>::max();
      default:
        return true;
    }
  }

  const uint8_t* p_;
  const uint8_t* end_;
};

}  // namespace spop
