#include "metrics/text_writer.hpp"

#include <fmt/format.h>

#include <cmath>

namespace spoa::metrics {

namespace {
void append_escaped_help(std::string& out, std::string_view help) {
  for (const char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// Fixed strings per bound so that every scrape writes the same `le` text; Prometheus joins
// buckets across scrapes by that text.
const std::array<std::string, latency_buckets>& le_texts() {
  static const auto texts = [] {
    std::array<std::string, latency_buckets> out;
    for (size_t i = 0; i < latency_bounds_ns.size(); ++i)
      out[i] = format_value(static_cast<double>(latency_bounds_ns[i]) / 1e9);
    out.back() = "+Inf";
    return out;
  }();
  return texts;
}
}  // namespace

void append_escaped_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

void TextWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped_help(out_, help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void TextWriter::begin_sample(std::string_view name, std::span<const Label> labels,
                              const Label* extra) {
  out_ += name;
  if (labels.empty() && extra == nullptr) {
    out_ += ' ';
    return;
  }
  char separator = '{';
  const auto append = [&](const Label& label) {
    out_ += separator;
    out_ += label.name;
    out_ += "=\"";
    append_escaped_label_value(out_, label.value);
    out_ += '"';
    separator = ',';
  };
  for (const Label& label : labels)
    append(label);
  if (extra != nullptr) append(*extra);
  out_ += "} ";
}

void TextWriter::sample(std::string_view name, std::span<const Label> labels, uint64_t value) {
  begin_sample(name, labels);
  fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

void TextWriter::sample(std::string_view name, std::span<const Label> labels, int64_t value) {
  begin_sample(name, labels);
  fmt::format_to(std::back_inserter(out_), "{}\n", value);
}

void TextWriter::sample(std::string_view name, std::span<const Label> labels, double value) {
  begin_sample(name, labels);
  out_ += format_value(value);
  out_ += '\n';
}

void TextWriter::histogram(std::string_view name, std::span<const Label> labels,
                           const HistogramSnapshot& snapshot) {
  const std::string bucket_name = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < latency_buckets; ++i) {
    cumulative += snapshot.buckets[i];
    const Label le{"le", le_texts()[i]};
    begin_sample(bucket_name, labels, &le);
    fmt::format_to(std::back_inserter(out_), "{}\n", cumulative);
  }
  // _count is the +Inf bucket of the same snapshot, as the format requires.
  sample(std::string(name) + "_sum", labels, static_cast<double>(snapshot.sum_ns) / 1e9);
  sample(std::string(name) + "_count", labels, cumulative);
}

}  // namespace spoa::metrics
