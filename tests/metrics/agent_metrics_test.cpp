// The metrics of a real spoa-host: scraped over HTTP during real SPOP traffic from the
// scripted client, each counter checked to move by exactly what the traffic implies; the
// scrape checked by promtool; label cardinality checked against a flood of made-up
// message names; reloads, bind errors, and the protocol-error log rate limit.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <thread>

#include "agent_process.hpp"
#include "scrape.hpp"
#include "support/process.hpp"
#include "support/socket.hpp"
#include "support/spoa_host.hpp"
#include "support/temp_dir.hpp"

namespace spoa::mtest {
namespace {

using namespace std::chrono_literals;
using itest::AgentConfig;
using itest::Bytes;
using itest::MessageSpec;
using itest::SpopClient;

// Bounds of waits for events (a start, a frame, a scrape showing what the traffic implies);
// they only bound a failure, so they are generous for sanitizer builds on a loaded machine.
constexpr std::chrono::milliseconds ready_timeout = 60s;
constexpr std::chrono::milliseconds io_timeout = 30s;

itest::PluginSpec outcomes_plugin(std::vector<std::string> messages = {"outcome"}) {
  return {"outcomes", SPOA_OUTCOMES_PLUGIN, std::move(messages), {}};
}

// spoa-host with `[metrics] listen = "127.0.0.1:0"`: the SPOP listener comes from --listen
// (the config's server.listen stays the default, so the two never look alike).
class MetricsAgent {
 public:
  explicit MetricsAgent(const AgentConfig& config, bool metrics = true,
                        const std::string& log_level = "debug") {
    toml_ = itest::to_toml(config);
    if (metrics) toml_ += "\n[metrics]\nlisten = \"127.0.0.1:0\"\n";
    host_ = std::make_unique<test::SpoaHost>(
        dir_, toml_,
        std::vector<std::string>{"--plugin-dir", itest::plugin_dir(), "--listen", "127.0.0.1:0",
                                 "--log-level", log_level});
    if (!host_->wait_ready(ready_timeout) || host_->addresses().empty()) {
      throw std::runtime_error("spoa-host did not start:\n" + log());
    }
    spop_address_ = host_->addresses().front();
    if (metrics) {
      static const std::regex line(R"(metrics: serving Prometheus metrics on http://([^/\s]+)/)");
      std::smatch match;
      const std::string text = log();
      if (!std::regex_search(text, match, line))
        throw std::runtime_error("no metrics line:\n" + text);
      metrics_address_ = match[1];
    }
  }
  // Stops the server and checks it ended well: exit 0 (a sanitizer build exits otherwise
  // after a report) and no sanitizer report in its log.
  ~MetricsAgent() {
    if (!host_->process().exited()) {
      const auto status = host_->stop();
      EXPECT_EQ(status, std::optional<int>(0)) << "spoa-host did not stop cleanly";
    }
    const std::string text = log();
    for (const char* report : {"ThreadSanitizer", "AddressSanitizer", "runtime error:"}) {
      EXPECT_EQ(text.find(report), std::string::npos) << report << " report in the log";
    }
    if (testing::Test::HasFailure() || std::uncaught_exceptions() > 0) {
      std::cerr << "----- spoa-host log -----\n" << text << "----- end -----\n";
    }
  }

  SpopClient connect() const {
    const size_t colon = spop_address_.rfind(':');
    return SpopClient::connect_tcp(spop_address_.substr(0, colon), test::port_of(spop_address_),
                                   io_timeout);
  }
  SpopClient handshake(const spop::HelloOptions& options = {}) const {
    SpopClient client = connect();
    client.handshake(options, io_timeout);
    return client;
  }
  Scrape scrape() const { return mtest::scrape(metrics_address_); }
  // Scrapes until `done` holds (connections close asynchronously); the last scrape.
  Scrape scrape_until(const std::function<bool(const Scrape&)>& done,
                      std::chrono::milliseconds timeout = io_timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    Scrape s = scrape();
    while (!done(s) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      s = scrape();
    }
    return s;
  }
  std::string log() const { return host_->stderr_text(); }
  test::SpoaHost& host() { return *host_; }
  const test::TempDir& dir() const { return dir_; }
  const std::string& toml() const { return toml_; }
  const std::string& metrics_address() const { return metrics_address_; }

