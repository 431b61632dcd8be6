#pragma once
// CPU time and memory of a process, from /proc (Linux).
#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace bench {

// utime + stime of every thread of `pid` (/proc/PID/stat fields 14 and 15), in seconds.
// Resolution is one clock tick (10 ms at USER_HZ 100): measure for seconds, not ms.
std::optional<double> process_cpu_seconds(pid_t pid);

// Resident set size (VmRSS of /proc/PID/status), in KiB.
std::optional<uint64_t> process_rss_kib(pid_t pid);

// CPU time (user + system) of this process, all threads, in seconds (getrusage).
double own_cpu_seconds();

// CLOCK_MONOTONIC in nanoseconds (vDSO: no syscall).
int64_t now_ns() noexcept;

}  // namespace bench
