#pragma once
// Counters and gauges with exactly one writer thread and any number of readers.
//
// An I/O thread bumps its own counters once or more per frame, so an increment must not be
// a locked read-modify-write: `fetch_add` is a `lock xadd` on x86-64, which serialises the
// core and would be paid on every frame. Since no other thread ever writes the value, the
// writer's increment is a relaxed load and a relaxed store of its own last value (plain
// `mov`s); the scraper reads with a relaxed load and sees a value at most a few increments
// old, never a torn one. Summing these per-thread values at scrape time gives the total.
#include <atomic>
#include <cstdint>

namespace spoa::metrics {

class Counter {
 public:
  // Writer thread only.
  void add(uint64_t n = 1) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // Any thread.
  uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Goes up and down (in-flight NOTIFYs). One writer per gauge; the process-wide value is the
// sum over threads, so one thread's gauge may go negative if another thread's work ended
// it; only the sum means anything.
class Gauge {
 public:
  void add(int64_t n) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

}  // namespace spoa::metrics
