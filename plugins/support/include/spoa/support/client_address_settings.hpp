// The config keys with which every bundled plugin that judges a client address says where
// that address comes from, parsed the same way everywhere:
//
//   address_arg      = "src"               # message argument with the peer address
//   forwarded_header = "x-forwarded-for"   # or "forwarded" (RFC 7239), default "none"
//   forwarded_arg    = "xff"               # message argument with that header's value
//   trusted_proxies  = ["10.0.0.0/8"]      # peers allowed to speak for a client
//   hop_limit        = 5                   # header entries walked at most
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spoa/support/client_address.hpp"

namespace spoa::support {

struct ClientAddressSettings {
  std::string address_arg = "src";
  std::string forwarded_arg = "xff";
  ClientAddressPolicy policy;
};

// The keys above, for a plugin's reject_unknown list.
inline const std::vector<std::string_view>& client_address_keys() {
  static const std::vector<std::string_view> keys = {
      "address_arg", "forwarded_header", "forwarded_arg", "trusted_proxies", "hop_limit"};
  return keys;
}

// `get(key)` answers a config value (arrays comma-joined, as ABI 1.0 flattens them).
// Throws std::invalid_argument("config key 'hop_limit': ...").
ClientAddressSettings parse_client_address_settings(
    const std::function<std::optional<std::string_view>(std::string_view)>& get);

}  // namespace spoa::support
