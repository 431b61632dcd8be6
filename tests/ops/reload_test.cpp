// SIGHUP reload under load, as an operator does it: a client keeps pipelined NOTIFYs
// flowing on one connection while the plugin file is replaced on disk (rename over, as dpkg
// does) and the config maps the message to another instance; then SIGHUP. No frame may be
// lost or fail, the connection must stay, and right after "reload done" the new code must
// answer. A bad config or a plugin whose init fails must leave the old generation serving.
//
// The plugin is tests/ops/reload_plugin.cpp built twice: reload_v1.so and reload_v2.so set
// the txn variable `version` to 1 or 2, and `tag` to their instance's config key `tag`.
#include <gtest/gtest.h>
#include <signal.h>
#include <spoa_test_plugins.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "ops_support.hpp"
#include "spop_client.hpp"
#include "support/socket.hpp"
#include "support/spoa_host.hpp"
#include "support/temp_dir.hpp"

#ifndef SPOA_RELOAD_V1
#error "SPOA_RELOAD_V1 and SPOA_RELOAD_V2 come from tests/ops/CMakeLists.txt"
#endif

namespace spoa::ops {
namespace {

using test::SpoaHost;
using test::TempDir;

// --- the load: one connection, a window of pipelined NOTIFYs --------------------------------

struct Record {
  uint64_t stream_id = 0;
  int phase_sent = 0;    // the test's phase when the NOTIFY was written
  int phase_acked = -1;  // ... and when its ACK was read
  int acks = 0;
  int version = 0;  // txn.version of the ACK, 0 if absent
  std::string tag;  // txn.tag of the ACK
};

class Load {
 public:
  static constexpr size_t window = 8;
  // Bounds of one run whatever the test does: it stops sending after this long or this
  // many frames, and gives up waiting for an ACK after ack_timeout. Generous: they only
  // bound a failure, and a sanitizer build on a loaded machine is slow.
  static constexpr auto max_duration = 240s;
  static constexpr size_t max_frames = 2'000'000;
  static constexpr auto ack_timeout = 60s;

