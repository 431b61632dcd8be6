// A variable's value on its way to HAProxy: the SPOP type and the data. Strings and bytes
// are views into the database snapshot (no copy per lookup) or into `text` for values
// turned into text here (floating point, large integers, `type = "string"`).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <maxminddb.h>

namespace spoa::geoip {

// How the config asks for a variable's type.
enum class ValueType {
  automatic,  // by the MMDB type (README: "Types")
  string,     // always text
};

struct GeoValue {
  enum class Kind : std::uint8_t { boolean, int32, uint32, uint64, string, binary, ipv4, ipv6 };
  Kind kind = Kind::string;
  bool boolean = false;
  std::int32_t int32 = 0;
  std::uint32_t uint32 = 0;
  std::uint64_t uint64 = 0;
  std::string_view bytes;    // string and binary
  std::uint8_t ip[16] = {};  // ipv4 (first 4 bytes) and ipv6, network order
  // Holds the characters of a value converted to text; `bytes` then points here, so a
  // GeoValue holding its own text must not be copied (it is built in place and consumed).
  char text[48] = {};

  static GeoValue of_bool(bool v) noexcept;
  static GeoValue of_int32(std::int32_t v) noexcept;
  static GeoValue of_uint32(std::uint32_t v) noexcept;
  static GeoValue of_string(std::string_view v) noexcept;
};

// Why a data path gave no value.
enum class Conversion { ok, not_scalar };

// Converts one MMDB value (from MMDB_aget_value) as README "Types" says. A map or an
// array is no value for a variable: not_scalar.
Conversion convert(const MMDB_entry_data_s& data, ValueType type, GeoValue& out) noexcept;

// The MMDB type's name as libmaxminddb's tools write it ("utf8_string", "uint32", ...).
std::string_view mmdb_type_name(std::uint32_t mmdb_type) noexcept;

// The GeoValue kind that `convert` gives values of this MMDB type for typical values (the
// uint64/uint128 kinds turn into text above INT64_MAX), for typing a configured default.
GeoValue::Kind expected_kind(std::uint32_t mmdb_type, ValueType type) noexcept;

}  // namespace spoa::geoip
