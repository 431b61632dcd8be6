#pragma once
// The run's outcome: a table for people, one JSON line (--json) for scripts.
#include <cstdint>
#include <optional>
#include <string>

#include "client.hpp"
#include "options.hpp"
#include "workload.hpp"

namespace bench {

struct Report {
  const Options* options = nullptr;
  const Workload* workload = nullptr;
  ThreadResult total;   // merged over threads
  double window_s = 0;  // measure start -> last measured answer
  double frames_per_s = 0;
  std::optional<double> agent_cpu_s;  // over the window
  std::optional<uint64_t> agent_rss_start_kib;
  std::optional<uint64_t> agent_rss_end_kib;
  double bench_cpu_s = 0;  // this process, over the window
  bool interrupted = false;
};

void print_table(const Report& r);
void print_json(const Report& r);
std::string json_escape(std::string_view s);

}  // namespace bench
