#include "metrics/process.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace spoa::metrics {

namespace {

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// /proc/self/stat fields from the third on (state, ppid, ...): the second, `(comm)`, may
// hold spaces and parentheses, so the split starts after its last ')'.
std::vector<std::string> stat_fields_after_comm(const std::string& stat) {
  std::vector<std::string> fields;
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream in(stat.substr(close + 1));
  std::string field;
  while (in >> field)
    fields.push_back(field);
  return fields;
}

std::optional<uint64_t> boot_time_seconds() {
  std::istringstream in(read_file("/proc/stat"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("btime ", 0) == 0) return std::stoull(line.substr(6));
  }
  return std::nullopt;
}

std::optional<uint64_t> count_open_fds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return std::nullopt;
  uint64_t count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  // The directory stream itself holds one fd while we count.
  return count > 0 ? count - 1 : 0;
}

}  // namespace

ProcessStats read_process_stats() {
  ProcessStats stats;
  try {
    const long ticks = sysconf(_SC_CLK_TCK);
    const long page = sysconf(_SC_PAGESIZE);
    // Field numbers of proc(5), 1-based; fields_after_comm()[0] is field 3.
    const auto fields = stat_fields_after_comm(read_file("/proc/self/stat"));
    const auto field = [&](size_t number) { return std::stoull(fields.at(number - 3)); };
    if (ticks > 0 && fields.size() >= 22) {
      stats.cpu_seconds = static_cast<double>(field(14) + field(15)) / static_cast<double>(ticks);
      stats.threads = field(20);
      if (const auto boot = boot_time_seconds()) {
        stats.start_time_seconds = static_cast<double>(*boot) +
                                   static_cast<double>(field(22)) / static_cast<double>(ticks);
      }
    }
    std::istringstream statm(read_file("/proc/self/statm"));
    uint64_t size = 0, resident = 0;
    if (page > 0 && statm >> size >> resident) {
      stats.virtual_bytes = size * static_cast<uint64_t>(page);
      stats.resident_bytes = resident * static_cast<uint64_t>(page);
    }
  } catch (const std::exception&) {
    // A /proc that does not read as proc(5) says: leave the rest out rather than lie.
  }
  stats.open_fds = count_open_fds();
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    stats.max_fds = limit.rlim_cur;
  }
  return stats;
}

void write_process_metrics(TextWriter& w, const ProcessStats& stats) {
  if (stats.cpu_seconds) {
    w.family("process_cpu_seconds_total", "counter",
             "Total user and system CPU time spent in seconds.");
    w.sample("process_cpu_seconds_total", {}, *stats.cpu_seconds);
  }
  if (stats.resident_bytes) {
    w.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    w.sample("process_resident_memory_bytes", {}, *stats.resident_bytes);
  }
  if (stats.virtual_bytes) {
    w.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    w.sample("process_virtual_memory_bytes", {}, *stats.virtual_bytes);
  }
  if (stats.open_fds) {
    w.family("process_open_fds", "gauge", "Number of open file descriptors.");
    w.sample("process_open_fds", {}, *stats.open_fds);
  }
  if (stats.max_fds) {
    w.family("process_max_fds", "gauge", "Maximum number of open file descriptors.");
    w.sample("process_max_fds", {}, *stats.max_fds);
  }
  if (stats.start_time_seconds) {
    w.family("process_start_time_seconds", "gauge",
             "Start time of the process since unix epoch in seconds.");
    w.sample("process_start_time_seconds", {}, *stats.start_time_seconds);
  }
  if (stats.threads) {
    w.family("process_threads", "gauge", "Number of OS threads in the process.");
    w.sample("process_threads", {}, *stats.threads);
  }
}

}  // namespace spoa::metrics
