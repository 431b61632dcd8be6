#include "spoa/support/client_address_settings.hpp"

#include <charconv>
#include <stdexcept>

#include "spoa/support/text_lines.hpp"

namespace spoa::support {
namespace {

std::vector<std::string_view> split_commas(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = trim(text.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    text = text.substr(comma + 1);
  }
  return out;
}

[[noreturn]] void bad(std::string_view key, const std::string& why) {
  throw std::invalid_argument("config key '" + std::string(key) + "': " + why);
}

}  // namespace

ClientAddressSettings parse_client_address_settings(
    const std::function<std::optional<std::string_view>(std::string_view)>& get) {
  ClientAddressSettings s;
  if (auto v = get("address_arg")) s.address_arg = std::string(trim(*v));
  if (auto v = get("forwarded_arg")) {
    s.forwarded_arg = std::string(trim(*v));
    if (s.forwarded_arg.empty()) bad("forwarded_arg", "empty argument name");
  }
  if (auto v = get("forwarded_header")) {
    const auto h = parse_forwarded_header(trim(*v));
    if (!h)
      bad("forwarded_header",
          "'" + std::string(*v) + "' is not one of none, x-forwarded-for, forwarded");
    s.policy.header = *h;
  }
  if (auto v = get("trusted_proxies")) {
    try {
      s.policy.trusted_proxies = NetworkList::parse(split_commas(*v));
    } catch (const std::invalid_argument& e) {
      bad("trusted_proxies", e.what());
    }
  }
  if (auto v = get("hop_limit")) {
    const std::string_view t = trim(*v);
    unsigned limit = 0;
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), limit);
    if (ec != std::errc() || end != t.data() + t.size() || limit == 0 || limit > 64)
      bad("hop_limit", "'" + std::string(t) + "' is not a number from 1 to 64");
    s.policy.hop_limit = limit;
  }
  if (s.policy.header != ForwardedHeader::none && s.policy.trusted_proxies.empty() &&
      !s.address_arg.empty())
    bad("trusted_proxies", "forwarded_header is set but no proxy is trusted to send it");
  if (s.address_arg.empty() && s.policy.header == ForwardedHeader::none)
    bad("address_arg", "empty, and no forwarded_header either: no address to judge");
  return s;
}

}  // namespace spoa::support
