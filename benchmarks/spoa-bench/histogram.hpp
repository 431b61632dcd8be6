#pragma once
// Log-linear latency histogram in the spirit of HdrHistogram: values below 2^sub_bits are
// counted exactly, above that every power of two is split into 2^(sub_bits-1) equal
// buckets, so a bucket is never wider than 1/128 (0.8 %) of its value. Fixed storage,
// record() is a few instructions and never allocates.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace bench {

class Histogram {
 public:
  static constexpr unsigned sub_bits = 8;   // 256 exact values, then 128 buckets per octave
  static constexpr unsigned max_bits = 40;  // 2^40 ns = 18 min: larger values are clamped
  static constexpr size_t sub_count = size_t{1} << sub_bits;
  static constexpr size_t half = sub_count / 2;
  static constexpr size_t bucket_count = sub_count + (max_bits - sub_bits) * half;
  static constexpr uint64_t max_value = (uint64_t{1} << max_bits) - 1;

  void record(uint64_t value) noexcept {
    if (value > max_value) value = max_value;
    ++counts_[index_of(value)];
    ++total_;
    sum_ += value;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
  }

  void merge(const Histogram& other) noexcept;

  uint64_t count() const noexcept { return total_; }
  uint64_t min() const noexcept { return total_ == 0 ? 0 : min_; }
  uint64_t max() const noexcept { return max_; }
  double mean() const noexcept {
    return total_ == 0 ? 0.0 : static_cast<double>(sum_) / static_cast<double>(total_);
  }
  // The value at or below which `percentile` % of the samples fall (the highest value of
  // that sample's bucket, capped by max()); 0 when empty.
  uint64_t percentile(double percentile) const noexcept;

  // Non-empty buckets as (highest value of the bucket, count), ascending.
  std::vector<std::pair<uint64_t, uint64_t>> buckets() const;

  static constexpr size_t index_of(uint64_t v) noexcept {
    if (v < sub_count) return static_cast<size_t>(v);
    const unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(v));
    const unsigned shift = msb - (sub_bits - 1);         // >= 1
    const size_t sub = static_cast<size_t>(v >> shift);  // in [half, sub_count)
    return sub_count + (shift - 1) * half + (sub - half);
  }
  static constexpr uint64_t highest_of(size_t index) noexcept {
    if (index < sub_count) return index;
    const size_t shift = (index - sub_count) / half + 1;
    const uint64_t sub = (index - sub_count) % half + half;
    return ((sub + 1) << shift) - 1;
  }

 private:
  std::array<uint64_t, bucket_count> counts_{};
  uint64_t total_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace bench