 private:
  test::TempDir dir_;
  std::string toml_;
  std::unique_ptr<test::SpoaHost> host_;
  std::string spop_address_;
  std::string metrics_address_;
};

// The change of every series between two scrapes (absent = 0).
double delta(const Scrape& before, const Scrape& after, const std::string& series) {
  return after.get(series) - before.get(series);
}

std::string closed(const std::string& reason) {
  return "spoa_host_connections_closed_total{reason=\"" + reason + "\"}";
}
std::string closed(const std::string& reason, const std::string& status) {
  return "spoa_host_connections_closed_total{reason=\"" + reason + "\",status=\"" + status + "\"}";
}
std::string outcome(const std::string& plugin, const std::string& what) {
  return "spoa_host_plugin_outcomes_total{plugin=\"" + plugin + "\",outcome=\"" + what + "\"}";
}
std::string messages(const std::string& plugin, const std::string& message) {
  return "spoa_host_messages_total{plugin=\"" + plugin + "\",message=\"" + message + "\"}";
}
double closed_total(const Scrape& s) {
  double total = 0;
  for (const auto& [series, value] : s.samples) {
    if (series.rfind("spoa_host_connections_closed_total", 0) == 0) total += value;
  }
  return total;
}
bool idle(const Scrape& s) {
  return s.get("spoa_host_connections_open") == 0 && s.get("spoa_host_notify_in_flight") == 0;
}

TEST(AgentMetrics, TrafficMovesEveryCounterByWhatItImplies) {
  AgentConfig config;
  config.plugins = {itest::echo_plugin(), outcomes_plugin()};
  MetricsAgent agent(config);
  const Scrape before = agent.scrape();
  EXPECT_EQ(before.status, 200);
  EXPECT_EQ(before.content_type, "text/plain; version=0.0.4; charset=utf-8");

  {
    SpopClient client = agent.handshake();  // pipelining,async offered; pipelining announced
    // 20 NOTIFYs of one echo message with two arguments: 2 SET-VARs each.
    for (uint64_t i = 1; i <= 20; ++i) {
      client.send_notify(i, 1,
                         {{"echo", {{"a", spop::Value::int32(1)}, {"b", spop::Value::int32(2)}}}});
      EXPECT_EQ(client.expect_ack(io_timeout).actions.size(), 2u);
    }
    // 3 NOTIFYs of two messages, one nobody claims.
    for (uint64_t i = 21; i <= 23; ++i) {
      client.send_notify(i, 1, {{"echo", {{"c", spop::Value::int32(3)}}}, {"nobody", {}}});
      EXPECT_EQ(client.expect_ack(io_timeout).actions.size(), 1u);
    }
    // One NOTIFY per handler outcome of the outcomes plugin.
    uint64_t sid = 100;
    for (const std::string mode : {"set", "set", "unset", "fail", "bogus", "throw"}) {
      client.send_notify(sid++, 1, {{"outcome", {{"mode", spop::Value::string(mode)}}}});
      client.expect_ack(io_timeout);
    }
    client.send_haproxy_disconnect(spop::Status::normal, "bye");
    EXPECT_EQ(client.expect_disconnect(io_timeout).status_code, 0u);
  }
  {
    spop::HelloOptions check;
    check.healthcheck = true;
    check.capabilities = "";
    SpopClient probe = agent.handshake(check);
    probe.reset();  // as HAProxy 3.x does after a health check
  }

  const Scrape after = agent.scrape_until(
      [&](const Scrape& s) { return closed_total(s) - closed_total(before) >= 2 && idle(s); });
  const auto d = [&](const std::string& series) { return delta(before, after, series); };
  EXPECT_EQ(d("spoa_host_connections_accepted_total"), 2);
  EXPECT_EQ(after.get("spoa_host_connections_open"), 0);
  EXPECT_EQ(d(closed("haproxy_disconnect", "0")), 1);
  EXPECT_EQ(d(closed("reset")) + d(closed("normal")), 1);
  EXPECT_EQ(closed_total(after) - closed_total(before), 2);
  EXPECT_EQ(d("spoa_host_hellos_total{kind=\"normal\"}"), 1);
  EXPECT_EQ(d("spoa_host_hellos_total{kind=\"healthcheck\"}"), 1);
  EXPECT_EQ(d("spoa_host_hello_capabilities_total{capability=\"pipelining\"}"), 1);
  EXPECT_EQ(d("spoa_host_hello_capabilities_total{capability=\"async\"}"), 0);
  EXPECT_EQ(d("spoa_host_notify_frames_total"), 29);
  EXPECT_EQ(d(messages("echo", "echo")), 23);
  EXPECT_EQ(d(messages("outcomes", "outcome")), 6);
  EXPECT_EQ(d("spoa_host_messages_unclaimed_total"), 3);
  EXPECT_EQ(d("spoa_host_actions_total{type=\"set_var\"}"), 20 * 2 + 3 + 2);
  EXPECT_EQ(d("spoa_host_actions_total{type=\"unset_var\"}"), 1);
  EXPECT_EQ(d(outcome("echo", "done")), 23);
  EXPECT_EQ(d(outcome("outcomes", "done")), 3);
  EXPECT_EQ(d(outcome("outcomes", "failed")), 2);
  EXPECT_EQ(d(outcome("outcomes", "exception")), 1);
  EXPECT_EQ(d(outcome("outcomes", "pending")), 0);
  EXPECT_EQ(d("spoa_host_notify_duration_seconds_count"), 29);
  EXPECT_EQ(d("spoa_host_notify_duration_seconds_bucket{le=\"+Inf\"}"), 29);
  EXPECT_GT(d("spoa_host_notify_duration_seconds_sum"), 0);
  EXPECT_EQ(d("spoa_host_plugin_duration_seconds_count{plugin=\"echo\"}"), 23);
  EXPECT_EQ(d("spoa_host_plugin_duration_seconds_count{plugin=\"outcomes\"}"), 6);
  EXPECT_EQ(after.get("spoa_host_build_info{version=\"" + test::project_version() +
                      "\",abi_version=\"1.1\"}"),
            1);
  EXPECT_EQ(after.get("spoa_host_io_threads"), 2);
  EXPECT_GT(after.get("process_resident_memory_bytes"), 0);
  EXPECT_GT(after.get("process_open_fds"), 0);
  EXPECT_GT(after.get("process_start_time_seconds"), 1.5e9);
  // The exception was logged with its plugin, and the connection went on serving.
  EXPECT_NE(agent.log().find("plugin outcomes: handler for \"outcome\" threw through the C ABI"),
            std::string::npos);
}

// Scrapes race the I/O threads' counting: each scrape sees counters that only grow, and
// once the load is over they add up exactly. (Under TSan, the server's own report of a race
// fails the test through ~MetricsAgent.)
TEST(AgentMetrics, ScrapesDuringLoadAreMonotonicAndAddUp) {
  AgentConfig config;
  config.threads = 2;
  MetricsAgent agent(config);
  const Scrape before = agent.scrape();
  constexpr int clients = 4, batches = 25, per_batch = 16;
  std::atomic<int> running{clients};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      try {
        SpopClient client = agent.handshake();
        uint64_t sid = 1;
        for (int b = 0; b < batches; ++b) {
          for (int i = 0; i < per_batch; ++i)
            client.send_notify(sid++, 1, {{"echo", {{"x", spop::Value::int32(i)}}}});
          for (int i = 0; i < per_batch; ++i)
            client.expect_ack(io_timeout);
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        failed = true;
      }
      running.fetch_sub(1);
    });
  }
  double last_frames = before.get("spoa_host_notify_frames_total");
  double last_latency = before.get("spoa_host_notify_duration_seconds_count");
  int scrapes = 0;
  while (running.load() > 0 && scrapes < 2000) {
    const Scrape s = agent.scrape();
    EXPECT_GE(s.get("spoa_host_notify_frames_total"), last_frames);
    EXPECT_GE(s.get("spoa_host_notify_duration_seconds_count"), last_latency);
    last_frames = s.get("spoa_host_notify_frames_total");
    last_latency = s.get("spoa_host_notify_duration_seconds_count");
    ++scrapes;
  }
  for (auto& t : threads)
    t.join();
  ASSERT_FALSE(failed.load());
  EXPECT_GE(scrapes, 1);
  const Scrape after = agent.scrape_until([](const Scrape& s) { return idle(s); });
  constexpr double total = clients * batches * per_batch;
  EXPECT_EQ(delta(before, after, "spoa_host_notify_frames_total"), total);
  EXPECT_EQ(delta(before, after, messages("echo", "echo")), total);
  EXPECT_EQ(delta(before, after, outcome("echo", "done")), total);
  EXPECT_EQ(delta(before, after, "spoa_host_actions_total{type=\"set_var\"}"), total);
  EXPECT_EQ(delta(before, after, "spoa_host_notify_duration_seconds_count"), total);
  EXPECT_EQ(delta(before, after, "spoa_host_plugin_duration_seconds_count{plugin=\"echo\"}"),
            total);
  EXPECT_EQ(delta(before, after, "spoa_host_hellos_total{kind=\"normal\"}"), clients);
}

