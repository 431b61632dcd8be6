// The geoip plugin's metrics (ABI 1.1 plugin metrics), exported by spoa-host's /metrics as
// spoa_plugin_geoip_...{plugin="<instance>", database="<name>", ...}:
//
//   geoip_lookups_total{database, result}       counter  found | not_found | error
//   geoip_messages_without_address_total        counter  nothing looked up
//   geoip_database_loads_total{database, result} counter ok | failed (start, reload, file replaced)
//   geoip_database_last_load_success_timestamp_seconds{database}  gauge  Unix time
//   geoip_database_last_load_ok{database}        gauge    1 if the newest attempt succeeded
//   geoip_database_build_timestamp_seconds{database}  gauge  build_epoch of the version in use
//   geoip_database_records{database}             gauge    distinct data records in use
//
// Lookups are counted by relaxed atomics on the I/O threads (geoip_lookup.hpp), loads by
// each database's support::SourceHealth (database_files.hpp), and both are added to the
// host's metrics from the plugin's metrics thread once a second, so neither answering nor
// loading calls the host for bookkeeping.
#pragma once

#include <spoa/plugin.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

#include "database_files.hpp"
#include "geoip_lookup.hpp"

namespace spoa::geoip {

#if SPOA_ABI_MINOR >= 1

class GeoipMetrics {
 public:
  GeoipMetrics(spoa::InitContext& ctx, const Geoip& geoip)
      : lookups_(ctx.counter("geoip_lookups_total",
                             "Lookups by database and result (found, not_found, error)",
                             {"database", "result"})),
        no_address_(ctx.counter("geoip_messages_without_address_total",
                                "Messages without a usable client address: nothing looked up")),
        loads_(ctx.counter("geoip_database_loads_total",
                           "Database load attempts by result (ok, failed)",
                           {"database", "result"})),
        last_success_(ctx.gauge("geoip_database_last_load_success_timestamp_seconds",
                                "Unix time at which the version in use was loaded", {"database"})),
        last_ok_(ctx.gauge("geoip_database_last_load_ok",
                           "1 if the newest load attempt succeeded, else 0", {"database"})),
        build_(ctx.gauge("geoip_database_build_timestamp_seconds",
                         "Build time (metadata build_epoch) of the version in use", {"database"})),
        records_(ctx.gauge("geoip_database_records", "Distinct data records in the version in use",
                           {"database"})),
        sent_(geoip.slots().size()),
        loads_sent_(geoip.slots().size()) {}

  // Adds what was counted since the last call and sets the gauges (after the first loads,
  // then from the metrics thread, and in the destructor).
  void flush(const Geoip& geoip, const std::vector<DatabaseFile>& files, std::uint64_t no_address) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < files.size(); ++i) {
      const std::string_view name = files[i].slot->config().name;
      const support::SourceHealth::View health = files[i].health->view();
      const std::array<std::uint64_t, 2> loads = {health.loads_ok, health.loads_failed};
      static constexpr std::string_view load_results[] = {"ok", "failed"};
      for (std::size_t r = 0; r < 2; ++r) {
        if (loads[r] != loads_sent_[i][r] || !started_)
          loads_.add(loads[r] - loads_sent_[i][r], {name, load_results[r]});
      }
      loads_sent_[i] = loads;
      last_ok_.set(health.last_ok ? 1.0 : 0.0, {name});
      if (health.last_success > 0) last_success_.set(health.last_success, {name});
      if (const auto current = files[i].slot->current()) {
        build_.set(static_cast<double>(current->database().mmdb().metadata.build_epoch), {name});
        records_.set(static_cast<double>(current->report().records), {name});
      }
    }
    for (std::size_t i = 0; i < geoip.slots().size(); ++i) {
      const DatabaseSlot& slot = *geoip.slots()[i];
      const LookupCounters& c = slot.counters();
      const std::array<std::uint64_t, 3> now = {c.found.load(std::memory_order_relaxed),
                                                c.not_found.load(std::memory_order_relaxed),
                                                c.error.load(std::memory_order_relaxed)};
      static constexpr std::string_view results[] = {"found", "not_found", "error"};
      for (std::size_t r = 0; r < 3; ++r) {
        // A series appears at its first sample, so every result is exported from the start.
        if (now[r] != sent_[i][r] || !started_)
          lookups_.add(now[r] - sent_[i][r], {slot.config().name, results[r]});
      }
      sent_[i] = now;
    }
    if (no_address != no_address_sent_ || !started_) no_address_.add(no_address - no_address_sent_);
    no_address_sent_ = no_address;
    started_ = true;
  }

 private:
  spoa::Metric lookups_, no_address_, loads_, last_success_, last_ok_, build_, records_;
  std::mutex mutex_;
  std::vector<std::array<std::uint64_t, 3>> sent_;
  std::vector<std::array<std::uint64_t, 2>> loads_sent_;
  std::uint64_t no_address_sent_ = 0;
  bool started_ = false;
};

#endif

}  // namespace spoa::geoip
