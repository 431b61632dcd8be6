#include "host/plugin_metrics.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "log/log.hpp"

namespace spoa::host {

namespace {

constexpr uint32_t default_max_series = 64;
constexpr uint32_t largest_max_series = 1024;
constexpr std::array<double, 12> default_buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                    0.05,   0.1,   0.25,   0.5,   1,    2.5};

bool valid_identifier(std::string_view name, size_t longest) {
  if (name.empty() || name.size() > longest) return false;
  if (name[0] >= '0' && name[0] <= '9') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string_view view(spoa_str s) {
  return s.len == 0 ? std::string_view() : std::string_view(s.ptr, s.len);
}

struct Registry {
  std::mutex mutex;
  // (instance, metric name) -> the live definition. Kept for the life of the process: a
  // handle a plugin holds stays valid, and values survive a reload.
  std::map<std::pair<std::string, std::string>, std::unique_ptr<PluginMetric>> metrics;
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

PluginMetric::PluginMetric(std::string instance, Shape shape)
    : instance_(std::move(instance)),
      shape_(std::move(shape)),
      series_(std::make_unique<std::atomic<Series*>[]>(shape_.max_series)) {}

PluginMetric::Series* PluginMetric::find_or_create(const spoa_str* values, size_t count,
                                                   int32_t& status) noexcept {
  if (count != shape_.labels.size() || (count != 0 && values == nullptr)) {
    status = SPOA_ERR_INVALID_ARGUMENT;
    return nullptr;
  }
  for (size_t i = 0; i < count; ++i) {
    if ((values[i].ptr == nullptr && values[i].len != 0) || values[i].len > max_label_value) {
      status = SPOA_ERR_INVALID_ARGUMENT;
      return nullptr;
    }
  }
  const auto matches = [&](const Series& series) {
    for (size_t i = 0; i < count; ++i) {
      if (series.values[i] != view(values[i])) return false;
    }
    return true;
  };
  const uint32_t published = series_count_.load(std::memory_order_acquire);
  for (uint32_t i = 0; i < published; ++i) {
    Series* series = series_[i].load(std::memory_order_relaxed);
    if (matches(*series)) return series;
  }
  try {
    std::lock_guard lock(create_mutex_);
    const uint32_t now = series_count_.load(std::memory_order_relaxed);
    for (uint32_t i = published; i < now; ++i) {
      Series* series = series_[i].load(std::memory_order_relaxed);
      if (matches(*series)) return series;
    }
    if (now >= shape_.max_series) {
      if (!overflow_logged_.exchange(true)) {
        log::event(log::Level::warn, {.plugin = instance_},
                   "plugin {}: metric spoa_plugin_{} reached its max_series ({}); samples with "
                   "new label values are dropped",
                   instance_, shape_.name, shape_.max_series);
      }
      status = SPOA_ERR_TOO_BIG;
      return nullptr;
    }
    auto series = std::make_unique<Series>();
    for (size_t i = 0; i < count; ++i)
      series->values.emplace_back(view(values[i]));
    if (shape_.kind == SPOA_METRIC_HISTOGRAM) {
      series->buckets = std::make_unique<std::atomic<uint64_t>[]>(shape_.buckets.size() + 1);
    }
    Series* raw = series.get();
    storage_.push_back(std::move(series));
    series_[now].store(raw, std::memory_order_relaxed);
    series_count_.store(now + 1, std::memory_order_release);
    return raw;
  } catch (...) {
    status = SPOA_ERR_HOST_FAILURE;
    return nullptr;
  }
}

int32_t PluginMetric::add(const spoa_str* values, size_t count, uint64_t delta) noexcept {
  if (shape_.kind != SPOA_METRIC_COUNTER) return SPOA_ERR_INVALID_ARGUMENT;
  int32_t status = SPOA_OK;
  Series* series = find_or_create(values, count, status);
  if (series == nullptr) return status;
  series->count.fetch_add(delta, std::memory_order_relaxed);
  return SPOA_OK;
}

int32_t PluginMetric::observe(const spoa_str* values, size_t count, double value) noexcept {
  if (shape_.kind != SPOA_METRIC_HISTOGRAM || std::isnan(value)) return SPOA_ERR_INVALID_ARGUMENT;
  int32_t status = SPOA_OK;
  Series* series = find_or_create(values, count, status);
  if (series == nullptr) return status;
  const auto& bounds = shape_.buckets;
  const size_t bucket =
      static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  series->buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  uint64_t bits = series->sum_bits.load(std::memory_order_relaxed);
  while (!series->sum_bits.compare_exchange_weak(
      bits, std::bit_cast<uint64_t>(std::bit_cast<double>(bits) + value),
      std::memory_order_relaxed)) {
  }
  series->count.fetch_add(1, std::memory_order_relaxed);
  return SPOA_OK;
}

int32_t PluginMetric::set(const spoa_str* values, size_t count, double value) noexcept {
  if (shape_.kind != SPOA_METRIC_GAUGE || std::isnan(value)) return SPOA_ERR_INVALID_ARGUMENT;
  int32_t status = SPOA_OK;
  Series* series = find_or_create(values, count, status);
  if (series == nullptr) return status;
  series->sum_bits.store(std::bit_cast<uint64_t>(value), std::memory_order_relaxed);
  return SPOA_OK;
}

void PluginMetric::write(metrics::TextWriter& w) const {
  const std::string family = "spoa_plugin_" + shape_.name;
  const uint32_t published = series_count_.load(std::memory_order_acquire);
  std::vector<metrics::Label> labels;
  for (uint32_t i = 0; i < published; ++i) {
    const Series& series = *series_[i].load(std::memory_order_relaxed);
    labels.clear();
    labels.push_back({"plugin", instance_});
    for (size_t l = 0; l < shape_.labels.size(); ++l)
      labels.push_back({shape_.labels[l], series.values[l]});
    if (shape_.kind == SPOA_METRIC_COUNTER) {
      w.sample(family, labels, series.count.load(std::memory_order_relaxed));
      continue;
    }
    if (shape_.kind == SPOA_METRIC_GAUGE) {
      w.sample(family, labels,
               std::bit_cast<double>(series.sum_bits.load(std::memory_order_relaxed)));
      continue;
    }
    uint64_t cumulative = 0;
    std::string bound;
    labels.push_back({"le", {}});
    for (size_t b = 0; b <= shape_.buckets.size(); ++b) {
      cumulative += series.buckets[b].load(std::memory_order_relaxed);
      bound = b == shape_.buckets.size() ? "+Inf" : metrics::format_value(shape_.buckets[b]);
      labels.back().value = bound;
      w.sample(family + "_bucket", labels, cumulative);
    }
    labels.pop_back();
    w.sample(family + "_sum", labels,
             std::bit_cast<double>(series.sum_bits.load(std::memory_order_relaxed)));
    // The count read last, after the buckets: never below their sum in one scrape.
    w.sample(family + "_count", labels,
             std::max(cumulative, series.count.load(std::memory_order_relaxed)));
  }
}

int32_t define_plugin_metric(const std::string& instance, const spoa_metric_desc* desc,
                             PluginMetric*& out) noexcept {
  try {
    if (desc == nullptr || desc->struct_size < sizeof(spoa_metric_desc)) {
      return SPOA_ERR_INVALID_ARGUMENT;
    }
    if (desc->kind != SPOA_METRIC_COUNTER && desc->kind != SPOA_METRIC_HISTOGRAM &&
        desc->kind != SPOA_METRIC_GAUGE) {
      return SPOA_ERR_INVALID_ARGUMENT;
    }
    if ((desc->name.ptr == nullptr && desc->name.len != 0) ||
        (desc->help.ptr == nullptr && desc->help.len != 0) ||
        (desc->nlabels != 0 && desc->label_names == nullptr) ||
        (desc->nbuckets != 0 && desc->buckets == nullptr)) {
      return SPOA_ERR_INVALID_ARGUMENT;
    }
    PluginMetric::Shape shape;
    shape.kind = desc->kind;
    shape.name = std::string(view(desc->name));
    if (!valid_identifier(shape.name, 64)) return SPOA_ERR_BAD_NAME;
    shape.help = std::string(view(desc->help));
    if (shape.help.find('\n') != std::string::npos) return SPOA_ERR_INVALID_ARGUMENT;
    if (desc->nlabels > PluginMetric::max_labels) return SPOA_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < desc->nlabels; ++i) {
      const std::string_view label = view(desc->label_names[i]);
      if (!valid_identifier(label, 32) || label == "plugin" || label == "le") {
        return SPOA_ERR_BAD_NAME;
      }
      if (std::find(shape.labels.begin(), shape.labels.end(), label) != shape.labels.end()) {
        return SPOA_ERR_BAD_NAME;
      }
      shape.labels.emplace_back(label);
    }
    if (desc->max_series > largest_max_series) return SPOA_ERR_INVALID_ARGUMENT;
    shape.max_series = desc->max_series == 0 ? default_max_series : desc->max_series;
    if (shape.kind == SPOA_METRIC_HISTOGRAM) {
      if (desc->nbuckets > PluginMetric::max_buckets) return SPOA_ERR_INVALID_ARGUMENT;
      if (desc->nbuckets == 0) {
        shape.buckets.assign(default_buckets.begin(), default_buckets.end());
      } else {
        shape.buckets.assign(desc->buckets, desc->buckets + desc->nbuckets);
      }
      for (size_t i = 0; i < shape.buckets.size(); ++i) {
        if (!std::isfinite(shape.buckets[i])) return SPOA_ERR_INVALID_ARGUMENT;
        if (i != 0 && !(shape.buckets[i] > shape.buckets[i - 1])) return SPOA_ERR_INVALID_ARGUMENT;
      }
    } else if (desc->nbuckets != 0) {
      return SPOA_ERR_INVALID_ARGUMENT;
    }

    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    // One family per name: another instance's definition must agree on the shape.
    for (const auto& [key, metric] : r.metrics) {
      if (key.second == shape.name && key.first != instance && !(metric->shape() == shape)) {
        return SPOA_ERR_DUPLICATE;
      }
    }
    auto& slot = r.metrics[{instance, shape.name}];
    if (slot && slot->shape() == shape) {
      out = slot.get();  // a reload's new instance: the values carry on
      return SPOA_OK;
    }
    if (slot) {
      // Redefined with another shape: the old handle must stay valid for the generation
      // still running, so it is parked, not freed.
      static std::vector<std::unique_ptr<PluginMetric>> retired;
      retired.push_back(std::move(slot));
    }
    slot = std::make_unique<PluginMetric>(instance, std::move(shape));
    out = slot.get();
    return SPOA_OK;
  } catch (...) {
    return SPOA_ERR_HOST_FAILURE;
  }
}

void write_plugin_metrics(metrics::TextWriter& w) {
  Registry& r = registry();
  std::lock_guard lock(r.mutex);
  std::map<std::string, std::vector<const PluginMetric*>> families;
  for (const auto& [key, metric] : r.metrics)
    families[key.second].push_back(metric.get());
  for (const auto& [name, members] : families) {
    const PluginMetric::Shape& shape = members.front()->shape();
    const char* type = shape.kind == SPOA_METRIC_COUNTER ? "counter"
                       : shape.kind == SPOA_METRIC_GAUGE ? "gauge"
                                                         : "histogram";
    w.family("spoa_plugin_" + name, type, shape.help.empty() ? "Defined by a plugin." : shape.help);
    for (const PluginMetric* metric : members)
      metric->write(w);
  }
}

}  // namespace spoa::host
