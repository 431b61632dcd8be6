#include "ip_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace spoa::geoip {

IpAddress IpAddress::v4(const std::array<std::uint8_t, 4>& b) noexcept {
  IpAddress a;
  a.family = Family::v4;
  std::copy(b.begin(), b.end(), a.bytes.begin());
  return a;
}

IpAddress IpAddress::v6(const std::array<std::uint8_t, 16>& b) noexcept {
  IpAddress a;
  a.family = Family::v6;
  a.bytes = b;
  return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  const std::string s(text);
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.family = Family::v4;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = Family::v6;
    return a;
  }
  return std::nullopt;
}

IpAddress IpAddress::unmapped() const noexcept {
  static constexpr std::uint8_t mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (family != Family::v6 || std::memcmp(bytes.data(), mapped_prefix, 12) != 0) return *this;
  IpAddress a;
  a.family = Family::v4;
  std::copy(bytes.begin() + 12, bytes.end(), a.bytes.begin());
  return a;
}

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == Family::v4 ? AF_INET : AF_INET6, bytes.data(), text, sizeof text);
  return text;
}

std::string IpAddress::network(unsigned prefix_length) const {
  const unsigned bits = family == Family::v4 ? 32 : 128;
  prefix_length = std::min(prefix_length, bits);
  IpAddress masked = *this;
  for (unsigned i = 0; i < bits / 8; ++i) {
    const unsigned first_bit = i * 8;
    if (first_bit >= prefix_length) {
      masked.bytes[i] = 0;
    } else if (prefix_length - first_bit < 8) {
      masked.bytes[i] =
          static_cast<std::uint8_t>(masked.bytes[i] & (0xff << (8 - (prefix_length - first_bit))));
    }
  }
  return masked.to_string() + "/" + std::to_string(prefix_length);
}

}  // namespace spoa::geoip
