// IP addresses and networks as the bundled plugins see them: one type for IPv4 and IPv6,
// parsed from text (lists, headers, config) or taken from SPOP values, with IPv4-mapped
// IPv6 (::ffff:a.b.c.d) folded to IPv4 so that one client never has two identities.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spoa::support {

// Big-endian integer views of addresses, the form prefix tables compare and mask.
__extension__ typedef unsigned __int128 uint128;

class IpAddress {
 public:
  enum class Family : std::uint8_t { v4, v6 };

  IpAddress() = default;  // 0.0.0.0
  static IpAddress v4(std::uint32_t host_order) noexcept;
  static IpAddress v4(const std::array<std::uint8_t, 4>& bytes) noexcept;
  // IPv4-mapped IPv6 becomes the IPv4 address it carries.
  static IpAddress v6(const std::array<std::uint8_t, 16>& bytes) noexcept;
  static IpAddress v6(uint128 value) noexcept;

  // "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" (becomes IPv4). No port, no brackets,
  // no zone id. nullopt for anything else.
  static std::optional<IpAddress> parse(std::string_view text) noexcept;

  Family family() const noexcept { return family_; }
  bool is_v4() const noexcept { return family_ == Family::v4; }
  bool is_v6() const noexcept { return family_ == Family::v6; }
  // Bits of the family: 32 or 128.
  unsigned bits() const noexcept { return is_v4() ? 32u : 128u; }

  std::uint32_t v4_value() const noexcept;  // only for is_v4()
  uint128 v6_value() const noexcept;        // only for is_v6()
  // Network-order bytes: 4 for IPv4, 16 for IPv6.
  const std::uint8_t* bytes() const noexcept { return bytes_.data(); }
  std::array<std::uint8_t, 4> v4_bytes() const noexcept;
  const std::array<std::uint8_t, 16>& v6_bytes() const noexcept { return bytes_; }

  std::string to_string() const;

  friend bool operator==(const IpAddress& a, const IpAddress& b) noexcept {
    return a.family_ == b.family_ && a.bytes_ == b.bytes_;
  }

 private:
  Family family_ = Family::v4;
  std::array<std::uint8_t, 16> bytes_{};  // IPv4 in the first 4 bytes, the rest zero
};

// A network: address with the host bits cleared, and a prefix length within its family.
struct Prefix {
  IpAddress network;
  std::uint8_t length = 0;

  // "10.0.0.0/8", "2001:db8::/32", a bare address (a /32 or /128), "::ffff:10.0.0.0/104"
  // (becomes 10.0.0.0/8). Host bits set below the length are cleared ("10.1.2.3/8" is
  // 10.0.0.0/8), as FireHOL and most list publishers expect. nullopt if malformed.
  static std::optional<Prefix> parse(std::string_view text) noexcept;
  static Prefix of(const IpAddress& address, unsigned length) noexcept;

  bool contains(const IpAddress& address) const noexcept;
  // "10.0.0.0/8"
  std::string to_string() const;

  friend bool operator==(const Prefix& a, const Prefix& b) noexcept {
    return a.length == b.length && a.network == b.network;
  }
};

}  // namespace spoa::support
