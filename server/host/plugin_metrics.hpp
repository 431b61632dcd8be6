#pragma once
// Counters and histograms plugins define (plugin.h define_metric), exported on /metrics as
// spoa_plugin_<name>{plugin="<instance>", labels...}.
//
// Process-wide and keyed by (instance, metric name): an instance that a reload restarts and
// that defines the same metric again gets the same series back, so its counters keep
// growing across the reload. Label-value combinations are bounded per metric
// (max_series), so request data fed into a label cannot grow the exposition.
#include <spoa/plugin.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/text_writer.hpp"

namespace spoa::host {

class PluginMetric {
 public:
  static constexpr size_t max_labels = 4;
  static constexpr size_t max_buckets = 32;
  static constexpr size_t max_label_value = 128;

  struct Shape {
    int32_t kind = SPOA_METRIC_COUNTER;
    std::string name;
    std::string help;
    std::vector<std::string> labels;
    std::vector<double> buckets;
    uint32_t max_series = 64;
    bool operator==(const Shape& other) const {
      return kind == other.kind && name == other.name && labels == other.labels &&
             buckets == other.buckets;
    }
  };

  PluginMetric(std::string instance, Shape shape);

  // plugin.h metric_add / metric_observe. Any thread; lock-free once the series exists.
  int32_t add(const spoa_str* values, size_t count, uint64_t delta) noexcept;
  int32_t observe(const spoa_str* values, size_t count, double value) noexcept;
  int32_t set(const spoa_str* values, size_t count, double value) noexcept;

  const std::string& instance() const { return instance_; }
  const Shape& shape() const { return shape_; }
  spoa_metric* handle() { return reinterpret_cast<spoa_metric*>(this); }
  static PluginMetric* from_handle(spoa_metric* handle) {
    return reinterpret_cast<PluginMetric*>(handle);
  }

  // The scraper's thread: this metric's samples (the family line is written by the caller).
  void write(metrics::TextWriter& w) const;

 private:
  struct Series {
    std::vector<std::string> values;
    std::atomic<uint64_t> count{0};     // counter value, or histogram observation count
    std::atomic<uint64_t> sum_bits{0};  // histogram: the sum; gauge: the value (double bits)
    std::unique_ptr<std::atomic<uint64_t>[]> buckets;  // histogram: per bucket (not cumulative)
  };

  // The series of these values, created if there is room; nullptr past max_series.
  Series* find_or_create(const spoa_str* values, size_t count, int32_t& status) noexcept;

  std::string instance_;
  Shape shape_;
  // Published series: a fixed array (never reallocated) and how many are valid, so readers
  // scan without a lock; creation takes the mutex.
  std::unique_ptr<std::atomic<Series*>[]> series_;
  std::atomic<uint32_t> series_count_{0};
  std::mutex create_mutex_;
  std::vector<std::unique_ptr<Series>> storage_;
  std::atomic<bool> overflow_logged_{false};
};

// Behind define_metric: validates `desc` and returns the instance's metric (the existing
// one when an earlier generation of the instance defined the same shape). Thread-safe.
int32_t define_plugin_metric(const std::string& instance, const spoa_metric_desc* desc,
                             PluginMetric*& out) noexcept;

// Every plugin metric, grouped into families by name. For a Registry collector.
void write_plugin_metrics(metrics::TextWriter& w);

}  // namespace spoa::host