TEST(AgentMetrics, AsyncCallsDeadlinesAbandonsAndBackpressure) {
  AgentConfig config;
  config.plugins = {itest::delay_plugin("delay", {"delay"}, "50ms")};
  config.processing_timeout = "300ms";
  config.max_inflight_per_connection = 2;
  MetricsAgent agent(config);
  const Scrape before = agent.scrape();
  const auto delayed = [](int64_t ms) {
    return std::vector<MessageSpec>{{"delay", {{"delay_ms", spop::Value::int64(ms)}}}};
  };
  // An hour: longer than any test; the plugin answers such a NOTIFY only at shutdown.
  constexpr int64_t never = 3600 * 1000;
  {
    SpopClient client = agent.handshake();
    // Five in one write with room for two in flight: the agent handles the frames of one
    // read in order and dispatches two before any completion can run on its thread, so
    // reading pauses at least once, however slow the machine.
    Bytes five;
    for (uint64_t i = 1; i <= 5; ++i) {
      const Bytes frame = itest::make_frame(spop::FrameType::notify, spop::flag_fin, i, 1,
                                            itest::notify_payload(delayed(50)));
      five.insert(five.end(), frame.begin(), frame.end());
    }
    client.send_raw(five, io_timeout);
    for (int i = 0; i < 5; ++i)
      client.expect_ack(io_timeout);
    // Past timeouts.processing: answered at the deadline without the plugin's actions
    // (the plugin would answer in an hour).
    client.send_notify(10, 1, delayed(never));
    EXPECT_TRUE(client.expect_ack(io_timeout).actions.empty());
    // Still pending when the connection goes: abandoned. Scrape while it waits.
    client.send_notify(11, 1, delayed(never));
    const Scrape during =
        agent.scrape_until([](const Scrape& s) { return s.get("spoa_host_notify_in_flight") > 0; });
    EXPECT_EQ(during.get("spoa_host_notify_in_flight"), 1);
    client.reset();
  }
  const Scrape after = agent.scrape_until([&](const Scrape& s) {
    return idle(s) && delta(before, s, outcome("delay", "abandoned")) >= 1;
  });
  const auto d = [&](const std::string& series) { return delta(before, after, series); };
  EXPECT_EQ(d(outcome("delay", "pending")), 7);
  EXPECT_EQ(d(outcome("delay", "done")), 5);
  // (The deadline's and the abandoned NOTIFY's plugin calls end only at shutdown.)
  EXPECT_EQ(d(outcome("delay", "deadline_missed")), 1);
  EXPECT_EQ(d(outcome("delay", "abandoned")), 1);
  EXPECT_GE(d("spoa_host_backpressure_pauses_total"), 1);
  EXPECT_EQ(d("spoa_host_plugin_duration_seconds_count{plugin=\"delay\"}"), 5);
  // 50 ms each: none can take less (the plugin waits that long), a loaded machine may take
  // any time more.
  EXPECT_EQ(d("spoa_host_plugin_duration_seconds_bucket{plugin=\"delay\",le=\"0.025\"}"), 0);
  EXPECT_EQ(d("spoa_host_plugin_duration_seconds_bucket{plugin=\"delay\",le=\"+Inf\"}"), 5);
  EXPECT_EQ(d("spoa_host_notify_duration_seconds_count"), 6);  // the abandoned one had no ACK
  EXPECT_EQ(after.get("spoa_host_notify_in_flight"), 0);
  EXPECT_EQ(d(closed("reset")), 1);
}

