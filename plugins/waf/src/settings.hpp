// The waf plugin's configuration: [plugins.NAME.config] of spoa-host.toml, as the flat
// key/value pairs the SDK hands to init() (nested tables arrive as dotted keys, arrays as
// comma lists). Parsing is separate from the SDK so the unit tests feed it directly.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace spoa::waf {

// What to do with a request whose body HAProxy could not buffer whole
// (req.body_len < req.body_size).
enum class TruncatedBody {
  inspect,       // inspect what arrived, and say so (body_truncated=true)
  headers_only,  // inspect the headers, skip the partial body
  deny,          // answer action=deny status=413 without inspecting
};

enum class Dialect {
  native,  // waf-req / waf-res, answer variables action, status, rule_ids, ...
  coraza,  // coraza-spoa's message arguments and answer variables
};

struct AppSettings {
  std::string name;
  bool crs = false;
  std::string crs_setup = "/etc/modsecurity/crs/crs-setup.conf";
  std::string crs_rules = "/usr/share/modsecurity-crs/rules";
  int paranoia = 1;
  int anomaly_threshold = 5;           // tx.inbound_anomaly_score_threshold
  int response_anomaly_threshold = 4;  // tx.outbound_anomaly_score_threshold
  bool detect_only = false;
  TruncatedBody truncated_body = TruncatedBody::inspect;
  bool response = false;                  // keep the transaction for the response phase
  std::vector<std::string> rules_before;  // SecLang files after crs-setup, before the CRS
  std::vector<std::string> rules;         // SecLang files after the CRS (or alone)
  std::string directives;                 // inline SecLang, loaded last
  std::string audit_log;                  // empty: no audit log
  std::size_t body_limit = 13107200;      // larger bodies answer error=too-big
};

struct Settings {
  Dialect dialect = Dialect::native;
  std::string request_message;
  std::string response_message;
  std::string default_app;
  std::map<std::string, AppSettings> apps;
  unsigned threads = 2;
  std::size_t queue = 64;
  std::chrono::milliseconds queue_timeout{1000};  // queued longer: error=timeout
  std::size_t header_limit = 100;
  std::size_t table_entries = 10000;
  std::size_t table_bytes = 64u * 1024 * 1024;
  std::chrono::milliseconds table_ttl{10000};
};

class SettingsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using ConfigPairs = std::vector<std::pair<std::string, std::string>>;

// Throws SettingsError naming the key, the value and what was expected. Relative paths are
// taken as they are: spoa-host runs plugins from the config file's folder's point of view
// only for `path`, so the docs use absolute paths.
Settings parse_settings(const ConfigPairs& pairs);

}  // namespace spoa::waf
