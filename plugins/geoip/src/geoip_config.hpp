// The geoip plugin's settings, parsed from the instance's [plugins.NAME.config] table as
// the host hands it over (ABI 1.0: flattened key/value strings, nested tables as dotted
// keys). Plain C++, so it is unit-tested without a host.
//
//   source = "ip"                                  # message argument with the address
//   databases.NAME.file = "/path/City.mmdb"
//   databases.NAME.load = "copy" | "mmap"
//   databases.NAME.check_records = 0               # 0 = all
//   databases.NAME.variables.VAR = "country.iso_code"
//   databases.NAME.variables.VAR.path = "..."      # the same, with:
//   databases.NAME.variables.VAR.default = "..."
//   databases.NAME.variables.VAR.type = "auto" | "string"
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "geo_value.hpp"
#include "mmdb_database.hpp"
#include "variable_source.hpp"

namespace spoa::geoip {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct VariableConfig {
  std::string name;  // the variable HAProxy sees as <scope>.<var-prefix>.<name>
  VariableSource source;
  std::optional<std::string> default_text;
  ValueType type = ValueType::automatic;
  std::string key;  // config key, for messages
};

struct DatabaseConfig {
  std::string name;
  std::string file;
  LoadMode load = LoadMode::copy;
  // 0 = every record. A budget is for very large custom databases: a City-sized one
  // (400,000 distinct records, 2.9 M nodes) checks whole in 0.25 s of CPU.
  std::uint64_t check_records = 0;
  std::vector<VariableConfig> variables;
};

struct GeoipConfig {
  std::string scope = "txn";
  std::vector<std::string> messages;  // empty: every message of the instance
  // How often the database files are checked for a replacement; 0 = never.
  std::chrono::milliseconds reload_interval{5000};
  std::vector<DatabaseConfig> databases;  // sorted by name
  // Keys this parser does not know but a caller may (the client-address settings), left
  // for the caller to parse and reject.
  std::vector<std::pair<std::string, std::string>> other;
};

using ConfigEntries = std::vector<std::pair<std::string, std::string>>;

// Throws ConfigError naming the key. Keys starting with one of `passthrough_prefixes` go to
// GeoipConfig::other instead of being refused.
GeoipConfig parse_config(const ConfigEntries& entries,
                         const std::vector<std::string_view>& passthrough_prefixes = {});

}  // namespace spoa::geoip
