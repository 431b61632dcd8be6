#include "spoa/support/ip_address.hpp"

#include <arpa/inet.h>

#include <bit>
#include <charconv>
#include <cstring>

namespace spoa::support {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_v4_mapped(const std::array<std::uint8_t, 16>& b) noexcept {
  return std::memcmp(b.data(), kMappedPrefix.data(), kMappedPrefix.size()) == 0;
}

// inet_pton needs a NUL-terminated string; addresses are short, so a stack copy will do.
template <std::size_t N>
bool copy_terminated(std::string_view text, char (&out)[N]) noexcept {
  if (text.empty() || text.size() >= N) return false;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return true;
}

// Network-order bytes to and from the integer view: two 64-bit loads or stores, not 16 byte
// steps (the IPv6 lookup of iprep and geoip runs this per request).
std::uint64_t to_big_endian(std::uint64_t v) noexcept {
  if constexpr (std::endian::native == std::endian::little) return __builtin_bswap64(v);
  return v;
}

uint128 load_v6(const std::uint8_t* bytes) noexcept {
  std::uint64_t high = 0, low = 0;
  std::memcpy(&high, bytes, 8);
  std::memcpy(&low, bytes + 8, 8);
  return (uint128{to_big_endian(high)} << 64) | to_big_endian(low);
}

std::array<std::uint8_t, 16> store_v6(uint128 value) noexcept {
  const std::uint64_t high = to_big_endian(static_cast<std::uint64_t>(value >> 64));
  const std::uint64_t low = to_big_endian(static_cast<std::uint64_t>(value));
  std::array<std::uint8_t, 16> b{};
  std::memcpy(b.data(), &high, 8);
  std::memcpy(b.data() + 8, &low, 8);
  return b;
}

uint128 v6_mask(unsigned length) noexcept {
  return length == 0 ? uint128{0} : ~uint128{0} << (128 - length);
}

}  // namespace

IpAddress IpAddress::v4(std::uint32_t host_order) noexcept {
  IpAddress a;
  a.family_ = Family::v4;
  a.bytes_[0] = static_cast<std::uint8_t>(host_order >> 24);
  a.bytes_[1] = static_cast<std::uint8_t>(host_order >> 16);
  a.bytes_[2] = static_cast<std::uint8_t>(host_order >> 8);
  a.bytes_[3] = static_cast<std::uint8_t>(host_order);
  return a;
}

IpAddress IpAddress::v4(const std::array<std::uint8_t, 4>& bytes) noexcept {
  IpAddress a;
  a.family_ = Family::v4;
  std::memcpy(a.bytes_.data(), bytes.data(), 4);
  return a;
}

IpAddress IpAddress::v6(const std::array<std::uint8_t, 16>& bytes) noexcept {
  if (is_v4_mapped(bytes))
    return v4(std::array<std::uint8_t, 4>{bytes[12], bytes[13], bytes[14], bytes[15]});
  IpAddress a;
  a.family_ = Family::v6;
  a.bytes_ = bytes;
  return a;
}

IpAddress IpAddress::v6(uint128 value) noexcept {
  return v6(store_v6(value));
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) noexcept {
  char buffer[INET6_ADDRSTRLEN + 1];
  if (!copy_terminated(text, buffer)) return std::nullopt;
  if (text.find(':') == std::string_view::npos) {
    std::array<std::uint8_t, 4> b{};
    if (inet_pton(AF_INET, buffer, b.data()) != 1) return std::nullopt;
    return v4(b);
  }
  std::array<std::uint8_t, 16> b{};
  if (inet_pton(AF_INET6, buffer, b.data()) != 1) return std::nullopt;
  return v6(b);
}

std::uint32_t IpAddress::v4_value() const noexcept {
  return (std::uint32_t{bytes_[0]} << 24) | (std::uint32_t{bytes_[1]} << 16) |
         (std::uint32_t{bytes_[2]} << 8) | std::uint32_t{bytes_[3]};
}

uint128 IpAddress::v6_value() const noexcept {
  return load_v6(bytes_.data());
}

std::array<std::uint8_t, 4> IpAddress::v4_bytes() const noexcept {
  return {bytes_[0], bytes_[1], bytes_[2], bytes_[3]};
}

std::string IpAddress::to_string() const {
  char buffer[INET6_ADDRSTRLEN];
  const char* r = inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buffer, sizeof buffer);
  return r == nullptr ? std::string() : std::string(r);
}

Prefix Prefix::of(const IpAddress& address, unsigned length) noexcept {
  Prefix p;
  const unsigned bits = address.bits();
  if (length > bits) length = bits;
  p.length = static_cast<std::uint8_t>(length);
  if (address.is_v4()) {
    const std::uint32_t mask = length == 0 ? 0u : ~std::uint32_t{0} << (32 - length);
    p.network = IpAddress::v4(address.v4_value() & mask);
  } else {
    // Cannot fold into IPv4: the address itself is not mapped (IpAddress folds those), and
    // masking only clears bits.
    p.network = IpAddress::v6(store_v6(address.v6_value() & v6_mask(length)));
  }
  return p;
}

std::optional<Prefix> Prefix::parse(std::string_view text) noexcept {
  const std::size_t slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  // Parse the address without folding first: "::ffff:10.0.0.0/104" must shift the length.
  char buffer[INET6_ADDRSTRLEN + 1];
  if (!copy_terminated(address_text, buffer)) return std::nullopt;
  const bool v6_text = address_text.find(':') != std::string_view::npos;
  std::array<std::uint8_t, 16> raw{};
  if (inet_pton(v6_text ? AF_INET6 : AF_INET, buffer, raw.data()) != 1) return std::nullopt;
  const unsigned text_bits = v6_text ? 128u : 32u;
  unsigned length = text_bits;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (ec != std::errc() || end != digits.data() + digits.size() || length > text_bits)
      return std::nullopt;
  }
  if (!v6_text) {
    return of(IpAddress::v4(std::array<std::uint8_t, 4>{raw[0], raw[1], raw[2], raw[3]}), length);
  }
  if (is_v4_mapped(raw) && length >= 96) {
    return of(IpAddress::v4(std::array<std::uint8_t, 4>{raw[12], raw[13], raw[14], raw[15]}),
              length - 96);
  }
  // A network shorter than /96 that covers the mapped range stays IPv6 (it is not IPv4).
  IpAddress a;
  {
    // Bypass the folding of IpAddress::v6 for the unmasked value: mask first.
    a = IpAddress::v6(store_v6(load_v6(raw.data()) & v6_mask(length)));
    if (a.is_v4()) return std::nullopt;  // unreachable: length < 96 clears the ffff marker
  }
  Prefix p;
  p.network = a;
  p.length = static_cast<std::uint8_t>(length);
  return p;
}

bool Prefix::contains(const IpAddress& address) const noexcept {
  if (address.family() != network.family()) return false;
  return Prefix::of(address, length).network == network;
}

std::string Prefix::to_string() const {
  return network.to_string() + "/" + std::to_string(length);
}

}  // namespace spoa::support
