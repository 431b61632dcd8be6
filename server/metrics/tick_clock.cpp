#include "metrics/tick_clock.hpp"

#include <chrono>
#include <cstdint>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

namespace spoa::metrics {

namespace {
#ifdef SPOA_METRICS_HAVE_TSC
using Clock = std::chrono::steady_clock;

// A TSC reading paired with the steady_clock time it was taken at, known to within
// `bracket_limit`: the TSC is read between two clock reads that close together. A
// preemption between them (a loaded machine) shows as a wide bracket and is retried, so
// the calibration cannot be skewed by where the scheduler happened to interrupt it.
struct Pairing {
  Clock::time_point at;
  uint64_t ticks = 0;
};
constexpr auto bracket_limit = std::chrono::microseconds(2);
constexpr int bracket_attempts = 1000;

std::optional<Pairing> paired_reading() {
  for (int attempt = 0; attempt < bracket_attempts; ++attempt) {
    const auto before = Clock::now();
    const uint64_t ticks = __rdtsc();
    const auto after = Clock::now();
    if (after - before <= bracket_limit) return Pairing{before + (after - before) / 2, ticks};
  }
  return std::nullopt;
}
#endif

bool kernel_clocksource_is_tsc() {
  std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string source;
  return static_cast<bool>(in >> source) && source == "tsc";
}
}  // namespace

TickClock::TickClock() {
#ifdef SPOA_METRICS_HAVE_TSC
  if (!kernel_clocksource_is_tsc()) return;
  // The TSC rate against steady_clock over at least 10 ms, each end paired to within 2 us:
  // at most 2e-4 relative error whatever the load, far below a histogram bucket's width.
  // No tight pairing in a thousand tries (a clock that slow to read): steady_clock it is.
  const auto start = paired_reading();
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto end = paired_reading();
  if (!start || !end || end->ticks <= start->ticks) return;
  const double ns = std::chrono::duration<double, std::nano>(end->at - start->at).count();
  if (ns <= 0) return;
  ns_per_tick_ = ns / static_cast<double>(end->ticks - start->ticks);
  tsc_ = true;
#endif
}

const TickClock& TickClock::instance() {
  static const TickClock clock;
  return clock;
}

}  // namespace spoa::metrics
