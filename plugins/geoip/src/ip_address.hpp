// An IPv4 or IPv6 address as SPOP carries it (network byte order), the only input a lookup
// needs. Kept separate from the client-address policy (trusted proxies, forwarded headers),
// which decides *which* address to look up.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spoa::geoip {

struct IpAddress {
  enum class Family : std::uint8_t { v4, v6 };
  Family family = Family::v4;
  // v4 uses the first 4 bytes.
  std::array<std::uint8_t, 16> bytes{};

  static IpAddress v4(const std::array<std::uint8_t, 4>& b) noexcept;
  static IpAddress v6(const std::array<std::uint8_t, 16>& b) noexcept;
  // "192.0.2.1", "2001:db8::1"; nullopt if it is neither.
  static std::optional<IpAddress> parse(std::string_view text);

  // ::ffff:a.b.c.d becomes a.b.c.d: one answer for one client, whichever way HAProxy
  // (or a dual-stack listener) presents it.
  IpAddress unmapped() const noexcept;
  std::string to_string() const;
  // The network of `prefix_length` bits that contains this address, as "a.b.c.d/n".
  std::string network(unsigned prefix_length) const;
};

}  // namespace spoa::geoip
