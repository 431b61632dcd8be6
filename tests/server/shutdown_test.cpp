// Signals (design.md "Signals"): SIGTERM and SIGINT drain and exit 0, SIGHUP asks for a
// reload and never stops the server.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <regex>

#include "support/socket.hpp"
#include "support/spoa_host.hpp"
#include "support/spop_client.hpp"
#include "support/temp_dir.hpp"

namespace spoa::test {
namespace {

using namespace std::chrono_literals;

// Bounds of waits for events (a frame, an exit); they only bound a failure. Nothing here
// passes or fails on how fast the machine is.
constexpr auto io_timeout = 30s;
constexpr auto exit_timeout = 60s;

// The bundled delay plugin answers every "delay" message after `delay`, from its own
// thread: a NOTIFY in flight for as long as a test needs one.
std::string delay_config(const std::string& delay, const std::string& processing) {
  return make_config({"\"127.0.0.1:0\""}, "threads = 2\n\n[timeouts]\nprocessing = \"" +
                                              processing + "\"\n\n[plugins.delay]\npath = \"" +
                                              build_plugin_dir() +
                                              "/delay.so\"\nmessages = [\"delay\"]\n"
                                              "[plugins.delay.config]\ndelay = \"" +
                                              delay + "\"\n");
}

bool delay_plugin_built() {
  return std::filesystem::exists(build_plugin_dir() + "/delay.so");
}

std::vector<uint8_t> delay_notify(uint64_t stream_id, int64_t delay_ms) {
  return notify(stream_id, 1, "delay", {{"delay_ms", spop::Value::int64(delay_ms)}});
}

// A served connection with one NOTIFY (sid 1, fid 1) dispatched to the delay plugin, which
// answers it after `delay_ms`. Known to be dispatched, not guessed from a sleep: a second
// NOTIFY (sid 3, no delay) goes out in the same write, and the agent handles the frames of
// one read in order, so its ACK means sid 1 is with the plugin. `*answered_early` tells
// whether sid 1's ACK came first anyway (a machine stalled for longer than the delay).
Fd connection_with_notify_in_flight(const std::string& address, int64_t delay_ms,
                                    bool* answered_early = nullptr) {
  std::string error;
  Fd fd = connect_to(address, io_timeout, error);
  EXPECT_TRUE(fd) << error;
  if (!fd) return fd;
  EXPECT_TRUE(hello(fd.get(), io_timeout));
  std::vector<uint8_t> both = delay_notify(1, delay_ms);
  const std::vector<uint8_t> marker = delay_notify(3, 0);
  both.insert(both.end(), marker.begin(), marker.end());
  EXPECT_TRUE(send_all(fd.get(), both, io_timeout));
  bool early = false;
  while (true) {
    const auto ack = read_frame(fd.get(), io_timeout);
    EXPECT_TRUE(ack && ack->type == spop::FrameType::ack) << "no ACK for the marker NOTIFY";
    if (!ack || ack->type != spop::FrameType::ack) return Fd();
    if (ack->stream_id == 3) break;
    early = true;
  }
  if (answered_early != nullptr) *answered_early = early;
  return fd;
}

// With nothing to drain the drain ends at once. Told by the log, not by a stopwatch: the
// drain deadline (at least 10 s) would log that it passed.
TEST(Shutdown, SigtermWithNoConnectionsExits0WithoutWaitingForTheDrainDeadline) {
  TempDir dir;
  SpoaHost host(dir, make_config({"\"127.0.0.1:0\""}, "threads = 2"));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  host.process().send_signal(SIGTERM);
  EXPECT_EQ(host.process().wait(exit_timeout), 0) << host.stderr_text();
  EXPECT_NE(host.stderr_text().find("draining 0 connections"), std::string::npos)
      << host.stderr_text();
  EXPECT_EQ(host.stderr_text().find("drain deadline"), std::string::npos) << host.stderr_text();
}

TEST(Shutdown, SigintDrainsLikeSigterm) {
  TempDir dir;
  SpoaHost host(dir, make_config({"\"127.0.0.1:0\""}));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  host.process().send_signal(SIGINT);
  EXPECT_EQ(host.process().wait(exit_timeout), 0) << host.stderr_text();
}

TEST(Shutdown, SigtermStopsAcceptingAndDisconnectsOpenConnections) {
  TempDir dir;
  SpoaHost host(dir, make_config({"\"127.0.0.1:0\""}, "threads = 2"));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  std::string error;
  const Fd first = connect_to(host.addresses()[0], io_timeout, error);
  ASSERT_TRUE(first) << error;
  ASSERT_TRUE(hello(first.get(), io_timeout));
  const Fd second = connect_to(host.addresses()[0], io_timeout, error);
  ASSERT_TRUE(second) << error;
  ASSERT_TRUE(hello(second.get(), io_timeout));

  host.process().send_signal(SIGTERM);
  for (const Fd* connection : {&first, &second}) {
    const auto frame = read_frame(connection->get(), io_timeout);
    ASSERT_TRUE(frame) << host.stderr_text();
    EXPECT_EQ(frame->type, spop::FrameType::agent_disconnect);
    EXPECT_TRUE(wait_for_close(connection->get(), io_timeout));
  }
  EXPECT_EQ(host.process().wait(exit_timeout), 0) << host.stderr_text();
  const Fd late = connect_to(host.addresses()[0], io_timeout, error);
  EXPECT_FALSE(late) << "still accepting after the drain";
}

TEST(Shutdown, SigtermAnswersNotifiesInFlightBeforeDisconnecting) {
  if (!delay_plugin_built()) GTEST_SKIP() << "delay.so is not built";
  TempDir dir;
  // processing (30 s) far beyond the delay: the ACK is the plugin's, not the deadline's.
  SpoaHost host(dir, delay_config("10ms", "30s"));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  bool answered_early = false;
  const Fd fd = connection_with_notify_in_flight(host.addresses()[0], 1500, &answered_early);
  ASSERT_TRUE(fd);

  host.process().send_signal(SIGTERM);
  // A machine stalled past the 1.5 s delay has the ACK out already: then only the
  // DISCONNECT and the exit are left to check. Never a failure for being slow.
  if (!answered_early) {
    const auto ack = read_frame(fd.get(), io_timeout);
    ASSERT_TRUE(ack) << host.stderr_text();
    EXPECT_EQ(ack->type, spop::FrameType::ack);
    EXPECT_EQ(ack->stream_id, 1u);
    EXPECT_EQ(ack->frame_id, 1u);
  }
  const auto goodbye = read_frame(fd.get(), io_timeout);
  ASSERT_TRUE(goodbye) << host.stderr_text();
  EXPECT_EQ(goodbye->type, spop::FrameType::agent_disconnect);
  EXPECT_EQ(host.process().wait(exit_timeout), 0) << host.stderr_text();
}

TEST(Shutdown, SecondSigtermClosesEverythingAtOnce) {
  if (!delay_plugin_built()) GTEST_SKIP() << "delay.so is not built";
  TempDir dir;
  // The NOTIFY would hold the drain for an hour (and its processing deadline for two):
  // only the second SIGTERM can end the process before the test's bounds.
  SpoaHost host(dir, delay_config("10ms", "2h"));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  const Fd fd = connection_with_notify_in_flight(host.addresses()[0], 3600 * 1000);
  ASSERT_TRUE(fd);

  host.process().send_signal(SIGTERM);
  ASSERT_TRUE(host.process().wait_for_stderr(std::regex("draining 1 connections"), io_timeout))
      << host.stderr_text();
  // Nothing may end the drain now; looking for 300 ms only says how hard we look.
  EXPECT_FALSE(host.process().wait(300ms)) << "did not wait for the NOTIFY in flight";
  host.process().send_signal(SIGTERM);
  EXPECT_EQ(host.process().wait(exit_timeout), 0) << host.stderr_text();
  EXPECT_TRUE(wait_for_close(fd.get(), io_timeout));
}

TEST(Shutdown, SighupReloadsAndServingGoesOn) {
  TempDir dir;
  SpoaHost host(dir, make_config({"\"127.0.0.1:0\""}));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  host.process().send_signal(SIGHUP);
  EXPECT_TRUE(
      host.process().wait_for_stderr(std::regex("reload done: plugin generation 2"), io_timeout))
      << host.stderr_text();
  std::string error;
  const Fd fd = connect_to(host.addresses()[0], io_timeout, error);
  ASSERT_TRUE(fd) << error;
  EXPECT_TRUE(hello(fd.get(), io_timeout));
  EXPECT_EQ(host.stop(), 0) << host.stderr_text();
}

}  // namespace
}  // namespace spoa::test
