#pragma once
// A scrape of a real spoa-host's /metrics, for black-box tests: fetched over HTTP/1.1 on
// loopback, parsed into `series -> value` where a series is the line's text before the
// value ("name{label=\"v\",...}"), exactly as the server wrote it.
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace spoa::mtest {

struct Scrape {
  int status = 0;
  std::string content_type;
  std::string body;
  std::map<std::string, double> samples;

  // 0 for a series the scrape does not have (status series appear when first counted).
  double get(const std::string& series) const {
    const auto it = samples.find(series);
    return it == samples.end() ? 0 : it->second;
  }
  bool has(const std::string& series) const { return samples.count(series) != 0; }
  // Metric names of every sample ("x_bucket", "x_sum", "x_count" for histograms).
  std::set<std::string> names() const;
  // Number of sample lines.
  size_t series_count() const { return samples.size(); }
};

// GET /metrics from "127.0.0.1:PORT"; throws std::runtime_error if the server does not
// answer within `timeout`.
Scrape scrape(const std::string& address,
              std::chrono::milliseconds timeout = std::chrono::seconds(5));

Scrape parse_exposition(const std::string& body);

}  // namespace spoa::mtest
