// The iprep instance's config, from [plugins.NAME.config]:
//
//   scope = "txn"                     # variables' scope
//   reload_interval = "2s"            # how often list files are checked for changes
//   address_arg, forwarded_header, forwarded_arg, trusted_proxies, hop_limit
//                                     # where the client address comes from (support lib)
//   [plugins.NAME.config.sources.<source>]      # any number, <source> is its name
//   type = "netset"                   # list, netset, ipset, csv, crowdsec
//   path = "/var/lib/iprep/x.netset"  # list types
//   action = "deny"                   # "allow" makes an allowlist; any other word is
//                                     # reported in `action` and counts as listed
//   label = "firehol_level1"          # default: the source name
//   score = 50                        # optional default score
//   url = "http://127.0.0.1:8080/"    # crowdsec: the local API
//   api_key = "..." / api_key_file = "/etc/spoa-host/crowdsec.key"
//   poll_interval = "10s"             # crowdsec
//   timeout = "5s"                    # crowdsec: one pull at most
//   decision_types = ["ban", "captcha"]   # crowdsec: default all
#pragma once

#include <spoa/plugin.hpp>

#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "list_formats.hpp"
#include "spoa/support/client_address_settings.hpp"

namespace spoa::iprep {

struct SourceConfig {
  std::string name;
  std::string type;                  // as written
  std::optional<ListFormat> format;  // list types; nullopt for crowdsec
  std::string path;
  std::string action = "deny";
  std::string label;
  std::optional<std::int32_t> score;
  // crowdsec
  std::string url;
  std::string api_key;
  std::chrono::milliseconds poll_interval{10000};
  std::chrono::milliseconds timeout{5000};
  std::set<std::string> decision_types;
};

struct IprepConfig {
  spoa::Scope scope = spoa::Scope::txn;
  std::chrono::milliseconds reload_interval{2000};
  support::ClientAddressSettings client;
  std::vector<SourceConfig> sources;       // sorted by name
  std::vector<std::string_view> messages;  // optional narrowing (config key `messages`)
};

// Throws spoa::Error naming the key and what is wrong.
IprepConfig parse_iprep_config(
    const std::vector<std::pair<std::string_view, std::string_view>>& entries);

}  // namespace spoa::iprep
