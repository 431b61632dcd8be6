// Which address a request is judged by. HAProxy's `src` is the peer of the connection;
// behind a load balancer or CDN that peer is a proxy, and the client is in the
// X-Forwarded-For or Forwarded header. Only proxies the operator trusts may speak for a
// client, so the header is walked from its right end (the hop nearest to HAProxy, the one
// that cannot be forged by the client) leftwards while each hop is a trusted proxy, at
// most `hop_limit` entries; the first untrusted address is the client.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spoa/support/ip_address.hpp"

namespace spoa::support {

enum class ForwardedHeader {
  none,             // judge `src` alone
  x_forwarded_for,  // "client, proxy1, proxy2"
  forwarded,        // RFC 7239: for=client;proto=https, for="[2001:db8::1]:443"
};

// "none", "x-forwarded-for", "forwarded"; nullopt otherwise.
std::optional<ForwardedHeader> parse_forwarded_header(std::string_view text) noexcept;

// A small list of networks (trusted proxies), checked linearly: it holds a handful of
// entries and is consulted a few times per request.
class NetworkList {
 public:
  // Each entry as Prefix::parse takes it; throws std::invalid_argument naming the entry.
  static NetworkList parse(const std::vector<std::string_view>& entries);
  void add(const Prefix& p) { prefixes_.push_back(p); }
  bool contains(const IpAddress& address) const noexcept;
  bool empty() const noexcept { return prefixes_.empty(); }
  const std::vector<Prefix>& prefixes() const noexcept { return prefixes_; }

 private:
  std::vector<Prefix> prefixes_;
};

struct ClientAddressPolicy {
  ForwardedHeader header = ForwardedHeader::none;
  NetworkList trusted_proxies;
  // Header entries consumed at most; a longer chain stops at the last one taken.
  std::size_t hop_limit = 5;
};

struct ClientAddress {
  IpAddress address;
  // Header entries walked to reach it: 0 means `src` itself.
  std::size_t hops = 0;
  // The header had an entry that is not an address (obfuscated, "unknown", garbage) where
  // the walk needed one; the walk stopped at the last trusted hop.
  bool header_unusable = false;
};

// Decides the client address. `src` absent (the message lacked it) and an empty header
// give nullopt. `header_lines` are the header's values in the order HAProxy saw them
// (several lines are one list, the last line the nearest hops).
std::optional<ClientAddress> resolve_client_address(
    const ClientAddressPolicy& policy, const std::optional<IpAddress>& src,
    const std::vector<std::string_view>& header_lines);

// Parsers for one entry of each header, exposed for tests: "192.0.2.1", "[2001:db8::1]",
// "192.0.2.1:8080", "[2001:db8::1]:443" (ports are dropped); nullopt for "unknown",
// "_hidden" and anything that is not an address.
std::optional<IpAddress> parse_xff_entry(std::string_view entry) noexcept;
std::optional<IpAddress> parse_forwarded_element(std::string_view element) noexcept;

}  // namespace spoa::support
