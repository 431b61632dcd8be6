// The metrics library alone: single-writer counters and histograms, series names and their
// bounds, the text format, the registry's sums, and a scrape racing the writers (the TSan
// build is what proves that race harmless).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "metrics/histogram.hpp"
#include "metrics/names.hpp"
#include "metrics/process.hpp"
#include "metrics/registry.hpp"
#include "metrics/series_array.hpp"
#include "metrics/text_writer.hpp"
#include "metrics/thread_metrics.hpp"
#include "metrics/tick_clock.hpp"

namespace spoa::metrics {
namespace {

// The value of the sample whose line starts with `series` ("name{labels}"), or -1.
double sample(const std::string& text, const std::string& series) {
  size_t at = 0;
  while ((at = text.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') return std::stod(text.substr(at + series.size() + 1));
    at += series.size();
  }
  return -1;
}

TEST(Counter, AddsAndReads) {
  Counter c;
  EXPECT_EQ(c.value(), 0u);
  c.add();
  c.add(41);
  EXPECT_EQ(c.value(), 42u);
  Gauge g;
  g.add(3);
  g.add(-5);
  EXPECT_EQ(g.value(), -2);
}

TEST(Histogram, BoundsAreInclusiveAndTheLastBucketIsInf) {
  Histogram h;
  h.observe_ns(0);
  h.observe_ns(100);             // le 1e-07: a bound belongs to its own bucket
  h.observe_ns(101);             // le 2.5e-07
  h.observe_ns(1'000);           // le 1e-06
  h.observe_ns(20'000'000'000);  // past 10 s: +Inf
  EXPECT_EQ(h.bucket(0), 2u);
  EXPECT_EQ(h.bucket(1), 1u);
  EXPECT_EQ(h.bucket(3), 1u);
  EXPECT_EQ(h.bucket(latency_buckets - 1), 1u);
  EXPECT_EQ(h.sum_ns(), 0u + 100 + 101 + 1'000 + 20'000'000'000);
  h.observe(std::chrono::milliseconds(-1));  // a clock step backwards counts as 0
  EXPECT_EQ(h.bucket(0), 3u);
}

// The constant-time bucket lookup agrees with a plain search for every bound, its
// neighbours, and a spread of values up to 2^64-1.
TEST(Histogram, BucketLookupMatchesASearch) {
  const auto searched = [](uint64_t ns) {
    size_t i = 0;
    while (i < latency_bounds_ns.size() && latency_bounds_ns[i] < ns)
      ++i;
    return i;
  };
  std::vector<uint64_t> values = {0, 1, 2, 99, UINT64_MAX, UINT64_MAX - 1};
  for (const uint64_t bound : latency_bounds_ns) {
    values.insert(values.end(), {bound - 1, bound, bound + 1});
  }
  for (int width = 0; width < 64; ++width) {
    const uint64_t power = uint64_t{1} << width;
    values.insert(values.end(), {power - 1, power, power + 1, power + power / 3});
  }
  for (uint64_t v = 0; v < 100'000; v += 7)
    values.push_back(v * 997);
  for (const uint64_t v : values)
    ASSERT_EQ(latency_bucket(v), searched(v)) << v;
}

TEST(Histogram, BoundsAreSortedLogScale) {
  for (size_t i = 1; i < latency_bounds_ns.size(); ++i) {
    // latency_bucket() relies on consecutive bounds being at least 2x apart.
    EXPECT_GE(latency_bounds_ns[i], 2 * latency_bounds_ns[i - 1]);
    EXPECT_LE(latency_bounds_ns[i], latency_bounds_ns[i - 1] * 5 / 2);
  }
}

TEST(TextWriter, WritesHistogramsCumulativelyWithSumAndCount) {
  Histogram h;
  h.observe_ns(200);
  h.observe_ns(3'000'000);
  HistogramSnapshot snapshot;
  snapshot.add(h);
  TextWriter w;
  w.family("x_seconds", "histogram", "help");
  w.histogram("x_seconds", {{"plugin", "p"}}, snapshot);
  const std::string& t = w.text();
  EXPECT_NE(t.find("# HELP x_seconds help\n# TYPE x_seconds histogram\n"), std::string::npos);
  EXPECT_EQ(sample(t, "x_seconds_bucket{plugin=\"p\",le=\"1e-07\"}"), 0);
  EXPECT_EQ(sample(t, "x_seconds_bucket{plugin=\"p\",le=\"2.5e-07\"}"), 1);
  EXPECT_EQ(sample(t, "x_seconds_bucket{plugin=\"p\",le=\"0.0025\"}"), 1);
  EXPECT_EQ(sample(t, "x_seconds_bucket{plugin=\"p\",le=\"0.005\"}"), 2);
  EXPECT_EQ(sample(t, "x_seconds_bucket{plugin=\"p\",le=\"+Inf\"}"), 2);
  EXPECT_DOUBLE_EQ(sample(t, "x_seconds_sum{plugin=\"p\"}"), 0.0030002);
  EXPECT_EQ(sample(t, "x_seconds_count{plugin=\"p\"}"), 2);
}

TEST(TextWriter, EscapesLabelValuesAndHelp) {
  TextWriter w;
  w.family("m_total", "counter", "a \\ b\nc");
  w.sample("m_total", {{"message", "q\"uo\\te\nnl"}}, uint64_t{1});
  EXPECT_EQ(w.text(),
            "# HELP m_total a \\\\ b\\nc\n# TYPE m_total counter\n"
            "m_total{message=\"q\\\"uo\\\\te\\nnl\"} 1\n");
}

TEST(TextWriter, FormatsSpecialFloats) {
  EXPECT_EQ(format_value(1.5), "1.5");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
}

TEST(SeriesNames, SameNameSameIdAcrossRegistrations) {
  SeriesNames names;
  const uint32_t a = names.plugin("a");
  const uint32_t b = names.plugin("b");
  EXPECT_NE(a, b);
  EXPECT_EQ(names.plugin("a"), a);  // a reload that keeps the instance keeps its series
  const uint32_t m = names.message("a", "check");
  EXPECT_EQ(names.message("a", "check"), m);
  // The same message moved to another instance is another series.
  EXPECT_NE(names.message("b", "check"), m);
  ASSERT_EQ(names.messages().size(), 2u);
  EXPECT_EQ(names.messages()[m].plugin, a);
  EXPECT_EQ(names.plugins(), (std::vector<std::string>{"a", "b"}));
}

TEST(SeriesNames, StopsAtItsBounds) {
  SeriesNames names;
  for (uint32_t i = 0; i < max_plugin_series; ++i)
    ASSERT_EQ(names.plugin("p" + std::to_string(i)), i);
  EXPECT_EQ(names.plugin("one-too-many"), no_series);
  EXPECT_EQ(names.message("one-too-many", "m"), no_series);
  EXPECT_EQ(names.plugins().size(), max_plugin_series);
}

TEST(SeriesArray, AllocatesChunksOnFirstWriteAndRefusesPastCapacity) {
  SeriesArray<Counter, 4, 2> array;
  EXPECT_EQ(array.readable(5), nullptr);
  Counter* c = array.writable(5);
  ASSERT_NE(c, nullptr);
  c->add(3);
  ASSERT_NE(array.readable(5), nullptr);
  EXPECT_EQ(array.readable(5)->value(), 3u);
  EXPECT_EQ(array.readable(4)->value(), 0u);  // same chunk, zeroed
  EXPECT_EQ(array.readable(0), nullptr);      // other chunk, never touched
  EXPECT_EQ(array.writable(8), nullptr);
  EXPECT_EQ(array.writable(no_series), nullptr);
}

TEST(Registry, SumsThreadsAndLabelsSeriesWithConfigNames) {
  SeriesNames names;
  Registry registry(names);
  const uint32_t plugin = names.plugin("geo");
  const uint32_t message = names.message("geo", "check-client");
  ThreadMetrics& t1 = registry.add_thread();
  ThreadMetrics& t2 = registry.add_thread();
  t1.notify_frames.add(2);
  t2.notify_frames.add(3);
  t1.count_message(message);
  t2.count_message(message);
  t2.messages_unclaimed.add(7);
  PluginSeries* p1 = t1.plugin(plugin);
  PluginSeries* p2 = t2.plugin(plugin);
  ASSERT_NE(p1, nullptr);
  ASSERT_NE(p2, nullptr);
  p1->count(PluginOutcome::done);
  p2->count(PluginOutcome::exception);
  p2->duration.observe_ns(1'000);
  t1.count_close(CloseReason::agent_disconnect, 4);
  t2.count_close(CloseReason::haproxy_disconnect, 1'000'000);  // off the table: "other"
  t1.count_close(CloseReason::reset, 0);
  t1.connections_opened.add(5);
  t1.notify_in_flight.add(2);
  t2.notify_in_flight.add(-1);
  registry.add_collector([](TextWriter& w) {
    w.family("extra", "gauge", "from a collector");
    w.sample("extra", {}, uint64_t{9});
  });

  const std::string text = registry.render();
  EXPECT_EQ(sample(text, "spoa_host_notify_frames_total"), 5);
  EXPECT_EQ(sample(text, "spoa_host_messages_total{plugin=\"geo\",message=\"check-client\"}"), 2);
  EXPECT_EQ(sample(text, "spoa_host_messages_unclaimed_total"), 7);
  EXPECT_EQ(sample(text, "spoa_host_plugin_outcomes_total{plugin=\"geo\",outcome=\"done\"}"), 1);
  EXPECT_EQ(sample(text, "spoa_host_plugin_outcomes_total{plugin=\"geo\",outcome=\"exception\"}"),
            1);
  EXPECT_EQ(sample(text, "spoa_host_plugin_outcomes_total{plugin=\"geo\",outcome=\"failed\"}"), 0);
  EXPECT_EQ(sample(text, "spoa_host_plugin_duration_seconds_count{plugin=\"geo\"}"), 1);
  EXPECT_EQ(
      sample(text, "spoa_host_connections_closed_total{reason=\"agent_disconnect\",status=\"4\"}"),
      1);
  EXPECT_EQ(sample(text,
                   "spoa_host_connections_closed_total{reason=\"haproxy_disconnect\",status="
                   "\"other\"}"),
            1);
  EXPECT_EQ(sample(text, "spoa_host_connections_closed_total{reason=\"reset\"}"), 1);
  EXPECT_EQ(sample(text, "spoa_host_connections_open"), 2);  // 5 opened, 3 closed
  EXPECT_EQ(sample(text, "spoa_host_notify_in_flight"), 1);
  EXPECT_EQ(sample(text, "extra"), 9);
  // SPOP's own codes have series from the start; others only once seen (bounded either
  // way, but not 100 zeros).
  EXPECT_EQ(
      sample(text, "spoa_host_connections_closed_total{reason=\"agent_disconnect\",status=\"13\"}"),
      0);
  EXPECT_EQ(text.find("status=\"42\""), std::string::npos);
}

// Writers bump their own blocks flat out while a scraper renders: every scrape sees
// monotonic values, and the last one the exact totals. Under TSan this is the proof that
// the single-writer scheme has no data race.
TEST(Registry, ScrapesRaceWritersSafely) {
  SeriesNames names;
  Registry registry(names);
  const uint32_t plugin = names.plugin("p");
  const uint32_t message = names.message("p", "m");
  constexpr int writers = 3;
  constexpr uint64_t per_writer = 200'000;
  std::vector<ThreadMetrics*> blocks;
  for (int i = 0; i < writers; ++i)
    blocks.push_back(&registry.add_thread());
  std::atomic<int> running{writers};
  std::vector<std::thread> threads;
  for (int i = 0; i < writers; ++i) {
    threads.emplace_back([&, block = blocks[i]] {
      for (uint64_t n = 0; n < per_writer; ++n) {
        block->notify_frames.add();
        block->count_message(message);
        PluginSeries* series = block->plugin(plugin);
        ASSERT_NE(series, nullptr);
        series->count(PluginOutcome::done);
        series->duration.observe_ns(n % 5'000'000);
        block->notify_duration.observe_ns(n);
      }
      running.fetch_sub(1);
    });
  }
  double last = 0;
  int scrapes = 0;
  while (running.load() > 0 && scrapes < 10'000) {
    const std::string text = registry.render();
    const double now = sample(text, "spoa_host_notify_frames_total");
    ASSERT_GE(now, last);
    last = now;
    const double count = sample(text, "spoa_host_notify_duration_seconds_count");
    const double inf = sample(text, "spoa_host_notify_duration_seconds_bucket{le=\"+Inf\"}");
    ASSERT_EQ(count, inf);
    ++scrapes;
  }
  for (auto& t : threads)
    t.join();
  const std::string text = registry.render();
  constexpr double total = writers * per_writer;
  EXPECT_EQ(sample(text, "spoa_host_notify_frames_total"), total);
  EXPECT_EQ(sample(text, "spoa_host_messages_total{plugin=\"p\",message=\"m\"}"), total);
  EXPECT_EQ(sample(text, "spoa_host_plugin_outcomes_total{plugin=\"p\",outcome=\"done\"}"), total);
  EXPECT_EQ(sample(text, "spoa_host_plugin_duration_seconds_count{plugin=\"p\"}"), total);
  EXPECT_EQ(sample(text, "spoa_host_notify_duration_seconds_count"), total);
}

// One cache line or more per block: two threads' counters never share a line.
TEST(ThreadMetrics, BlocksAreCacheLineAligned) {
  EXPECT_EQ(alignof(ThreadMetrics) % 64, 0u);
  SeriesNames names;
  Registry registry(names);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(reinterpret_cast<uintptr_t>(&registry.add_thread()) % 64, 0u);
}

// Whatever source it picked (the TSC or steady_clock), the clock measures real time. Not a
// margin a loaded machine can miss: steady_clock is exact, and the TSC's calibration pairs
// each of its ends with steady_clock to within 2 us over >= 10 ms (<= 2e-4 error) or is
// not used; the sleep lasts at least 30 ms and `wall` brackets both readings.
TEST(TickClock, MeasuresIntervalsInNanoseconds) {
  const TickClock& clock = TickClock::instance();
  EXPECT_GT(clock.ns_per_tick(), 0);
  const auto wall0 = std::chrono::steady_clock::now();
  const uint64_t start = clock.now();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const uint64_t end = clock.now();
  const auto wall =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - wall0)
          .count();
  const uint64_t measured = clock.elapsed_ns(start, end);
  EXPECT_GE(measured, 29'000'000u);
  EXPECT_LE(static_cast<double>(measured), static_cast<double>(wall) * 1.05);
  EXPECT_EQ(clock.elapsed_ns(end, start), 0u);  // never a negative duration
}

TEST(ProcessStats, ReadsProcSelf) {
  const ProcessStats stats = read_process_stats();
  ASSERT_TRUE(stats.resident_bytes.has_value());
  EXPECT_GT(*stats.resident_bytes, 0u);
  ASSERT_TRUE(stats.open_fds.has_value());
  EXPECT_GE(*stats.open_fds, 3u);  // stdin, stdout, stderr at least
  ASSERT_TRUE(stats.cpu_seconds.has_value());
  ASSERT_TRUE(stats.start_time_seconds.has_value());
  EXPECT_GT(*stats.start_time_seconds, 1.5e9);
  TextWriter w;
  write_process_metrics(w, stats);
  EXPECT_GT(sample(w.text(), "process_resident_memory_bytes"), 0);
  EXPECT_GE(sample(w.text(), "process_cpu_seconds_total"), 0);
}

}  // namespace
}  // namespace spoa::metrics
