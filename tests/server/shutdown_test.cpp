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

constexpr auto io_timeout = 5s;

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

// A served connection with one NOTIFY (sid 1, fid 1) in flight at the delay plugin.
Fd connection_with_notify_in_flight(const std::string& address) {
  std::string error;
  Fd fd = connect_to(address, io_timeout, error);
  EXPECT_TRUE(fd) << error;
  if (!fd) return fd;
  EXPECT_TRUE(hello(fd.get(), io_timeout));
  EXPECT_TRUE(send_all(fd.get(), notify(1, 1, "delay"), io_timeout));
  // No ACK yet: the plugin is holding it.
  EXPECT_FALSE(read_frame(fd.get(), 100ms));
  return fd;
}

TEST(Shutdown, SigtermWithNoConnectionsExits0WithinASecond) {
  TempDir dir;
  SpoaHost host(dir, make_config({"\"127.0.0.1:0\""}, "threads = 2"));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  host.process().send_signal(SIGTERM);
  EXPECT_EQ(host.process().wait(1s), 0) << host.stderr_text();
}

TEST(Shutdown, SigintDrainsLikeSigterm) {
  TempDir dir;
  SpoaHost host(dir, make_config({"\"127.0.0.1:0\""}));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  host.process().send_signal(SIGINT);
  EXPECT_EQ(host.process().wait(5s), 0) << host.stderr_text();
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
  EXPECT_EQ(host.process().wait(5s), 0) << host.stderr_text();
  const Fd late = connect_to(host.addresses()[0], io_timeout, error);
  EXPECT_FALSE(late) << "still accepting after the drain";
}

TEST(Shutdown, SigtermAnswersNotifiesInFlightBeforeDisconnecting) {
  if (!delay_plugin_built()) GTEST_SKIP() << "delay.so is not built";
  TempDir dir;
  SpoaHost host(dir, delay_config("700ms", "10s"));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  const Fd fd = connection_with_notify_in_flight(host.addresses()[0]);
  ASSERT_TRUE(fd);

  host.process().send_signal(SIGTERM);
  const auto ack = read_frame(fd.get(), io_timeout);
  ASSERT_TRUE(ack) << host.stderr_text();
  EXPECT_EQ(ack->type, spop::FrameType::ack);
  EXPECT_EQ(ack->stream_id, 1u);
  EXPECT_EQ(ack->frame_id, 1u);
  const auto goodbye = read_frame(fd.get(), io_timeout);
  ASSERT_TRUE(goodbye) << host.stderr_text();
  EXPECT_EQ(goodbye->type, spop::FrameType::agent_disconnect);
  EXPECT_EQ(host.process().wait(5s), 0) << host.stderr_text();
}

TEST(Shutdown, SecondSigtermClosesEverythingAtOnce) {
  if (!delay_plugin_built()) GTEST_SKIP() << "delay.so is not built";
  TempDir dir;
  // The NOTIFY would hold the drain for 20 s.
  SpoaHost host(dir, delay_config("20s", "30s"));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  const Fd fd = connection_with_notify_in_flight(host.addresses()[0]);
  ASSERT_TRUE(fd);

  host.process().send_signal(SIGTERM);
  ASSERT_TRUE(host.process().wait_for_stderr(std::regex("draining 1 connections"), io_timeout))
      << host.stderr_text();
  EXPECT_FALSE(host.process().wait(300ms)) << "did not wait for the NOTIFY in flight";
  host.process().send_signal(SIGTERM);
  EXPECT_EQ(host.process().wait(3s), 0) << host.stderr_text();
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
