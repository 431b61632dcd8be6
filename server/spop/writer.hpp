#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "spop/errors.hpp"
#include "spop/types.hpp"
#include "spop/value.hpp"
#include "spop/varint.hpp"

namespace spop {

// What an encoder wrote: size counts every byte including the 4 LEN bytes. On error size
// is 0 and the caller's buffer holds no complete frame.
struct EncodeResult {
  Error error = Error::none;
  size_t size = 0;
};

// Bytes the typed value takes on the wire (type byte included); 0 if it cannot be
// encoded (reserved type, IPv4/IPv6 of the wrong length).
constexpr size_t encoded_size(const Value& v) noexcept {
  switch (v.type) {
    case DataType::null:
    case DataType::boolean:
      return 1;
    case DataType::int32:
    case DataType::uint32:
    case DataType::int64:
    case DataType::uint64:
      return 1 + varint_size(v.integer);
    case DataType::ipv4:
      return v.bytes.size() == 4 ? 5 : 0;
    case DataType::ipv6:
      return v.bytes.size() == 16 ? 17 : 0;
    case DataType::string:
    case DataType::binary:
      return 1 + varint_size(v.bytes.size()) + v.bytes.size();
  }
  return 0;
}

// A name is a varint length and the bytes, no type byte (spop.md §3).
constexpr size_t name_size(std::string_view name) noexcept {
  return varint_size(name.size()) + name.size();
}

// Bytes before the payload, LEN included (spop.md §1).
constexpr size_t frame_header_size(uint64_t stream_id, uint64_t frame_id) noexcept {
  return 4 + 1 + 4 + varint_size(stream_id) + varint_size(frame_id);
}
inline constexpr size_t max_frame_header_size = 4 + 1 + 4 + 2 * max_varint_size;

// Output cursor. The put functions do not check for room: callers size what they write
// first (encoded_size, name_size, ...) and refuse before writing anything, so a failed
// encode never leaves half a frame behind.
class Writer {
 public:
  explicit Writer(std::span<uint8_t> out) noexcept
      : begin_(out.data()), p_(out.data()), end_(out.data() + out.size()) {}

  size_t size() const noexcept { return static_cast<size_t>(p_ - begin_); }
  size_t room() const noexcept { return static_cast<size_t>(end_ - p_); }
  uint8_t* begin() const noexcept { return begin_; }

  void u8(uint8_t v) noexcept { *p_++ = v; }
  void u32_be(uint32_t v) noexcept {
    store_u32_be(p_, v);
    p_ += 4;
  }
  void varint(uint64_t v) noexcept { p_ += encode_varint(v, p_); }
  void raw(const void* data, size_t n) noexcept {
    if (n != 0) std::memcpy(p_, data, n);
    p_ += n;
  }
  void name(std::string_view s) noexcept {
    varint(s.size());
    raw(s.data(), s.size());
  }
  // v must be encodable (encoded_size(v) != 0).
  void value(const Value& v) noexcept {
    switch (v.type) {
      case DataType::null:
        u8(0x00);
        break;
      case DataType::boolean:
        // The value lives in flag bit 4; HAProxy reads only exactly 0x11 as true (§3).
        u8(v.integer != 0 ? 0x11 : 0x01);
        break;
      case DataType::int32:
      case DataType::uint32:
      case DataType::int64:
      case DataType::uint64:
        u8(static_cast<uint8_t>(v.type));
        varint(v.integer);
        break;
      case DataType::ipv4:
      case DataType::ipv6:
        u8(static_cast<uint8_t>(v.type));
        raw(v.bytes.data(), v.bytes.size());
        break;
      case DataType::string:
      case DataType::binary:
        // STRING must be exactly 0x08: HAProxy compares the whole byte (§3).
        u8(static_cast<uint8_t>(v.type));
        name(v.bytes);
        break;
    }
  }
  // LEN is written as 0 and patched by patch_len(): until then a reader sees LEN < 7, an
  // invalid frame, never a shorter complete one.
  void frame_header(FrameType type, uint32_t flags, uint64_t stream_id,
                    uint64_t frame_id) noexcept {
    u32_be(0);
    u8(static_cast<uint8_t>(type));
    u32_be(flags);
    varint(stream_id);
    varint(frame_id);
  }
  // Sets LEN from everything written since the start of the buffer.
  void patch_len() noexcept { store_u32_be(begin_, static_cast<uint32_t>(size() - 4)); }

  static void store_u32_be(uint8_t* p, uint32_t v) noexcept {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
  }

 private:
  uint8_t* begin_;
  uint8_t* p_;
  uint8_t* end_;
};

// Whether a frame of LEN `len` may be written: the max frame size is checked first, as it
// is the protocol limit; then the caller's buffer.
constexpr Error check_frame_fits(uint64_t len, uint64_t max_frame_size, size_t out_size) noexcept {
  if (len > max_frame_size) return Error::exceeds_max_frame_size;
  if (len > out_size || out_size - len < 4) return Error::output_too_small;
  return Error::none;
}

}  // namespace spop
