#pragma once
// The Prometheus text exposition format, version 0.0.4: one `# HELP` and `# TYPE` per
// family, then its samples, `name{label="value",...} value`, one per line.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "metrics/histogram.hpp"

namespace spoa::metrics {

// What the endpoint answers with (the format's own media type).
inline constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

struct Label {
  std::string_view name;
  std::string_view value;  // escaped by the writer
};

class TextWriter {
 public:
  // Starts a family. `type`: counter, gauge, histogram, untyped.
  void family(std::string_view name, std::string_view type, std::string_view help);

  void sample(std::string_view name, std::span<const Label> labels, uint64_t value);
  void sample(std::string_view name, std::span<const Label> labels, int64_t value);
  void sample(std::string_view name, std::span<const Label> labels, double value);
  void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }
  void sample(std::string_view name, std::initializer_list<Label> labels, int64_t value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }
  void sample(std::string_view name, std::initializer_list<Label> labels, double value) {
    sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
  }

  // NAME_bucket{..., le="..."} cumulative, NAME_sum in seconds, NAME_count.
  void histogram(std::string_view name, std::span<const Label> labels,
                 const HistogramSnapshot& histogram);
  void histogram(std::string_view name, std::initializer_list<Label> labels,
                 const HistogramSnapshot& snapshot) {
    histogram(name, std::span<const Label>(labels.begin(), labels.size()), snapshot);
  }

  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void begin_sample(std::string_view name, std::span<const Label> labels,
                    const Label* extra = nullptr);

  std::string out_;
};

// Label values: backslash, double quote and line feed escaped (the format's rules).
void append_escaped_label_value(std::string& out, std::string_view value);
// A float as the format writes it: +Inf, -Inf, NaN, or the shortest exact decimal.
std::string format_value(double value);

}  // namespace spoa::metrics
