#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace spoa::config {

// Where the server (or the metrics endpoint) accepts connections.
struct ListenAddress {
  enum class Kind { tcp, unix_socket };

  Kind kind = Kind::tcp;
  // tcp: a host name, an IPv4 literal, or an IPv6 literal without its brackets. "*" is
  // stored as "0.0.0.0" (every IPv4 address, as in HAProxy's `bind *:PORT`); write "[::]"
  // for every IPv6 address.
  std::string host;
  // tcp: 0 lets the kernel choose a free port, which only tests want.
  uint16_t port = 0;
  // unix_socket: an absolute path.
  std::string path;
  // As the operator wrote it, for logs and error messages.
  std::string text;

  friend bool operator==(const ListenAddress&, const ListenAddress&) = default;
};

// Parses "HOST:PORT", "[IPV6]:PORT" or "unix:/path/to.sock". On failure returns nullopt and
// sets `error` to a sentence that quotes the text and says what was expected.
std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error);

}  // namespace spoa::config
