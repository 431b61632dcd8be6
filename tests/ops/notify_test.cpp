// The sd_notify(3) protocol as systemd sees it (Type=notify-reload, WatchdogSec=): the
// test plays systemd's part with a datagram socket of its own as NOTIFY_SOCKET and checks
// what spoa-host sends, and when, against the real binary.
#include <gtest/gtest.h>
#include <signal.h>
#include <spoa_test_plugins.h>
#include <time.h>

#include <algorithm>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "notify_socket.hpp"
#include "ops_support.hpp"
#include "support/process.hpp"
#include "support/socket.hpp"
#include "support/spoa_host.hpp"
#include "support/spop_client.hpp"
#include "support/temp_dir.hpp"

namespace spoa::ops {
namespace {

using test::make_config;
using test::Process;
using test::ProcessOptions;
using test::SpoaHost;
using test::TempDir;

std::string echo_plugin_table() {
  return "\n[plugins.echo]\npath = \"" SPOA_PLUGIN_ECHO "\"\nmessages = [\"echo\"]\n";
}

// Two I/O threads and the echo plugin on 127.0.0.1:0.
std::string basic_config() {
  return make_config({"\"127.0.0.1:0\""}, "threads = 2\n" + echo_plugin_table());
}

// "serving on A, B; plugin generation N" -> {A, B}.
std::vector<std::string> status_addresses(const std::string& status) {
  static const std::regex pattern(R"(^serving on (.*); plugin generation \d+)");
  std::smatch match;
  if (!std::regex_search(status, match, pattern)) return {};
  std::vector<std::string> addresses;
  const std::string list = match[1];
  size_t start = 0;
  while (true) {
    const size_t comma = list.find(", ", start);
    addresses.push_back(list.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 2;
  }
  return addresses;
}

uint64_t monotonic_usec() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1000000u + static_cast<uint64_t>(now.tv_nsec) / 1000u;
}

// A HELLO answered with an AGENT-HELLO: the listener accepts and a worker serves.
bool serves_spop(const std::string& address) {
  std::string error;
  test::Fd fd = test::connect_to(address, startup_timeout, error);
  if (!fd) return false;
  return test::hello(fd.get(), startup_timeout).has_value();
}

bool ready_message(const NotifyMessage& m) {
  return m.has("READY=1");
}

TEST(NotifyProtocol, ReadyArrivesOnlyOnceTheListenerServes) {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  SpoaHost host(dir, basic_config(), {}, ProcessOptions{{notify.env()}, {}});

  const auto ready = notify.wait_for(ready_message, 0, startup_timeout);
  ASSERT_TRUE(ready) << "no READY=1\n" << host.stderr_text() << describe(notify.messages());
  // Right away, before anything else: the address READY announces must take a connection
  // and answer a HELLO. A READY sent before bind()/listen() would fail the connect; one sent
  // before the workers run would leave the HELLO unanswered.
  const auto messages = notify.messages();
  const auto status = messages[*ready].field("STATUS");
  ASSERT_TRUE(status) << "READY=1 without STATUS=\n" << describe(messages);
  const auto addresses = status_addresses(*status);
  ASSERT_EQ(addresses.size(), 1u) << *status;
  // (A connect to an address nobody listens on is refused at once; the bounds only stop a
  // hang.)
  std::string error;
  test::Fd fd = test::connect_to(addresses[0], startup_timeout, error);
  ASSERT_TRUE(fd) << "connect right after READY=1: " << error;
  EXPECT_TRUE(test::hello(fd.get(), startup_timeout)) << "no AGENT-HELLO right after READY=1";

  // READY=1 is the first message and comes once (no reload happened).
  EXPECT_EQ(*ready, 0u) << describe(messages);
  EXPECT_EQ(std::count_if(messages.begin(), messages.end(), ready_message), 1)
      << describe(messages);
  // The ready log line is written before READY=1 and names the same address.
  ASSERT_TRUE(host.wait_ready(startup_timeout)) << host.stderr_text();
  EXPECT_EQ(host.addresses(), addresses);
  EXPECT_EQ(host.stop(), 0) << host.stderr_text();
}

TEST(NotifyProtocol, NoReadyWhenAListenerCannotBind) {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  std::string taken = "127.0.0.1:0";
  std::string error;
  test::Fd occupant = test::listen_on(taken, error);
  ASSERT_TRUE(occupant) << error;

  // The first listener binds; the second cannot. The whole start must fail, silently for
  // systemd: no READY=1 (systemd then sees the exit, not a service that claims readiness).
  SpoaHost host(
      dir,
      make_config({"\"127.0.0.1:0\"", "\"" + taken + "\""}, "threads = 2\n" + echo_plugin_table()),
      {}, ProcessOptions{{notify.env()}, {}});
  EXPECT_EQ(host.process().wait(startup_timeout), 1) << host.stderr_text();
  EXPECT_NE(host.stderr_text().find("listen " + taken), std::string::npos) << host.stderr_text();
  // The datagrams of a process that has exited are all queued already; give the receiving
  // thread a moment to take them.
  EXPECT_FALSE(notify.wait_for(ready_message, 0, 300ms)) << describe(notify.messages());
}

TEST(NotifyProtocol, StatusNamesEveryListenAddress) {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  const std::string unix_path = dir.file("spoa.sock");
  SpoaHost host(dir,
                make_config({"\"127.0.0.1:0\"", "\"unix:" + unix_path + "\""},
                            "threads = 1\n" + echo_plugin_table()),
                {}, ProcessOptions{{notify.env()}, {}});
  ASSERT_TRUE(host.wait_ready(startup_timeout)) << host.stderr_text();
  const auto ready = notify.wait_for(ready_message, 0, startup_timeout);
  ASSERT_TRUE(ready) << describe(notify.messages());
  const auto status = notify.messages()[*ready].field("STATUS");
  ASSERT_TRUE(status) << describe(notify.messages());

  // The bound TCP address (the kernel's port, not ":0") and the unix socket path.
  const auto addresses = status_addresses(*status);
  ASSERT_EQ(addresses.size(), 2u) << *status;
  EXPECT_TRUE(std::regex_match(addresses[0], std::regex(R"(127\.0\.0\.1:[1-9]\d*)"))) << *status;
  EXPECT_EQ(addresses[1], "unix:" + unix_path) << *status;
  EXPECT_NE(status->find("plugin generation 1"), std::string::npos) << *status;
  for (const auto& address : addresses)
    EXPECT_TRUE(serves_spop(address)) << address;
  EXPECT_EQ(host.stop(), 0) << host.stderr_text();
}

// WATCHDOG_PID must be the pid of the process that reads it (sd_watchdog_enabled checks), so
// a shell sets it to its own pid and then becomes spoa-host with exec.
constexpr auto watchdog_usec = 400000;
Process start_with_watchdog(const TempDir& dir, const NotifySocket& notify,
                            const std::string& watchdog_pid) {
  const std::string config = dir.write("spoa-host.toml", basic_config());
  const std::string script = "export WATCHDOG_PID=" + watchdog_pid + "; exec \"$0\" \"$@\"";
  return Process(
      "/bin/sh", {"-c", script, test::spoa_host_binary(), "-c", config, "--log-level", "debug"},
      ProcessOptions{{notify.env(), "WATCHDOG_USEC=" + std::to_string(watchdog_usec)}, {}});
}

// WatchdogSec=400ms: a ping every 200 ms. What a test can know for certain on a machine of
// unknown load: the period the daemon computed (its log says), that pings keep coming,
// and that they never come faster than the period (its timer re-arms after each send, so
// the kernel's send stamps are at least a period apart). That they come in time is a
// real-time promise a loaded machine may break, and no test here asserts it.
TEST(NotifyProtocol, WatchdogPingsEveryHalfPeriod) {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  Process process = start_with_watchdog(dir, notify, "$$");

  const auto ready = notify.wait_for(ready_message, 0, startup_timeout);
  ASSERT_TRUE(ready) << process.stderr_text() << describe(notify.messages());
  EXPECT_TRUE(process.wait_for_stderr(std::regex("systemd watchdog on: pinging every 200 ms"),
                                      startup_timeout))
      << process.stderr_text();
  const auto is_ping = [](const NotifyMessage& m) { return m.has("WATCHDOG=1"); };
  std::optional<size_t> at = 0;
  for (int pings = 0; pings < 6 && at; ++pings)
    at = notify.wait_for(is_ping, pings == 0 ? 0 : *at + 1, startup_timeout);
  ASSERT_TRUE(at) << "pings stopped\n" << describe(notify.messages()) << process.stderr_text();

  const auto messages = notify.messages();
  std::vector<std::chrono::nanoseconds> sent;
  for (const auto& message : messages) {
    if (message.has("WATCHDOG=1")) sent.push_back(message.sent);
  }
  ASSERT_GE(sent.size(), 6u) << describe(messages);
  // The kernel's stamps are CLOCK_REALTIME: allow for NTP slewing it (at most 0.05 %).
  const auto period = std::chrono::microseconds(watchdog_usec / 2);
  const auto slack = std::chrono::milliseconds(2);
  for (size_t i = 1; i < sent.size(); ++i) {
    ASSERT_NE(sent[i].count(), 0) << "no kernel timestamp on a datagram";
    EXPECT_GE(sent[i] - sent[i - 1], period - slack)
        << "ping " << i << " came " << (sent[i] - sent[i - 1]).count() / 1000 << " us after the "
        << "previous one\n"
        << describe(messages);
  }

  process.send_signal(SIGTERM);
  EXPECT_EQ(process.wait(startup_timeout), 0) << process.stderr_text();
}

TEST(NotifyProtocol, NoWatchdogPingsWhenWatchdogPidIsAnotherProcess) {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  // The watchdog is meant for pid 1 here, not for spoa-host (as when systemd's main pid is
  // a wrapper): sd_watchdog_enabled() says no, and no WATCHDOG=1 may go out.
  Process process = start_with_watchdog(dir, notify, "1");
  ASSERT_TRUE(notify.wait_for(ready_message, 0, startup_timeout))
      << process.stderr_text() << describe(notify.messages());
  EXPECT_FALSE(notify.wait_for("WATCHDOG=1", 0, 600ms)) << describe(notify.messages());
  process.send_signal(SIGTERM);
  EXPECT_EQ(process.wait(startup_timeout), 0) << process.stderr_text();
}

TEST(NotifyProtocol, SighupSendsReloadingWithTimestampThenReady) {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  SpoaHost host(dir, basic_config(), {}, ProcessOptions{{notify.env()}, {}});
  ASSERT_TRUE(host.wait_ready(startup_timeout)) << host.stderr_text();
  const auto first_ready = notify.wait_for(ready_message, 0, startup_timeout);
  ASSERT_TRUE(first_ready) << describe(notify.messages());

  const uint64_t before = monotonic_usec();
  host.process().send_signal(SIGHUP);
  const auto reloading = notify.wait_for("RELOADING=1", *first_ready + 1, startup_timeout);
  ASSERT_TRUE(reloading) << describe(notify.messages()) << host.stderr_text();
  const uint64_t after = monotonic_usec();
  const auto ready = notify.wait_for(ready_message, *reloading + 1, startup_timeout);
  ASSERT_TRUE(ready) << describe(notify.messages()) << host.stderr_text();

  const auto messages = notify.messages();
  // systemd >= 253 wants MONOTONIC_USEC with RELOADING=1: CLOCK_MONOTONIC at the reload.
  const auto stamp = messages[*reloading].field("MONOTONIC_USEC");
  ASSERT_TRUE(stamp) << describe(messages);
  ASSERT_TRUE(std::regex_match(*stamp, std::regex(R"(\d+)"))) << *stamp;
  const uint64_t usec = std::stoull(*stamp);
  EXPECT_GE(usec, before) << describe(messages);
  EXPECT_LE(usec, after) << describe(messages);
  // No READY=1 between the first one and RELOADING=1.
  EXPECT_EQ(std::count_if(messages.begin() + static_cast<long>(*first_ready) + 1,
                          messages.begin() + static_cast<long>(*reloading), ready_message),
            0)
      << describe(messages);
  const auto status = messages[*ready].field("STATUS");
  ASSERT_TRUE(status) << describe(messages);
  EXPECT_NE(status->find("plugin generation 2"), std::string::npos) << *status;
  EXPECT_EQ(status->find("failed"), std::string::npos) << *status;
  EXPECT_TRUE(host.process().wait_for_stderr(std::regex("reload done: plugin generation 2"),
                                             startup_timeout))
      << host.stderr_text();
  EXPECT_EQ(host.stop(), 0) << host.stderr_text();
}

TEST(NotifyProtocol, FailedReloadStillSendsReadyAndSaysSoInStatus) {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  SpoaHost host(dir, basic_config(), {}, ProcessOptions{{notify.env()}, {}});
  ASSERT_TRUE(host.wait_ready(startup_timeout)) << host.stderr_text();
  const auto first_ready = notify.wait_for(ready_message, 0, startup_timeout);
  ASSERT_TRUE(first_ready) << describe(notify.messages());

  write_atomically(host.config_file(), basic_config() + "[server\n");  // not TOML any more
  host.process().send_signal(SIGHUP);
  const auto reloading = notify.wait_for("RELOADING=1", *first_ready + 1, startup_timeout);
  ASSERT_TRUE(reloading) << describe(notify.messages()) << host.stderr_text();
  // systemd waits for READY=1 after RELOADING=1 whatever the outcome; without it the unit
  // would hang in "reloading" until TimeoutStartSec and then be failed.
  const auto ready = notify.wait_for(ready_message, *reloading + 1, startup_timeout);
  ASSERT_TRUE(ready) << describe(notify.messages()) << host.stderr_text();
  const auto status = notify.messages()[*ready].field("STATUS");
  ASSERT_TRUE(status) << describe(notify.messages());
  EXPECT_NE(status->find("reload failed"), std::string::npos) << *status;
  EXPECT_NE(status->find("plugin generation 1"), std::string::npos) << *status;
  // And it still serves.
  ASSERT_EQ(status_addresses(*status).size(), 1u) << *status;
  EXPECT_TRUE(serves_spop(status_addresses(*status)[0]));
  EXPECT_EQ(host.stop(), 0) << host.stderr_text();
}

TEST(NotifyProtocol, SigtermSendsStoppingThenExitsZero) {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  SpoaHost host(dir, basic_config(), {}, ProcessOptions{{notify.env()}, {}});
  ASSERT_TRUE(host.wait_ready(startup_timeout)) << host.stderr_text();
  const auto ready = notify.wait_for(ready_message, 0, startup_timeout);
  ASSERT_TRUE(ready) << describe(notify.messages());

  host.process().send_signal(SIGTERM);
  const auto stopping = notify.wait_for("STOPPING=1", *ready + 1, startup_timeout);
  ASSERT_TRUE(stopping) << describe(notify.messages()) << host.stderr_text();
  EXPECT_EQ(host.process().wait(startup_timeout), 0) << host.stderr_text();
  // Nothing claims readiness once stopping has been announced.
  EXPECT_FALSE(notify.wait_for(ready_message, *stopping + 1, 200ms)) << describe(notify.messages());
}

TEST(NotifyProtocol, SighupDuringTheDrainAnnouncesNoReloadAfterStopping) {
  TempDir dir;
  NotifySocket notify(dir.file("notify.sock"));
  // A NOTIFY the plugin holds for 3 s keeps the drain going long enough for a SIGHUP to
  // land in it (a logrotate postrotate `kill -HUP` racing `systemctl stop`). Should the
  // machine stall past that, the SIGHUP lands after the drain: the test then checks less,
  // and still passes only if nothing follows STOPPING=1.
  SpoaHost host(
      dir,
      make_config({"\"127.0.0.1:0\""},
                  "threads = 1\n\n[timeouts]\nprocessing = \"30s\"\n"
                  "\n[plugins.delay]\npath = \"" SPOA_PLUGIN_DELAY "\"\nmessages = [\"slow\"]\n"
                  "[plugins.delay.config]\ndelay = \"3s\"\n"),
      {}, ProcessOptions{{notify.env()}, {}});
  ASSERT_TRUE(host.wait_ready(startup_timeout)) << host.stderr_text();
  std::string error;
  test::Fd fd = test::connect_to(host.addresses().at(0), startup_timeout, error);
  ASSERT_TRUE(fd) << error;
  ASSERT_TRUE(test::hello(fd.get(), startup_timeout));
  // Dispatched, known rather than slept for: a second NOTIFY in the same write, answered at
  // once (delay_ms 0), is handled after the first, so its ACK means the plugin holds sid 1.
  std::vector<uint8_t> both = test::notify(1, 1, "slow");
  const auto marker = test::notify(3, 1, "slow", {{"delay_ms", spop::Value::int64(0)}});
  both.insert(both.end(), marker.begin(), marker.end());
  ASSERT_TRUE(test::send_all(fd.get(), both, startup_timeout));
  bool first_answered = false;
  while (true) {
    const auto ack = test::read_frame(fd.get(), startup_timeout);
    ASSERT_TRUE(ack && ack->type == spop::FrameType::ack) << host.stderr_text();
    if (ack->stream_id == 3) break;
    first_answered = true;
  }

  host.process().send_signal(SIGTERM);
  const auto stopping = notify.wait_for("STOPPING=1", 0, startup_timeout);
  ASSERT_TRUE(stopping) << describe(notify.messages()) << host.stderr_text();
  host.process().send_signal(SIGHUP);
  if (!first_answered) {
    const auto ack = test::read_frame(fd.get(), startup_timeout);
    ASSERT_TRUE(ack) << host.stderr_text();
    EXPECT_EQ(ack->type, spop::FrameType::ack);
    EXPECT_EQ(ack->stream_id, 1u);
  }
  EXPECT_EQ(host.process().wait(startup_timeout), 0) << host.stderr_text();

  // Once STOPPING=1 is out, the service is going away: neither RELOADING=1 nor READY=1 may
  // follow (systemd would take the READY=1 for a service that is up again).
  const auto messages = notify.messages();
  for (size_t i = *stopping + 1; i < messages.size(); ++i) {
    EXPECT_FALSE(messages[i].has("RELOADING=1") || messages[i].has("READY=1"))
        << "after STOPPING=1:\n"
        << describe(messages) << host.stderr_text();
  }
}

}  // namespace
}  // namespace spoa::ops