TEST(AgentMetrics, ClosesAreCountedByReasonAndStatus) {
  AgentConfig config;
  config.hello_timeout = "300ms";
  MetricsAgent agent(config);
  const Scrape before = agent.scrape();
  {
    SpopClient bad = agent.connect();  // a NOTIFY before the HELLO: DISCONNECT 4
    bad.send_notify(1, 1, {{"echo", {}}});
    EXPECT_EQ(bad.expect_disconnect(io_timeout).status_code, 4u);
  }
  {
    SpopClient leaving = agent.handshake();
    leaving.send_haproxy_disconnect(spop::Status::bad_max_frame_size, "too small");
    leaving.expect_disconnect(io_timeout);
  }
  {
    SpopClient silent = agent.connect();  // no HELLO within 300 ms
    silent.expect_closed(io_timeout);
  }
  {
    SpopClient reset = agent.handshake();
    reset.reset();
  }
  {
    SpopClient eof = agent.handshake();
    eof.close();
  }
  const Scrape after = agent.scrape_until(
      [&](const Scrape& s) { return closed_total(s) - closed_total(before) >= 5 && idle(s); });
  const auto d = [&](const std::string& series) { return delta(before, after, series); };
  EXPECT_EQ(d(closed("agent_disconnect", "4")), 1);
  EXPECT_EQ(d(closed("haproxy_disconnect", "9")), 1);
  EXPECT_EQ(d(closed("timeout")), 1);
  EXPECT_EQ(d(closed("reset")), 1);
  EXPECT_EQ(d(closed("normal")), 1);
  EXPECT_EQ(closed_total(after) - closed_total(before), 5);
  EXPECT_EQ(d("spoa_host_connections_accepted_total"), 5);
}