  Load(itest::SpopClient client, std::string message)
      : client_(std::move(client)), message_(std::move(message)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Load() { stop(); }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  // The phase that frames sent / acknowledged from now on are stamped with.
  void set_phase(int phase) { phase_.store(phase); }
  size_t acked() const { return acked_.load(); }
  bool wait_acked(size_t count, std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    while (acked_.load() < count && !finished_.load()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(2ms);
    }
    return acked_.load() >= count;
  }
  // Stops sending, waits for the ACKs still due, and joins.
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  // After stop():
  const std::vector<Record>& records() const { return records_; }
  const std::string& error() const { return error_; }
  itest::SpopClient& client() { return client_; }

 private:
  void run() {
    try {
      const auto give_up_sending = Clock::now() + max_duration;
      std::unordered_map<uint64_t, size_t> outstanding;  // stream id -> index in records_
      uint64_t next_stream = 1;
      while (true) {
        while (!stop_.load() && outstanding.size() < window && records_.size() < max_frames &&
               Clock::now() < give_up_sending) {
          const uint64_t stream = next_stream;
          next_stream += 2;  // odd ids, as HAProxy 3.x numbers its streams
          Record record;
          record.stream_id = stream;
          record.phase_sent = phase_.load();
          records_.push_back(record);
          outstanding.emplace(stream, records_.size() - 1);
          client_.send_notify(stream, 1, {{message_, {}}});
        }
        if (outstanding.empty()) break;
        const itest::Ack ack = client_.expect_ack(ack_timeout);  // a DISCONNECT throws
        const auto it = outstanding.find(ack.stream_id);
        if (it == outstanding.end() || ack.frame_id != 1) {
          throw std::runtime_error("ACK for no outstanding NOTIFY (a duplicate?): " +
                                   ack.describe());
        }
        Record& record = records_[it->second];
        outstanding.erase(it);
        ++record.acks;
        record.phase_acked = phase_.load();
        if (const itest::OwnedAction* version = ack.find("version")) {
          record.version = static_cast<int>(static_cast<int64_t>(version->value.integer));
        }
        if (const itest::OwnedAction* tag = ack.find("tag")) record.tag = tag->value.bytes;
        acked_.fetch_add(1);
      }
    } catch (const std::exception& e) {
      error_ = e.what();
    }
    finished_.store(true);
  }

  itest::SpopClient client_;
  std::string message_;
  std::atomic<int> phase_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  std::atomic<size_t> acked_{0};
  std::vector<Record> records_;
  std::string error_;
  std::thread thread_;
};

// "N frames: version 1 tag a x N1, ..." for failure messages.
std::string summary(const std::vector<Record>& records) {
  std::map<std::tuple<int, int, int, std::string>, size_t> counts;
  for (const auto& r : records)
    ++counts[{r.phase_sent, r.phase_acked, r.version, r.tag}];
  std::string text = std::to_string(records.size()) +
                     " NOTIFYs (sent in phase / acked in phase"
                     " / version / tag: count):\n";
  for (const auto& [key, count] : counts) {
    const auto& [sent, acked, version, tag] = key;
    text += "  " + std::to_string(sent) + " / " + std::to_string(acked) + " / " +
            std::to_string(version) + " / '" + tag + "': " + std::to_string(count) + "\n";
  }
  return text;
}

// --- configs ---------------------------------------------------------------------------------

std::string server_table() {
  return "[server]\nlisten = [\"127.0.0.1:0\"]\nthreads = 2\n";
}

std::string reload_instance(const std::string& name, const std::string& plugin) {
  return "\n[plugins." + name + "]\npath = \"" + plugin + "\"\nmessages = [\"m\"]\n[plugins." +
         name + ".config]\ntag = \"" + name + "\"\n";
}

// Config A: message m -> instance a.
std::string config_a(const std::string& plugin) {
  return server_table() + reload_instance("a", plugin);
}

// Config B: message m -> instance b (same file path), and e -> echo.
std::string config_b(const std::string& plugin) {
  return server_table() + reload_instance("b", plugin) +
         "\n[plugins.echo]\npath = \"" SPOA_PLUGIN_ECHO "\"\nmessages = [\"e\"]\n";
}

// Config B plus an instance whose init() fails (init_fails.so wants a `required` key).
std::string config_b_with_failing_init(const std::string& plugin) {
  return config_b(plugin) + "\n[plugins.broken]\npath = \"" SPOA_TEST_PLUGIN_INIT_FAILS
                            "\"\nmessages = [\"x\"]\n";
}

// --- the fixture -------------------------------------------------------------------------------

class ReloadUnderLoad : public ::testing::Test {
 protected:
  // Installs reload_v1.so as DIR/reload.so, starts spoa-host with `config` and a load
  // client sending message m.
  void start(const std::string& config) {
    install_file(SPOA_RELOAD_V1, plugin_);
    host_.emplace(dir_, config);
    ASSERT_TRUE(host_->wait_ready(startup_timeout)) << host_->stderr_text();
    itest::SpopClient client = itest::SpopClient::connect_tcp(
        "127.0.0.1", test::port_of(host_->addresses().at(0)), startup_timeout);
    client.handshake({}, startup_timeout);
    load_ = std::make_unique<Load>(std::move(client), "m");
    ASSERT_TRUE(load_->wait_acked(200, startup_timeout)) << load_->acked() << " ACKs\n"
                                                         << host_->stderr_text();
  }

  // Phase `phase`, SIGHUP, wait for `outcome` in the log, then phase `phase + 1`, and let
  // `more` NOTIFYs be answered in it.
  void reload(int phase, const std::string& outcome, size_t more = 300) {
    load_->set_phase(phase);
    host_->process().send_signal(SIGHUP);
    ASSERT_TRUE(host_->process().wait_for_stderr(std::regex(outcome), startup_timeout))
        << "no '" << outcome << "' in the log:\n"
        << host_->stderr_text();
    load_->set_phase(phase + 1);
    const size_t base = load_->acked();
    ASSERT_TRUE(load_->wait_acked(base + more, startup_timeout))
        << load_->acked() - base << " ACKs after the reload\n"
        << host_->stderr_text();
  }

