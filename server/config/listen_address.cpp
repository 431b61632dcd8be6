#include "config/listen_address.hpp"

#include <arpa/inet.h>
#include <sys/un.h>

#include <charconv>

namespace spoa::config {
namespace {

constexpr std::string_view unix_prefix = "unix:";

std::string in_quotes(std::string_view text) {
  return '"' + std::string(text) + '"';
}

std::string expected_forms(std::string_view text) {
  return "expected HOST:PORT, [IPV6]:PORT or unix:/path, got " + in_quotes(text);
}

bool is_ipv4(const std::string& host) {
  in_addr address{};
  return inet_pton(AF_INET, host.c_str(), &address) == 1;
}

// Accepts a zone suffix ("fe80::1%eth0"): link-local listeners need one, and inet_pton
// does not know about zones.
bool is_ipv6(std::string_view host) {
  const size_t percent = host.find('%');
  if (percent != std::string_view::npos && percent + 1 == host.size()) return false;
  const std::string address_part(host.substr(0, percent));
  in6_addr address{};
  return inet_pton(AF_INET6, address_part.c_str(), &address) == 1;
}

// RFC 1123 host name: dot-separated labels of letters, digits and '-', not starting or
// ending with '-'.
bool is_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label_size = 0;
  char previous = '.';
  for (const char c : host) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (c == '.') {
      if (label_size == 0 || previous == '-') return false;
      label_size = 0;
    } else if (alnum || c == '-') {
      if (c == '-' && label_size == 0) return false;
      if (++label_size > 63) return false;
    } else {
      return false;
    }
    previous = c;
  }
  return previous != '-';
}

bool looks_numeric(std::string_view host) {
  return host.find_first_not_of("0123456789.") == std::string_view::npos;
}

std::optional<ListenAddress> parse_unix(std::string_view text, std::string& error) {
  const std::string_view path = text.substr(unix_prefix.size());
  if (path.empty() || path.front() != '/') {
    error = in_quotes(text) + ": expected an absolute socket path, e.g. unix:/run/spoa-host.sock";
    return std::nullopt;
  }
  // sun_path holds the path and its terminating NUL.
  constexpr size_t max_path = sizeof(sockaddr_un::sun_path) - 1;
  if (path.size() > max_path) {
    error = in_quotes(text) + ": the socket path is " + std::to_string(path.size()) +
            " bytes long, the limit is " + std::to_string(max_path);
    return std::nullopt;
  }
  ListenAddress address;
  address.kind = ListenAddress::Kind::unix_socket;
  address.path = std::string(path);
  address.text = std::string(text);
  return address;
}

std::optional<uint16_t> parse_port(std::string_view text, std::string_view port,
                                   std::string& error) {
  unsigned value = 0;
  const auto [end, code] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || code != std::errc() || end != port.data() + port.size() || value > 65535) {
    error = in_quotes(text) + ": expected a port number from 0 to 65535 after the last ':', got " +
            in_quotes(port);
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

std::optional<ListenAddress> parse_listen_address(std::string_view text, std::string& error) {
  if (text.starts_with(unix_prefix)) return parse_unix(text, error);

  std::string_view host;
  std::string_view port;
  bool bracketed = false;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = expected_forms(text);
      return std::nullopt;
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
    bracketed = true;
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      error = expected_forms(text);
      return std::nullopt;
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      error = in_quotes(text) + ": an IPv6 address needs brackets, e.g. [::1]:12345";
      return std::nullopt;
    }
  }

  if (host.empty()) {
    error = in_quotes(text) +
            ": missing host before the port (\"*\" or \"0.0.0.0\" for every IPv4 address, "
            "\"[::]\" for every address)";
    return std::nullopt;
  }
  const std::string host_text(host);
  if (bracketed) {
    if (!is_ipv6(host)) {
      error = in_quotes(text) + ": " + in_quotes(host) + " is not an IPv6 address";
      return std::nullopt;
    }
  } else if (host != "*" && !is_ipv4(host_text)) {
    if (looks_numeric(host)) {
      error = in_quotes(text) + ": " + in_quotes(host) + " is not an IPv4 address";
      return std::nullopt;
    }
    if (!is_host_name(host)) {
      error = in_quotes(text) + ": " + in_quotes(host) + " is not a host name or an IP address";
      return std::nullopt;
    }
  }

  const auto port_number = parse_port(text, port, error);
  if (!port_number) return std::nullopt;

  ListenAddress address;
  address.kind = ListenAddress::Kind::tcp;
  address.host = host == "*" ? "0.0.0.0" : host_text;
  address.port = *port_number;
  address.text = std::string(text);
  return address;
}

}  // namespace spoa::config
