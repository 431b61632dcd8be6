// Reloads and the daemon's signals through the real binary: a plugin whose init() throws
// during SIGHUP leaves the daemon serving and answering SIGHUP and SIGTERM; a reload's
// plugins start off the main thread (accepts go on meanwhile); an I/O thread stuck in a
// plugin does not keep the daemon from exiting.
#include <gtest/gtest.h>

#include <csignal>

#include "host_process.hpp"

namespace spoa::host_test {
namespace {

std::string echo() {
  return plugin_table("echo", "echo.so", {"echo"});
}

void rewrite_config(HostProcess& host, const std::string& plugins) {
  // Replace the plugin tables, keep the [server]/[timeouts]/[metrics] head.
  const std::string& toml = host.toml();
  const size_t cut = toml.find("\n[plugins.");
  const std::string head = cut == std::string::npos ? toml : toml.substr(0, cut);
  const std::string path = host.host().config_file();
  const std::string next = path + ".new";
  host.dir().write("spoa-host.toml.new", head + plugins);
  ASSERT_EQ(std::rename(next.c_str(), path.c_str()), 0);
}

TEST(Reload, APluginWhoseInitThrowsLeavesTheDaemonServingAndHearingSignals) {
  HostProcess host({.plugins = echo()});
  rewrite_config(host, echo() + plugin_table("bad", SPOA_TEST_PLUGIN_INIT_THROWS, {"bad"}));
  host.host().process().send_signal(SIGHUP);
  ASSERT_TRUE(host.wait_for_log("reload failed; still serving with plugin generation 1"))
      << host.log();
  EXPECT_TRUE(host.wait_for_log("init() threw through the C ABI: init_throws: thrown from init()"));
  EXPECT_EQ(string_of(host.ask({"echo", {{"a", spop::Value::string("1")}}}), "a"), "1");

  // SIGHUP is still heard: a good config now reloads.
  rewrite_config(host, echo());
  host.host().process().send_signal(SIGHUP);
  ASSERT_TRUE(host.wait_for_log("reload done: plugin generation 2")) << host.log();
  // And SIGTERM still stops it, cleanly.
  EXPECT_EQ(host.host().stop(60s), std::optional<int>(0));
}

TEST(Reload, ANewGenerationStartsOffTheMainThreadWhileNewConnectionsAreServed) {
  HostProcess host({.plugins = echo()});
  rewrite_config(host, echo() + plugin_table("slow", SPOA_TEST_PLUGIN_PROBE, {"context"}, "",
                                             "init_sleep_ms = 3000"));
  host.host().process().send_signal(SIGHUP);
  ASSERT_TRUE(host.wait_for_log("SIGHUP: reloading"));
  // The slow init() runs for 3 s; meanwhile the listener accepts and the old generation
  // answers. (On the main thread, accept and HELLO would wait for the init.)
  const Ack ack = host.ask({"echo", {{"a", spop::Value::string("during")}}});
  EXPECT_EQ(string_of(ack, "a"), "during");
  EXPECT_EQ(host.log().find("reload done"), std::string::npos)
      << "the reload finished before the connection was served: nothing was proven";
  ASSERT_TRUE(host.wait_for_log("reload done: plugin generation 2")) << host.log();
  EXPECT_EQ(int_of(host.ask({"context", {}}), "stream_id"), 1);
}

TEST(Shutdown, AnIoThreadStuckInAPluginDoesNotKeepTheDaemonFromExiting) {
  HostProcess host({.threads = 1,
                    .processing = "1s",
                    .plugins = plugin_table("probe", SPOA_TEST_PLUGIN_PROBE, {"block"})});
  SpopClient client = host.handshake();
  // Inline, for far longer than the drain and the grace periods.
  client.send_notify(
      1, 1,
      {{"block", {{"ignore", spop::Value::boolean(true)}, {"ms", spop::Value::int64(600000)}}}});
  ASSERT_TRUE(host.wait_for_log("plugin probe: block: started"));
  host.host().process().send_signal(SIGTERM);
  const auto status = host.host().process().wait(90s);
  ASSERT_TRUE(status.has_value()) << "still running:\n" << host.log();
  EXPECT_EQ(*status, 1) << "not a clean stop: the plugins were not shut down";
  EXPECT_NE(host.log().find("I/O threads still inside plugin code"), std::string::npos)
      << host.log();
}

}  // namespace
}  // namespace spoa::host_test
