#pragma once
// The process metrics every Prometheus client library exports under these standard names
// (process_cpu_seconds_total, process_resident_memory_bytes, ...), read from /proc/self at
// scrape time; dashboards and alerts written for any exporter work on them unchanged.
#include <cstdint>
#include <optional>

#include "metrics/text_writer.hpp"

namespace spoa::metrics {

struct ProcessStats {
  std::optional<double> cpu_seconds;         // user + system, all threads
  std::optional<uint64_t> resident_bytes;    // RSS
  std::optional<uint64_t> virtual_bytes;     // VSZ
  std::optional<uint64_t> open_fds;          // entries of /proc/self/fd
  std::optional<uint64_t> max_fds;           // RLIMIT_NOFILE soft limit
  std::optional<double> start_time_seconds;  // since the Unix epoch
  std::optional<uint64_t> threads;
};

// What can be read; a field that cannot be (no /proc) stays empty and is left out.
ProcessStats read_process_stats();

void write_process_metrics(TextWriter& writer, const ProcessStats& stats);

}  // namespace spoa::metrics