TEST(AgentMetrics, FragmentedNotifiesReassembledAndAborted) {
  AgentConfig config;
  config.capabilities = std::vector<std::string>{"pipelining", "fragmentation"};
  MetricsAgent agent(config);
  const Scrape before = agent.scrape();
  SpopClient client = agent.handshake();
  const std::string body(600, 'x');
  const Bytes payload = itest::notify_payload({{"echo", {{"body", spop::Value::string(body)}}}});
  const auto part = [&](size_t from, size_t to) {
    return std::span<const uint8_t>(payload).subspan(from, to - from);
  };
  client.send_frame(spop::FrameType::notify, 0, 1, 1, part(0, 200));
  client.send_frame(spop::FrameType::unset, spop::flag_fin, 1, 1, part(200, payload.size()));
  client.expect_ack(io_timeout);
  client.send_frame(spop::FrameType::notify, 0, 2, 1, part(0, 200));
  client.send_frame(spop::FrameType::unset, spop::flag_fin | spop::flag_abort, 2, 1, {});
  client.send_notify(3, 1, {{"echo", {}}});
  EXPECT_EQ(client.expect_ack(io_timeout).stream_id, 3u);
  const Scrape after = agent.scrape();
  EXPECT_EQ(delta(before, after, "spoa_host_notify_fragmented_total{outcome=\"reassembled\"}"), 1);
  EXPECT_EQ(delta(before, after, "spoa_host_notify_fragmented_total{outcome=\"aborted\"}"), 1);
  EXPECT_EQ(delta(before, after, "spoa_host_notify_frames_total"), 2);
  EXPECT_EQ(
      delta(before, after, "spoa_host_hello_capabilities_total{capability=\"fragmentation\"}"), 1);
}

