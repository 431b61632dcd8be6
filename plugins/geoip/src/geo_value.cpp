#include "geo_value.hpp"

#include <charconv>
#include <cstring>
#include <limits>

namespace spoa::geoip {

GeoValue GeoValue::of_bool(bool v) noexcept {
  GeoValue g;
  g.kind = Kind::boolean;
  g.boolean = v;
  return g;
}
GeoValue GeoValue::of_int32(std::int32_t v) noexcept {
  GeoValue g;
  g.kind = Kind::int32;
  g.int32 = v;
  return g;
}
GeoValue GeoValue::of_uint32(std::uint32_t v) noexcept {
  GeoValue g;
  g.kind = Kind::uint32;
  g.uint32 = v;
  return g;
}
GeoValue GeoValue::of_string(std::string_view v) noexcept {
  GeoValue g;
  g.kind = Kind::string;
  g.bytes = v;
  return g;
}

namespace {

void set_text(GeoValue& out, const char* end) noexcept {
  out.kind = GeoValue::Kind::string;
  out.bytes = std::string_view(out.text, static_cast<std::size_t>(end - out.text));
}

template <class T>
void integer_text(GeoValue& out, T v) noexcept {
  const auto r = std::to_chars(out.text, out.text + sizeof out.text, v);
  set_text(out, r.ptr);
}

// Shortest text that reads back as the same value ("52.5244", not "52.524400").
template <class T>
void float_text(GeoValue& out, T v) noexcept {
  const auto r = std::to_chars(out.text, out.text + sizeof out.text, v);
  set_text(out, r.ec == std::errc() ? r.ptr : out.text);
}

// 2^128 - 1 has 39 digits; the buffer has 48.
void uint128_text(GeoValue& out, mmdb_uint128_t v) noexcept {
  char reversed[48];
  std::size_t n = 0;
  do {
    reversed[n++] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  for (std::size_t i = 0; i < n; ++i)
    out.text[i] = reversed[n - 1 - i];
  set_text(out, out.text + n);
}

// HAProxy keeps every integer as a signed 64-bit value: an unsigned one above INT64_MAX
// would arrive negative, so those travel as decimal text.
void unsigned_value(GeoValue& out, mmdb_uint128_t v, ValueType type) noexcept {
  if (type == ValueType::automatic &&
      v <= static_cast<mmdb_uint128_t>(std::numeric_limits<std::int64_t>::max())) {
    out.kind = GeoValue::Kind::uint64;
    out.uint64 = static_cast<std::uint64_t>(v);
    return;
  }
  uint128_text(out, v);
}

mmdb_uint128_t uint128_of(const MMDB_entry_data_s& data) noexcept {
#if MMDB_UINT128_IS_BYTE_ARRAY
  mmdb_uint128_t v = 0;
  for (std::uint8_t b : data.uint128)
    v = (v << 8) | b;
  return v;
#else
  return data.uint128;
#endif
}

}  // namespace

Conversion convert(const MMDB_entry_data_s& data, ValueType type, GeoValue& out) noexcept {
  const bool as_text = type == ValueType::string;
  switch (data.type) {
    case MMDB_DATA_TYPE_UTF8_STRING:
      out.kind = GeoValue::Kind::string;
      out.bytes = std::string_view(data.utf8_string, data.data_size);
      return Conversion::ok;
    case MMDB_DATA_TYPE_BYTES:
      if (as_text) {
        // Hex, two digits a byte; longer values are cut (a variable of text is meant for
        // identifiers, not blobs).
        static constexpr char digits[] = "0123456789abcdef";
        std::size_t n = 0;
        for (std::uint32_t i = 0; i < data.data_size && n + 2 <= sizeof out.text; ++i) {
          out.text[n++] = digits[data.bytes[i] >> 4];
          out.text[n++] = digits[data.bytes[i] & 15];
        }
        set_text(out, out.text + n);
        return Conversion::ok;
      }
      out.kind = GeoValue::Kind::binary;
      out.bytes = std::string_view(reinterpret_cast<const char*>(data.bytes), data.data_size);
      return Conversion::ok;
    case MMDB_DATA_TYPE_DOUBLE:
      float_text(out, data.double_value);
      return Conversion::ok;
    case MMDB_DATA_TYPE_FLOAT:
      float_text(out, data.float_value);
      return Conversion::ok;
    case MMDB_DATA_TYPE_UINT16:
      if (as_text) {
        integer_text(out, data.uint16);
      } else {
        out.kind = GeoValue::Kind::uint32;
        out.uint32 = data.uint16;
      }
      return Conversion::ok;
    case MMDB_DATA_TYPE_UINT32:
      if (as_text) {
        integer_text(out, data.uint32);
      } else {
        out.kind = GeoValue::Kind::uint32;
        out.uint32 = data.uint32;
      }
      return Conversion::ok;
    case MMDB_DATA_TYPE_INT32:
      if (as_text) {
        integer_text(out, data.int32);
      } else {
        out.kind = GeoValue::Kind::int32;
        out.int32 = data.int32;
      }
      return Conversion::ok;
    case MMDB_DATA_TYPE_UINT64:
      unsigned_value(out, data.uint64, type);
      return Conversion::ok;
    case MMDB_DATA_TYPE_UINT128:
      unsigned_value(out, uint128_of(data), type);
      return Conversion::ok;
    case MMDB_DATA_TYPE_BOOLEAN:
      if (as_text) {
        const std::string_view t = data.boolean ? "true" : "false";
        std::memcpy(out.text, t.data(), t.size());
        set_text(out, out.text + t.size());
      } else {
        out.kind = GeoValue::Kind::boolean;
        out.boolean = data.boolean;
      }
      return Conversion::ok;
    default:  // map, array (and the internal pointer/container/end-marker types)
      return Conversion::not_scalar;
  }
}

std::string_view mmdb_type_name(std::uint32_t mmdb_type) noexcept {
  switch (mmdb_type) {
    case MMDB_DATA_TYPE_UTF8_STRING:
      return "utf8_string";
    case MMDB_DATA_TYPE_DOUBLE:
      return "double";
    case MMDB_DATA_TYPE_BYTES:
      return "bytes";
    case MMDB_DATA_TYPE_UINT16:
      return "uint16";
    case MMDB_DATA_TYPE_UINT32:
      return "uint32";
    case MMDB_DATA_TYPE_MAP:
      return "map";
    case MMDB_DATA_TYPE_INT32:
      return "int32";
    case MMDB_DATA_TYPE_UINT64:
      return "uint64";
    case MMDB_DATA_TYPE_UINT128:
      return "uint128";
    case MMDB_DATA_TYPE_ARRAY:
      return "array";
    case MMDB_DATA_TYPE_BOOLEAN:
      return "boolean";
    case MMDB_DATA_TYPE_FLOAT:
      return "float";
    default:
      return "unknown";
  }
}

GeoValue::Kind expected_kind(std::uint32_t mmdb_type, ValueType type) noexcept {
  if (type == ValueType::string) return GeoValue::Kind::string;
  switch (mmdb_type) {
    case MMDB_DATA_TYPE_BYTES:
      return GeoValue::Kind::binary;
    case MMDB_DATA_TYPE_UINT16:
    case MMDB_DATA_TYPE_UINT32:
      return GeoValue::Kind::uint32;
    case MMDB_DATA_TYPE_INT32:
      return GeoValue::Kind::int32;
    case MMDB_DATA_TYPE_UINT64:
    case MMDB_DATA_TYPE_UINT128:
      return GeoValue::Kind::uint64;
    case MMDB_DATA_TYPE_BOOLEAN:
      return GeoValue::Kind::boolean;
    default:
      return GeoValue::Kind::string;
  }
}

}  // namespace spoa::geoip
