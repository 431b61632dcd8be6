// The lookup: one address through every configured database, each variable given its
// value or its default. Plain C++ (no SDK): the plugin passes a sink that turns each
// (name, value) into a set_var, the tests one that records.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "geoip_config.hpp"
#include "loaded_database.hpp"
#include "spoa/support/ip_address.hpp"
#include "spoa/support/snapshot.hpp"

namespace spoa::geoip {

// Lookups of one database by result, since start. Relaxed atomics: they are only summed
// when metrics are read.
struct LookupCounters {
  std::atomic<std::uint64_t> found{0};
  std::atomic<std::uint64_t> not_found{0};
  std::atomic<std::uint64_t> error{0};
};

// One configured database: the version in use, replaced whole by load().
class DatabaseSlot {
 public:
  explicit DatabaseSlot(DatabaseConfig config) : config_(std::move(config)) {}

  // Loads and checks the file; on success publishes it and returns it, else throws
  // DatabaseError and the version in use (if any) stays. Called at init and by the watcher
  // thread, never on an I/O thread.
  std::shared_ptr<const LoadedDatabase> load();

  std::shared_ptr<const LoadedDatabase> current() const noexcept { return current_.get(); }
  const DatabaseConfig& config() const noexcept { return config_; }
  // Counted by answer() on const slots: the counters are not part of the slot's state.
  LookupCounters& counters() const noexcept { return counters_; }

 private:
  DatabaseConfig config_;
  support::Snapshot<LoadedDatabase> current_;
  mutable LookupCounters counters_;
};

class Geoip {
 public:
  explicit Geoip(const GeoipConfig& config);

  // Loads every database (throws DatabaseError naming the first that fails).
  void load_all();

  // Calls sink(std::string_view name, const GeoValue& value) for every variable that gets
  // a value. An IPv4-mapped IPv6 address arrives as IPv4 already (IpAddress folds it), so
  // one client gets one answer however HAProxy presents it. Thread-safe; never blocks (the
  // snapshots are reference counted).
  template <class Sink>
  void answer(const IpAddress& address, Sink&& sink) const;

  // Called (from an I/O thread, at most once per loaded version of a database) when a lookup
  // fails inside libmaxminddb; the variables then get their defaults. Set before serving.
  std::function<void(const std::string&)> on_lookup_error;

  std::vector<std::unique_ptr<DatabaseSlot>>& slots() noexcept { return slots_; }
  const std::vector<std::unique_ptr<DatabaseSlot>>& slots() const noexcept { return slots_; }

 private:
  std::vector<std::unique_ptr<DatabaseSlot>> slots_;
};

// One variable of one matched (or unmatched) database. Returns whether `out` holds a value.
bool variable_value(const LoadedDatabase& db, const LookupResult& result, const IpAddress& address,
                    const CompiledVariable& variable, GeoValue& out) noexcept;

template <class Sink>
void Geoip::answer(const IpAddress& address, Sink&& sink) const {
  for (const auto& slot : slots_) {
    const std::shared_ptr<const LoadedDatabase> db = slot->current();
    if (!db) continue;
    const LookupResult result = db->database().lookup(address);
    LookupCounters& c = slot->counters();
    switch (result.status) {
      case LookupResult::Status::found:
        c.found.fetch_add(1, std::memory_order_relaxed);
        break;
      case LookupResult::Status::not_found:
        c.not_found.fetch_add(1, std::memory_order_relaxed);
        break;
      case LookupResult::Status::error:
        c.error.fetch_add(1, std::memory_order_relaxed);
        if (on_lookup_error && db->first_lookup_error())
          on_lookup_error("database " + slot->config().name + ": lookup of " + address.to_string() +
                          " failed: " + MMDB_strerror(result.mmdb_error) +
                          " (logged once per loaded version; the variables get their defaults)");
        break;
    }
    for (const CompiledVariable& v : db->variables()) {
      GeoValue value;
      if (variable_value(*db, result, address, v, value))
        sink(std::string_view(v.name), static_cast<const GeoValue&>(value));
    }
  }
}

}  // namespace spoa::geoip
