#include "header_block.hpp"

#include <cstdint>

namespace spoa::waf {
namespace {

// HAProxy's varint (spop.md section 2). Returns nullopt when the bytes end mid-number or
// the value does not fit 64 bits.
std::optional<std::uint64_t> read_varint(std::string_view data, std::size_t& pos) {
  if (pos >= data.size()) return std::nullopt;
  std::uint64_t value = static_cast<unsigned char>(data[pos++]);
  if (value < 240) return value;
  unsigned shift = 4;
  for (;;) {
    if (pos >= data.size() || shift > 63) return std::nullopt;
    const std::uint64_t byte = static_cast<unsigned char>(data[pos++]);
    value += byte << shift;
    shift += 7;
    if (byte < 128) return value;
  }
}

std::optional<std::string_view> read_string(std::string_view data, std::size_t& pos) {
  const auto length = read_varint(data, pos);
  if (!length || *length > data.size() - pos) return std::nullopt;
  const std::string_view s = data.substr(pos, static_cast<std::size_t>(*length));
  pos += s.size();
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

void keep(HeaderList& out, std::size_t limit, std::string_view name, std::string_view value) {
  if (out.headers.size() >= limit) {
    out.truncated = true;
    return;
  }
  out.headers.push_back(Header{std::string(name), std::string(value)});
  out.bytes += name.size() + value.size();
}

}  // namespace

std::string encode_varint(std::uint64_t value) {
  std::string out;
  if (value < 240) return std::string(1, static_cast<char>(value));
  out += static_cast<char>((value | 0xF0) & 0xFF);
  value = (value - 240) >> 4;
  while (value >= 128) {
    out += static_cast<char>((value | 0x80) & 0xFF);
    value = (value - 128) >> 7;
  }
  out += static_cast<char>(value);
  return out;
}

std::string encode_binary_headers(const std::vector<Header>& headers) {
  std::string out;
  for (const Header& h : headers)
    out += encode_varint(h.name.size()) + h.name + encode_varint(h.value.size()) + h.value;
  return out + std::string("\0\0", 2);
}

std::optional<HeaderError> decode_binary_headers(std::string_view block, std::size_t limit,
                                                 HeaderList& out) {
  std::size_t pos = 0;
  while (pos < block.size()) {
    const std::size_t at = pos;
    const auto name = read_string(block, pos);
    if (!name)
      return HeaderError{"header name length at byte " + std::to_string(at) +
                         " runs past the end of the " + std::to_string(block.size()) +
                         "-byte block"};
    const std::size_t value_at = pos;
    const auto value = read_string(block, pos);
    if (!value)
      return HeaderError{"header value length at byte " + std::to_string(value_at) +
                         " runs past the end of the " + std::to_string(block.size()) +
                         "-byte block"};
    if (name->empty()) {
      if (!value->empty())
        return HeaderError{"header with an empty name at byte " + std::to_string(at)};
      return std::nullopt;  // the terminator; anything after it is not headers
    }
    keep(out, limit, *name, *value);
  }
  return std::nullopt;
}

std::optional<HeaderError> decode_text_headers(std::string_view block, std::size_t limit,
                                               HeaderList& out) {
  std::size_t line_number = 0;
  while (!block.empty()) {
    const std::size_t end = block.find('\n');
    std::string_view line = block.substr(0, end);
    block = end == std::string_view::npos ? std::string_view() : block.substr(end + 1);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return HeaderError{"header line " + std::to_string(line_number) + " has no 'name:'"};
    keep(out, limit, trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return std::nullopt;
}

}  // namespace spoa::waf