// Message names are label values only when the config names them: thousands of made-up
// names from the wire add no series, only to the one `unclaimed` counter.
TEST(AgentMetrics, WireMessageNamesNeverBecomeLabels) {
  MetricsAgent agent(AgentConfig{});
  SpopClient client = agent.handshake();
  client.send_notify(1, 1, {{"echo", {}}});
  client.expect_ack(io_timeout);
  const Scrape before = agent.scrape();
  constexpr int notifies = 30, per_notify = 100;
  std::vector<std::string> names;
  names.reserve(notifies * per_notify);
  for (int i = 0; i < notifies * per_notify; ++i)
    names.push_back("attacker-" + std::to_string(i));
  for (int n = 0; n < notifies; ++n) {
    std::vector<MessageSpec> batch;
    for (int i = 0; i < per_notify; ++i)
      batch.push_back({names[static_cast<size_t>(n * per_notify + i)], {}});
    client.send_notify(static_cast<uint64_t>(n + 2), 1, batch);
    client.expect_ack(io_timeout);
  }
  const Scrape after = agent.scrape();
  EXPECT_EQ(delta(before, after, "spoa_host_messages_unclaimed_total"), notifies * per_notify);
  EXPECT_EQ(after.body.find("attacker-"), std::string::npos);
  // Same series, only values moved (process metrics and the like are not name-driven).
  std::set<std::string> keys_before, keys_after;
  for (const auto& entry : before.samples)
    keys_before.insert(entry.first);
  for (const auto& entry : after.samples)
    keys_after.insert(entry.first);
  EXPECT_EQ(keys_before, keys_after);
}

TEST(AgentMetrics, PromtoolAcceptsTheScrape) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed (" SPOA_PROMTOOL_HINT ")";
  }
  AgentConfig config;
  config.plugins = {itest::echo_plugin(), outcomes_plugin()};
  MetricsAgent agent(config);
  {
    // Enough traffic that status series, histograms and outcomes have values.
    SpopClient client = agent.handshake();
    for (uint64_t i = 1; i <= 10; ++i) {
      client.send_notify(i, 1, {{"echo", {{"a", spop::Value::int32(1)}}}, {"nobody", {}}});
      client.expect_ack(io_timeout);
    }
    client.send_notify(11, 1, {{"outcome", {{"mode", spop::Value::string("throw")}}}});
    client.expect_ack(io_timeout);
    SpopClient bad = agent.connect();
    bad.send_notify(1, 1, {});
    bad.expect_disconnect(io_timeout);
  }
  const Scrape s = agent.scrape_until([](const Scrape& x) { return idle(x); });
  const std::string file = agent.dir().write("scrape.prom", s.body);
  const test::RunResult result =
      test::run("/bin/sh", {"-c", "promtool check metrics < " + file}, 30s);
  ASSERT_TRUE(result.status.has_value());
  EXPECT_EQ(*result.status, 0) << result.out << result.err << "\n" << s.body;
  // promtool prints lint problems (naming, units, missing HELP) even when it exits 0.
  EXPECT_EQ(result.out + result.err, "") << s.body;
}

TEST(AgentMetrics, ReloadKeepsSeriesMonotonicAndCountsOutcomes) {
  AgentConfig config;
  MetricsAgent agent(config);
  const auto traffic = [&](uint64_t count) {
    SpopClient client = agent.handshake();
    for (uint64_t i = 1; i <= count; ++i) {
      client.send_notify(i, 1, {{"echo", {}}});
      client.expect_ack(io_timeout);
    }
  };
  traffic(10);
  const Scrape before = agent.scrape();
  EXPECT_EQ(before.get("spoa_host_plugin_generation"), 1);
  EXPECT_EQ(before.get("spoa_host_reloads_total"), 0);
  EXPECT_EQ(before.get("spoa_host_last_reload_timestamp_seconds"), 0);

  agent.host().process().send_signal(SIGHUP);
  ASSERT_TRUE(agent.host().process().wait_for_stderr(std::regex("reload done"), io_timeout));
  traffic(5);
  const Scrape reloaded = agent.scrape();
  EXPECT_EQ(reloaded.get("spoa_host_plugin_generation"), 2);
  EXPECT_EQ(reloaded.get("spoa_host_reloads_total"), 1);
  EXPECT_EQ(reloaded.get("spoa_host_reload_failures_total"), 0);
  EXPECT_EQ(reloaded.get("spoa_host_last_reload_success"), 1);
  EXPECT_GT(reloaded.get("spoa_host_last_reload_timestamp_seconds"), 1.5e9);
  // Same instance and message names: the series went on from 10, not from 0.
  EXPECT_EQ(delta(before, reloaded, messages("echo", "echo")), 5);
  EXPECT_EQ(delta(before, reloaded, outcome("echo", "done")), 5);

  // A config that does not load: the old one keeps serving, the failure is counted.
  agent.dir().write("spoa-host.toml", agent.toml() + "\n[bogus]\n");
  agent.host().process().send_signal(SIGHUP);
  ASSERT_TRUE(agent.host().process().wait_for_stderr(std::regex("reload failed"), io_timeout));
  const Scrape failed = agent.scrape();
  EXPECT_EQ(failed.get("spoa_host_reloads_total"), 2);
  EXPECT_EQ(failed.get("spoa_host_reload_failures_total"), 1);
  EXPECT_EQ(failed.get("spoa_host_last_reload_success"), 0);
  EXPECT_EQ(failed.get("spoa_host_plugin_generation"), 2);
}

