#pragma once
// Timestamps for the plugin latency histogram, which an I/O thread takes twice per handler
// call. std::chrono::steady_clock::now() (clock_gettime through the vDSO) costs about 50 ns
// in that loop: its ordered TSC read stalls the pipeline, and two of them were most of the
// per-frame cost of metrics. When the kernel itself keeps time with the TSC (clocksource
// "tsc": invariant and synchronised across CPUs, else the kernel would have dropped it), a
// bare rdtsc is read instead, for a few ns; anywhere else, steady_clock.
#include <chrono>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define SPOA_METRICS_HAVE_TSC 1
#endif

namespace spoa::metrics {

class TickClock {
 public:
  // The process's clock, chosen and calibrated on first use (about 10 ms: the server
  // asks for it at startup, before any I/O thread counts).
  static const TickClock& instance();

  uint64_t now() const noexcept {
#ifdef SPOA_METRICS_HAVE_TSC
    if (tsc_) return __rdtsc();
#endif
    return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch() /
                                 std::chrono::nanoseconds(1));
  }
  // Nanoseconds between two now() readings; 0 if `end` is not after `start`.
  uint64_t elapsed_ns(uint64_t start, uint64_t end) const noexcept {
    return end > start ? static_cast<uint64_t>(static_cast<double>(end - start) * ns_per_tick_) : 0;
  }
  bool uses_tsc() const noexcept {
    return tsc_;
  }
  double ns_per_tick() const noexcept {
    return ns_per_tick_;
  }

 private:
  TickClock();
  bool tsc_ = false;
  double ns_per_tick_ = 1;
};

}  // namespace spoa::metrics
