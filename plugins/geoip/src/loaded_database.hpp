// One version of one configured database, ready to answer: the opened file, the check
// that passed on it, and the variables with their defaults typed for this version's data.
// Immutable once built; readers hold it by shared_ptr while a replacement is published.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "database_check.hpp"
#include "geo_value.hpp"
#include "geoip_config.hpp"
#include "mmdb_database.hpp"

namespace spoa::geoip {

struct CompiledVariable {
  std::string name;
  VariableSource source;
  ValueType type = ValueType::automatic;
  bool has_default = false;
  // The default, typed like the values of this path in this database (an ASN default is a
  // number, a country default a string); `default_text` keeps the characters.
  GeoValue::Kind default_kind = GeoValue::Kind::string;
  GeoValue default_number;
  std::string default_text;

  GeoValue default_value() const noexcept;
};

class LoadedDatabase {
 public:
  // Opens and checks `config.file`; throws DatabaseError with every problem found (the
  // file, then one line per path), so that nothing half-usable is ever published.
  static std::shared_ptr<const LoadedDatabase> load(const DatabaseConfig& config);

  const Database& database() const noexcept { return *db_; }
  const CheckReport& report() const noexcept { return report_; }
  const std::vector<CompiledVariable>& variables() const noexcept { return variables_; }
  // "SpoaTest-City, IPv6 tree, built ..., N nodes, M records"
  const std::string& summary() const noexcept { return summary_; }
  // True for the first caller only: lookup errors of this version are logged once (and
  // all counted), so a damaged region cannot flood the log from every I/O thread.
  bool first_lookup_error() const noexcept { return !error_reported_.exchange(true); }

 private:
  LoadedDatabase() = default;

  std::shared_ptr<const Database> db_;
  CheckReport report_;
  std::vector<CompiledVariable> variables_;
  std::string summary_;
  mutable std::atomic<bool> error_reported_{false};
};

}  // namespace spoa::geoip
