#include "metrics/tick_clock.hpp"

#include <fstream>
#include <string>
#include <thread>

namespace spoa::metrics {

namespace {
bool kernel_clocksource_is_tsc() {
  std::ifstream in("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string source;
  return static_cast<bool>(in >> source) && source == "tsc";
}
}  // namespace

TickClock::TickClock() {
#ifdef SPOA_METRICS_HAVE_TSC
  if (!kernel_clocksource_is_tsc()) return;
  // The TSC rate against steady_clock over 10 ms: 1e-4 relative error at worst, far below
  // a histogram bucket's width.
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const uint64_t c0 = __rdtsc();
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto t1 = Clock::now();
  const uint64_t c1 = __rdtsc();
  const double ns = std::chrono::duration<double, std::nano>(t1 - t0).count();
  if (c1 <= c0 || ns <= 0) return;
  ns_per_tick_ = ns / static_cast<double>(c1 - c0);
  tsc_ = true;
#endif
}

const TickClock& TickClock::instance() {
  static const TickClock clock;
  return clock;
}

}  // namespace spoa::metrics
