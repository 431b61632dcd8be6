#include "spoa/support/client_address.hpp"

#include <stdexcept>

#include "spoa/support/text_lines.hpp"

namespace spoa::support {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// "host", "host:port", "[v6]", "[v6]:port", or a bare IPv6 address.
std::optional<IpAddress> parse_node(std::string_view node) noexcept {
  node = trim(node);
  if (node.empty()) return std::nullopt;
  if (node.front() == '[') {
    const std::size_t close = node.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = node.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
    auto a = IpAddress::parse(node.substr(1, close - 1));
    return a;
  }
  const std::size_t colon = node.find(':');
  if (colon != std::string_view::npos && node.find(':', colon + 1) == std::string_view::npos) {
    node = node.substr(0, colon);  // IPv4 with a port
  }
  return IpAddress::parse(node);
}

// Splits a header's lines into its comma-separated entries, left to right.
std::vector<std::string_view> entries_of(const std::vector<std::string_view>& lines) {
  std::vector<std::string_view> out;
  for (std::string_view line : lines) {
    // Commas inside quoted strings (possible in Forwarded) do not separate entries.
    bool quoted = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= line.size(); ++i) {
      if (i < line.size() && line[i] == '"') quoted = !quoted;
      if (i == line.size() || (line[i] == ',' && !quoted)) {
        const std::string_view e = trim(line.substr(start, i - start));
        if (!e.empty()) out.push_back(e);
        start = i + 1;
      }
    }
  }
  return out;
}

}  // namespace

std::optional<ForwardedHeader> parse_forwarded_header(std::string_view text) noexcept {
  if (iequals(text, "none")) return ForwardedHeader::none;
  if (iequals(text, "x-forwarded-for")) return ForwardedHeader::x_forwarded_for;
  if (iequals(text, "forwarded")) return ForwardedHeader::forwarded;
  return std::nullopt;
}

NetworkList NetworkList::parse(const std::vector<std::string_view>& entries) {
  NetworkList list;
  for (std::string_view e : entries) {
    const auto p = Prefix::parse(trim(e));
    if (!p) throw std::invalid_argument("'" + std::string(e) + "' is not an IP network");
    list.add(*p);
  }
  return list;
}

bool NetworkList::contains(const IpAddress& address) const noexcept {
  for (const Prefix& p : prefixes_) {
    if (p.contains(address)) return true;
  }
  return false;
}

std::optional<IpAddress> parse_xff_entry(std::string_view entry) noexcept {
  return parse_node(entry);
}

std::optional<IpAddress> parse_forwarded_element(std::string_view element) noexcept {
  // pairs separated by ';', each token=value, value a token or a quoted string
  while (!element.empty()) {
    const std::size_t semi = element.find(';');
    std::string_view pair = trim(element.substr(0, semi));
    element = semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (!iequals(trim(pair.substr(0, eq)), "for")) continue;
    std::string_view value = trim(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    return parse_node(value);  // "unknown" and "_obfuscated" do not parse: nullopt
  }
  return std::nullopt;
}

std::optional<ClientAddress> resolve_client_address(
    const ClientAddressPolicy& policy, const std::optional<IpAddress>& src,
    const std::vector<std::string_view>& header_lines) {
  std::optional<ClientAddress> current;
  if (src) current = ClientAddress{*src, 0, false};
  if (policy.header == ForwardedHeader::none) return current;
  // The header only counts when the peer that sent it is trusted. Without `src` the
  // operator chose to judge the header alone (HAProxy already vetted the peer).
  if (current && !policy.trusted_proxies.contains(current->address)) return current;

  const std::vector<std::string_view> entries = entries_of(header_lines);
  std::size_t hops = 0;
  for (auto it = entries.rbegin(); it != entries.rend() && hops < policy.hop_limit; ++it) {
    const auto address = policy.header == ForwardedHeader::x_forwarded_for
                             ? parse_xff_entry(*it)
                             : parse_forwarded_element(*it);
    if (!address) {
      if (current) current->header_unusable = true;
      return current;
    }
    ++hops;
    current = ClientAddress{*address, hops, false};
    if (!policy.trusted_proxies.contains(*address)) return current;
  }
  return current;
}

}  // namespace spoa::support
