// The waf plugin's metrics on the host's /metrics (ABI 1.1 plugin metrics): what it
// refused or dropped, so overload and a response table too small for the traffic show on
// a dashboard instead of only in the log at shutdown.
//   spoa_plugin_waf_inspections_shed_total{plugin}      queue full: error=overload
//   spoa_plugin_waf_inspections_expired_total{plugin}   queued for queue_timeout: error=timeout
//   spoa_plugin_waf_response_table_total{plugin,event}  stored, joined, expired, evicted,
//                                                       refused, missing (TableStats)
//   spoa_plugin_waf_response_table_entries{plugin}, ..._bytes{plugin}   held now
// On a host without plugin metrics (ABI 1.0) every update is a no-op.
#pragma once

#include <spoa/plugin.hpp>

#include <cstdint>
#include <mutex>
#include <string>

#include "transaction_table.hpp"

namespace spoa::waf {

class WafMetrics {
 public:
  explicit WafMetrics(const spoa::InitContext& ctx, spoa::Logger log) {
#if SPOA_ABI_MINOR >= 1
    try {
      shed_ = ctx.counter("waf_inspections_shed_total",
                          "Inspections refused at once because the queue was full "
                          "(answered error=overload)");
      expired_ = ctx.counter("waf_inspections_expired_total",
                             "Inspections not run because they waited queue_timeout in the "
                             "queue (answered error=timeout)");
      table_ = ctx.counter("waf_response_table_total",
                           "Request transactions kept for the response phase, by what became "
                           "of them",
                           {"event"}, 8);
      entries_ = ctx.gauge("waf_response_table_entries",
                           "Request transactions waiting for their response phase");
      bytes_ =
          ctx.gauge("waf_response_table_bytes", "Estimated bytes held by the response-phase table");
    } catch (const spoa::Error& e) {
      log.warn(std::string("metrics unavailable: ") + e.what());
    }
#else
    (void)ctx;
    (void)log;
#endif
  }

  void shed() const noexcept {
    shed_.add();
  }
  void expired() const noexcept {
    expired_.add();
  }

  // The table's counters are cumulative: publishes what grew since the last call. Called
  // after each put/take, before the request is answered, so that whatever a client sees
  // answered is already counted. The lock orders the snapshots of concurrent callers.
  template <class Table>
  void publish(const Table& table) {
    std::lock_guard<std::mutex> lock(mutex_);
    const TableStats now = table.stats();
    add("stored", now.stored, published_.stored);
    add("joined", now.taken, published_.taken);
    add("expired", now.expired, published_.expired);
    add("evicted", now.evicted, published_.evicted);
    add("refused", now.refused, published_.refused);
    add("missing", now.missing, published_.missing);
    entries_.set(static_cast<double>(now.entries));
    bytes_.set(static_cast<double>(now.bytes));
  }

 private:
  void add(std::string_view event, std::uint64_t now, std::uint64_t& published) const noexcept {
    if (now > published) table_.add(now - published, {event});
    published = now;
  }

  spoa::Metric shed_, expired_, table_, entries_, bytes_;
  std::mutex mutex_;
  TableStats published_;
};

}  // namespace spoa::waf
