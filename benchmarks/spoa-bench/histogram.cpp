#include "histogram.hpp"

#include <algorithm>
#include <cmath>

namespace bench {

static_assert(Histogram::index_of(Histogram::max_value) == Histogram::bucket_count - 1);
static_assert(Histogram::highest_of(Histogram::bucket_count - 1) == Histogram::max_value);
static_assert(Histogram::index_of(255) == 255 && Histogram::index_of(256) == 256);
static_assert(Histogram::highest_of(256) == 257 && Histogram::index_of(257) == 256);
static_assert(Histogram::index_of(258) == 257);

void Histogram::merge(const Histogram& other) noexcept {
  for (size_t i = 0; i < bucket_count; ++i)
    counts_[i] += other.counts_[i];
  total_ += other.total_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t Histogram::percentile(double percentile) const noexcept {
  if (total_ == 0) return 0;
  percentile = std::clamp(percentile, 0.0, 100.0);
  // The rank of the sample, 1-based: p50 of 4 samples is the 2nd.
  auto rank = static_cast<uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(total_)));
  rank = std::clamp<uint64_t>(rank, 1, total_);
  uint64_t seen = 0;
  for (size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(highest_of(i), max_);
  }
  return max_;
}

std::vector<std::pair<uint64_t, uint64_t>> Histogram::buckets() const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (size_t i = 0; i < bucket_count; ++i) {
    if (counts_[i] != 0) out.emplace_back(highest_of(i), counts_[i]);
  }
  return out;
}

}  // namespace bench