TEST(AgentMetrics, MetricsBindErrorIsFatalAndSaysWhich) {
  std::string taken = "127.0.0.1:0";
  std::string error;
  test::Fd blocker = test::listen_on(taken, error);
  ASSERT_GE(blocker.get(), 0) << error;
  test::TempDir dir;
  const std::string toml =
      itest::to_toml(AgentConfig{}) + "\n[metrics]\nlisten = \"" + taken + "\"\n";
  test::SpoaHost host(dir, toml, {"--plugin-dir", itest::plugin_dir(), "--listen", "127.0.0.1:0"});
  const auto status = host.process().wait(ready_timeout);
  ASSERT_TRUE(status.has_value()) << host.stderr_text();
  EXPECT_EQ(*status, 1);
  EXPECT_NE(host.stderr_text().find("metrics listen " + taken + ": "), std::string::npos)
      << host.stderr_text();
}

TEST(AgentMetrics, NoMetricsSectionNoEndpoint) {
  MetricsAgent agent(AgentConfig{}, /*metrics=*/false);
  EXPECT_EQ(agent.log().find("metrics:"), std::string::npos) << agent.log();
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

// A peer that sends garbage as fast as it can connect gets a burst of log lines, then
// silence with a count; journal floods are what the rate limit is for.
TEST(AgentMetrics, ProtocolErrorLogsAreRateLimited) {
  // The bucket refills at 1 line/s from the start of the process: the upper bound counts
  // the seconds that really passed, not the ones the test hoped for.
  const auto started = std::chrono::steady_clock::now();
  MetricsAgent agent(AgentConfig{}, true, "info");
  constexpr int attempts = 40;
  for (int i = 0; i < attempts; ++i) {
    SpopClient bad = agent.connect();
    bad.send_notify(1, 1, {});
    bad.expect_disconnect(io_timeout);
  }
  const Scrape s = agent.scrape_until([](const Scrape& x) { return idle(x); });
  const size_t logged = count_of(agent.log(), "protocol error, sending DISCONNECT 4");
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
          .count();
  EXPECT_GE(logged, 10u);  // the burst
  EXPECT_LE(logged, 10u + static_cast<size_t>(seconds) + 1)
      << "at most the burst plus one per second of the test (" << seconds << " s)";
  EXPECT_EQ(s.get("spoa_host_log_lines_suppressed_total{category=\"protocol\"}"),
            static_cast<double>(attempts) - static_cast<double>(logged));
  EXPECT_EQ(s.get(closed("agent_disconnect", "4")), attempts);
  // The next line let through says how many were dropped before it. After 1.1 s the bucket
  // holds a token whatever happened before (and a timer reports within 5 s anyway).
  std::this_thread::sleep_for(1100ms);
  SpopClient late = agent.connect();
  late.send_notify(1, 1, {});
  late.expect_disconnect(io_timeout);
  EXPECT_TRUE(agent.host().process().wait_for_stderr(
      std::regex("\\d+ similar protocol error messages suppressed"), io_timeout))
      << agent.log();
}

}  // namespace
}  // namespace spoa::mtest
