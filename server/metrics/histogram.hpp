#pragma once
// A latency histogram with fixed log-scale buckets (1, 2.5, 5 per decade, 100 ns to 10 s),
// single writer like Counter. The bounds never change, so every thread's histogram and
// every scrape share the same `le` labels and a scrape is a plain sum of bucket counts.
#include <array>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "metrics/counter.hpp"

namespace spoa::metrics {

// Upper bounds (inclusive, as Prometheus' `le`) in nanoseconds. A frame handled in the
// agent takes microseconds, a plugin call from 100 ns (in-process lookups) to seconds (a
// remote service behind an async plugin): eight decades cover both at a 2-2.5x step,
// which histogram_quantile() interpolates within.
inline constexpr std::array<uint64_t, 25> latency_bounds_ns = {
    100,         250,           500,           1'000,         2'500,
    5'000,       10'000,        25'000,        50'000,        100'000,
    250'000,     500'000,       1'000'000,     2'500'000,     5'000'000,
    10'000'000,  25'000'000,    50'000'000,    100'000'000,   250'000'000,
    500'000'000, 1'000'000'000, 2'500'000'000, 5'000'000'000, 10'000'000'000};
// One bucket per bound plus the +Inf one.
inline constexpr size_t latency_buckets = latency_bounds_ns.size() + 1;

namespace detail {
// The bucket of a value without a search: consecutive bounds are at least 2x apart, so the
// values of one bit width [2^(w-1), 2^w) straddle at most one bound. first_bucket[w] is
// the first bucket whose bound is >= 2^(w-1); one comparison then settles it. (A binary
// search over the bounds cost a few mispredicted branches per observation.)
inline constexpr std::array<uint8_t, 65> first_bucket = [] {
  std::array<uint8_t, 65> table{};
  for (size_t width = 0; width <= 64; ++width) {
    const uint64_t smallest = width == 0 ? 0 : uint64_t{1} << (width - 1);
    size_t index = 0;
    while (index < latency_bounds_ns.size() && latency_bounds_ns[index] < smallest)
      ++index;
    table[width] = static_cast<uint8_t>(index);
  }
  return table;
}();
// The bounds with an unreachable one behind, so that the comparison needs no range check.
inline constexpr std::array<uint64_t, latency_buckets> bounds_with_sentinel = [] {
  std::array<uint64_t, latency_buckets> out{};
  for (size_t i = 0; i < latency_bounds_ns.size(); ++i)
    out[i] = latency_bounds_ns[i];
  out.back() = UINT64_MAX;
  return out;
}();
}  // namespace detail

// Index of the bucket counting `ns`: the first bound >= ns, or the +Inf bucket.
inline size_t latency_bucket(uint64_t ns) noexcept {
  const size_t index = detail::first_bucket[static_cast<size_t>(std::bit_width(ns))];
  return index + static_cast<size_t>(ns > detail::bounds_with_sentinel[index]);
}

class Histogram {
 public:
  // Writer thread only. Not cumulative: bucket i counts values in (bound[i-1], bound[i]];
  // the exposition writer accumulates.
  void observe_ns(uint64_t ns) noexcept {
    buckets_[latency_bucket(ns)].add();
    sum_ns_.add(ns);
  }
  template <typename Rep, typename Period>
  void observe(std::chrono::duration<Rep, Period> elapsed) noexcept {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
    observe_ns(ns > 0 ? static_cast<uint64_t>(ns) : 0);
  }

  uint64_t bucket(size_t index) const noexcept { return buckets_[index].value(); }
  uint64_t sum_ns() const noexcept { return sum_ns_.value(); }

 private:
  std::array<Counter, latency_buckets> buckets_{};
  Counter sum_ns_;
};

// What a scrape adds up over threads.
struct HistogramSnapshot {
  std::array<uint64_t, latency_buckets> buckets{};
  uint64_t sum_ns = 0;

  void add(const Histogram& histogram) noexcept {
    for (size_t i = 0; i < latency_buckets; ++i)
      buckets[i] += histogram.bucket(i);
    sum_ns += histogram.sum_ns();
  }
  uint64_t count() const noexcept {
    uint64_t total = 0;
    for (const uint64_t n : buckets)
      total += n;
    return total;
  }
};

}  // namespace spoa::metrics
