#pragma once
// Every thread's counter block, and the scrape that sums them into the text format.
//
// Threads: add_thread() and add_collector() before or while serving, from any thread;
// render() from any thread (the HTTP endpoint's), concurrently with the writers, whose
// counters it reads with relaxed loads and never locks.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/names.hpp"
#include "metrics/text_writer.hpp"
#include "metrics/thread_metrics.hpp"

namespace spoa::metrics {

class Registry {
 public:
  using Collector = std::function<void(TextWriter&)>;

  explicit Registry(SeriesNames& names = series_names()) : names_(names) {}
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // A block for one more writer thread. It lives as long as the registry, so the registry
  // must outlive every thread that writes into it.
  ThreadMetrics& add_thread();
  // Appends families of its own (build info, reloads, process) after the built-in ones.
  // Called during render(), on the scraping thread.
  void add_collector(Collector collector);

  // The whole exposition.
  std::string render() const;

 private:
  SeriesNames& names_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<ThreadMetrics>> threads_;
  std::vector<Collector> collectors_;
};

}  // namespace spoa::metrics
