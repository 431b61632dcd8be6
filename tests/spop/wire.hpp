#pragma once

// Test helpers: spec-style byte notation and gtest printers for codec types.

#include <cstdint>
#include <ostream>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "spop/errors.hpp"
#include "spop/value.hpp"

namespace spop::test {

using Bytes = std::vector<uint8_t>;

// Parses the notation of spop.md's worked examples, so they can be pasted verbatim:
// hex digits in pairs ("0000004e", "fc f0 06"), "quoted ASCII", and ' ' / '|' separators.
inline Bytes wire(std::string_view text) {
  Bytes out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == ' ' || c == '|' || c == '\n') {
      ++i;
    } else if (c == '"') {
      const size_t close = text.find('"', i + 1);
      if (close == std::string_view::npos) throw std::invalid_argument("unclosed quote");
      for (size_t j = i + 1; j < close; ++j)
        out.push_back(static_cast<uint8_t>(text[j]));
      i = close + 1;
    } else {
      if (i + 1 >= text.size() || nibble(c) < 0 || nibble(text[i + 1]) < 0) {
        throw std::invalid_argument("bad hex at offset " + std::to_string(i));
      }
      out.push_back(static_cast<uint8_t>(nibble(c) << 4 | nibble(text[i + 1])));
      i += 2;
    }
  }
  return out;
}

inline Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts)
    out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline std::span<const uint8_t> span_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

inline std::string_view chars(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// The worked examples of spop.md §4 and §5.
inline const Bytes& notify_example() {
  static const Bytes b = wire(
      "00 00 00 19 | 03 | 00 00 00 01 | 05 | 01 | 08 63 68 65 63 6b 2d 69 70 | 01 | 02 69 70 | "
      "06 c0 a8 00 01");
  return b;
}
inline const Bytes& ack_example() {
  static const Bytes b =
      wire("00 00 00 12 | 67 | 00 00 00 01 | 05 | 01 | 01 03 02 | 05 73 63 6f 72 65 | 03 2a");
  return b;
}
inline const Bytes& agent_hello_example() {
  static const Bytes b = wire(
      R"(00 00 00 40 65 00 00 00 01 00 00 07 "version" 08 03 "2.0" 0e "max-frame-size" 03 fc f0 06
            0c "capabilities" 08 0a "pipelining")");
  return b;
}
inline const Bytes& healthcheck_hello() {
  static const Bytes b = wire(
      R"(0000004e 01 00000001 00 00 12"supported-versions" 08 03"2.0" 0e"max-frame-size" 03 fcf006
0c"capabilities" 08 00 0b"healthcheck" 11)");
  return b;
}

}  // namespace spop::test

namespace spop {

inline void PrintTo(const Value& v, std::ostream* os) {
  *os << name_of(v.type) << "(";
  switch (v.type) {
    case DataType::null:
      break;
    case DataType::boolean:
      *os << (v.as_bool() ? "true" : "false");
      break;
    case DataType::int32:
    case DataType::int64:
      *os << v.as_int64();
      break;
    case DataType::uint32:
    case DataType::uint64:
      *os << v.as_uint64();
      break;
    default:
      *os << v.bytes.size() << " bytes";
      break;
  }
  *os << ")";
}
inline void PrintTo(Error e, std::ostream* os) {
  *os << describe(e);
}
inline void PrintTo(Status s, std::ostream* os) {
  *os << static_cast<uint32_t>(s) << " (" << describe(s) << ")";
}

}  // namespace spop
