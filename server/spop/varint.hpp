#pragma once

#include <cstddef>
#include <cstdint>

#include "spop/errors.hpp"

namespace spop {

// The "peers" varint of spop.md §2: values < 240 take one byte; otherwise the first byte
// carries 4 bits (top nibble 1111) and each following byte 7 bits, the last one < 128.
inline constexpr size_t max_varint_size = 10;

constexpr size_t varint_size(uint64_t value) noexcept {
  if (value < 240) return 1;
  size_t size = 2;
  value = (value - 240) >> 4;
  while (value >= 128) {
    value = (value - 128) >> 7;
    ++size;
  }
  return size;
}

// out must have room for varint_size(value) (at most max_varint_size) bytes.
inline size_t encode_varint(uint64_t value, uint8_t* out) noexcept {
  if (value < 240) {
    out[0] = static_cast<uint8_t>(value);
    return 1;
  }
  size_t n = 0;
  out[n++] = static_cast<uint8_t>(value | 0xF0);
  value = (value - 240) >> 4;
  while (value >= 128) {
    out[n++] = static_cast<uint8_t>(value | 0x80);
    value = (value - 128) >> 7;
  }
  out[n++] = static_cast<uint8_t>(value);
  return n;
}

// Decodes one varint from [p, end). On success advances p. Arithmetic is mod 2^64 as in
// HAProxy, but an 11th byte is refused: HAProxy does not check, and here the shift would
// reach 67 bits (spop.md §2).
inline Error decode_varint(const uint8_t*& p, const uint8_t* end, uint64_t& value) noexcept {
  if (p == end) return Error::truncated_varint;
  const uint8_t* q = p;
  uint64_t v = *q++;
  if (v >= 240) {
    unsigned shift = 4;
    for (;;) {
      if (q == end) return Error::truncated_varint;
      const uint8_t b = *q++;
      v += static_cast<uint64_t>(b) << shift;
      if (b < 128) break;
      if (q - p == static_cast<std::ptrdiff_t>(max_varint_size)) return Error::varint_too_long;
      shift += 7;
    }
  }
  value = v;
  p = q;
  return Error::none;
}

}  // namespace spop