  // Stops the load; every NOTIFY must have had exactly one ACK on the same connection.
  void stop_load() {
    load_->stop();
    EXPECT_EQ(load_->error(), "") << host_->stderr_text();
    for (const Record& record : load_->records()) {
      ASSERT_EQ(record.acks, 1) << "stream " << record.stream_id << "\n"
                                << summary(load_->records());
    }
  }

  void expect_stops_cleanly() {
    load_->client().close();
    EXPECT_EQ(host_->stop(), 0) << host_->stderr_text();
  }

  TempDir dir_;
  std::string plugin_ = dir_.file("reload.so");
  std::optional<SpoaHost> host_;
  std::unique_ptr<Load> load_;
};

TEST_F(ReloadUnderLoad, NewConfigAndReplacedPluginTakeOverWithoutLosingAFrame) {
  ASSERT_NO_FATAL_FAILURE(start(config_a(plugin_)));

  // Phase 0: config A, v1. The operator installs v2 and config B, then SIGHUP (phase 1).
  install_file(SPOA_RELOAD_V2, plugin_);
  write_atomically(host_->config_file(), config_b(plugin_));
  ASSERT_NO_FATAL_FAILURE(reload(1, "reload done: plugin generation 2"));
  stop_load();

  const auto& records = load_->records();
  size_t after = 0;
  for (const Record& r : records) {
    // Answered before the SIGHUP was even sent: the old config and code.
    if (r.phase_acked == 0) {
      ASSERT_EQ(r.version, 1) << r.stream_id << "\n" << summary(records);
      ASSERT_EQ(r.tag, "a") << r.stream_id << "\n" << summary(records);
    }
    // Sent once the log said "reload done": the new instance and the new code.
    if (r.phase_sent == 2) {
      ++after;
      ASSERT_EQ(r.tag, "b") << r.stream_id << "\n" << summary(records);
      ASSERT_EQ(r.version, 2) << r.stream_id << " (the old image answered for the new instance)\n"
                              << summary(records);
    }
    ASSERT_TRUE((r.version == 1 && r.tag == "a") || (r.version == 2 && r.tag == "b"))
        << r.stream_id << "\n"
        << summary(records);
  }
  EXPECT_GE(after, 300u) << summary(records);
  // (The load runs through the reload, but whether its thread gets to send inside the
  // reload's window is up to the scheduler; what must hold whatever the timing is that
  // every NOTIFY got exactly one ACK, which stop_load() checked.)
  // One connection, requests handled in order: a single switch from 1 to 2.
  const auto first_new =
      std::find_if(records.begin(), records.end(), [](const Record& r) { return r.version == 2; });
  EXPECT_TRUE(std::all_of(first_new, records.end(), [](const Record& r) { return r.version == 2; }))
      << summary(records);

  // The new mapping is all there: e goes to echo now.
  itest::SpopClient& client = load_->client();
  client.send_notify(1'000'001, 1, {{"e", {{"seen", spop::Value::string("by echo")}}}});
  const itest::Ack ack = client.expect_ack(startup_timeout);
  const itest::OwnedAction* seen = ack.find("seen");
  ASSERT_NE(seen, nullptr) << ack.describe();
  EXPECT_EQ(seen->value.bytes, "by echo");

  // The old generation goes once nothing uses it, while the connection stays open.
  EXPECT_TRUE(host_->process().wait_for_stderr(std::regex("plugin generation 1 shut down"),
                                               startup_timeout))
      << host_->stderr_text();
  expect_stops_cleanly();
}

TEST_F(ReloadUnderLoad, BadConfigKeepsTheOldPluginAnsweringAndLogsWhere) {
  ASSERT_NO_FATAL_FAILURE(start(config_a(plugin_)));

  // A new file on disk too: a failed reload must not pick it up either.
  install_file(SPOA_RELOAD_V2, plugin_);
  // Line 3 column 11: the value of threads.
  write_atomically(
      host_->config_file(),
      "[server]\nlisten = [\"127.0.0.1:0\"]\nthreads = \"two\"\n" + reload_instance("b", plugin_));
  ASSERT_NO_FATAL_FAILURE(reload(1, "reload failed; still serving with plugin generation 1"));
  stop_load();

  for (const Record& r : load_->records()) {
    ASSERT_EQ(r.version, 1) << r.stream_id << "\n" << summary(load_->records());
    ASSERT_EQ(r.tag, "a") << r.stream_id << "\n" << summary(load_->records());
  }
  const std::string log = host_->stderr_text();
  EXPECT_TRUE(std::regex_search(
      log, std::regex("reload: " + host_->config_file() + R"(:3:11: server\.threads: )")))
      << log;
  EXPECT_EQ(log.find("reload done"), std::string::npos) << log;
  EXPECT_EQ(log.find("shut down"), std::string::npos) << log;
  expect_stops_cleanly();
}

TEST_F(ReloadUnderLoad, PluginInitFailureKeepsTheOldGeneration) {
  ASSERT_NO_FATAL_FAILURE(start(config_a(plugin_)));

  install_file(SPOA_RELOAD_V2, plugin_);
  write_atomically(host_->config_file(), config_b_with_failing_init(plugin_));
  ASSERT_NO_FATAL_FAILURE(reload(1, "reload failed; still serving with plugin generation 1"));
  stop_load();

  for (const Record& r : load_->records()) {
    ASSERT_EQ(r.version, 1) << r.stream_id << "\n" << summary(load_->records());
    ASSERT_EQ(r.tag, "a") << r.stream_id << "\n" << summary(load_->records());
  }
  const std::string log = host_->stderr_text();
  EXPECT_TRUE(std::regex_search(log, std::regex("reload: " + host_->config_file() +
                                                R"(:\d+:\d+: plugins\.broken: .*init failed: )"
                                                R"(refusing to start)")))
      << log;
  EXPECT_EQ(log.find("reload done"), std::string::npos) << log;
  EXPECT_EQ(log.find("plugin generation 1 shut down"), std::string::npos) << log;
  expect_stops_cleanly();
}

TEST_F(ReloadUnderLoad, ReloadAfterAFailedOneRunsTheReplacedPlugin) {
  ASSERT_NO_FATAL_FAILURE(start(config_a(plugin_)));

  // First attempt: v2 on disk, but another instance fails init (phases 1, 2).
  install_file(SPOA_RELOAD_V2, plugin_);
  write_atomically(host_->config_file(), config_b_with_failing_init(plugin_));
  ASSERT_NO_FATAL_FAILURE(reload(1, "reload failed; still serving with plugin generation 1"));
  // The operator removes the broken instance and reloads again (phases 3, 4).
  write_atomically(host_->config_file(), config_b(plugin_));
  ASSERT_NO_FATAL_FAILURE(reload(3, "reload done: plugin generation 2"));
  stop_load();

  const auto& records = load_->records();
  size_t after = 0;
  for (const Record& r : records) {
    if (r.phase_acked <= 2) {
      ASSERT_EQ(r.version, 1) << r.stream_id << "\n" << summary(records);
      ASSERT_EQ(r.tag, "a") << r.stream_id << "\n" << summary(records);
    }
    if (r.phase_sent == 4) {
      ++after;
      ASSERT_EQ(r.tag, "b") << r.stream_id << "\n" << summary(records);
      ASSERT_EQ(r.version, 2) << r.stream_id
                              << ": the file on disk is v2, but the old image answered\n"
                              << summary(records);
    }
  }
  EXPECT_GE(after, 300u) << summary(records);
  EXPECT_TRUE(host_->process().wait_for_stderr(std::regex("plugin generation 1 shut down"),
                                               startup_timeout))
      << host_->stderr_text();
  expect_stops_cleanly();
}

}  // namespace
}  // namespace spoa::ops
