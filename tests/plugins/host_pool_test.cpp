// execution = "pool" through the real binary: a handler that blocks does not hold the I/O
// thread (other connections, new ones included, are answered meanwhile), the processing
// deadline answers for it on time, a full queue answers FAILED at once and is counted; and
// an inline handler that blocks is logged and counted as a stall.
#include <gtest/gtest.h>

#include "host_process.hpp"

namespace spoa::host_test {
namespace {

std::string probe(const std::vector<std::string>& messages, const std::string& keys = "") {
  return plugin_table("probe", SPOA_TEST_PLUGIN_PROBE, messages, keys);
}
std::string echo() {
  return plugin_table("echo", "echo.so", {"echo"});
}
MessageSpec block_for(int64_t ms) {
  return {"block", {{"ignore", spop::Value::boolean(true)}, {"ms", spop::Value::int64(ms)}}};
}
MessageSpec echo_message(const std::string& tag) {
  return {"echo", {{"tag", spop::Value::string(tag)}}};
}

TEST(PoolExecution, ABlockingHandlerHoldsNoIoThreadAndTheDeadlineAnswersForIt) {
  // One I/O thread: inline, the 3 s handler would hold every connection below.
  HostProcess host(
      {.threads = 1,
       .processing = "1s",
       .plugins = probe({"block"}, "execution = \"pool\"\npool_threads = 2") + echo()});
  SpopClient blocked = host.handshake();
  blocked.send_notify(1, 1, {block_for(3000)});
  // While it blocks: five more connections, each through HELLO and an echo ACK (inline on
  // the only I/O thread, all of them would wait for the 3 s handler).
  for (int i = 0; i < 5; ++i) {
    SpopClient other = host.handshake();
    const std::string tag = "t" + std::to_string(i);
    other.send_notify(10 + i, 1, {echo_message(tag)});
    const Ack ack = other.expect_ack(10s);
    EXPECT_EQ(string_of(ack, "tag"), tag);
  }
  const Ack ack = blocked.expect_ack(10s);
  // Answered by the deadline while the handler still blocked (it sets `blocked` when it
  // returns, after 3 s): inline, that ACK would carry it.
  EXPECT_EQ(ack.find("blocked"), nullptr) << ack.describe();
  EXPECT_TRUE(host.wait_for_log("plugin probe: message \"block\" missed the processing deadline"));
  const mtest::Scrape s = host.scrape();
  EXPECT_EQ(s.get("spoa_host_plugin_stalls_total{plugin=\"probe\"}"), 0)
      << "pool calls never stall";
}

TEST(PoolExecution, AHandlerThatBlocksAndReturnsDoneAnswersNormally) {
  HostProcess host({.plugins = probe({"block"}, "execution = \"pool\"")});
  const Ack ack = host.ask(block_for(50));
  ASSERT_NE(ack.find("blocked"), nullptr) << ack.describe();
}

TEST(PoolExecution, AFullQueueAnswersFailedAtOnceAndIsCounted) {
  HostProcess host({.processing = "10s",
                    .plugins = probe({"block"},
                                     "execution = \"pool\"\npool_threads = 1\n"
                                     "pool_queue = 1")});
  SpopClient client = host.handshake();
  // One runs, one waits in the queue, the third finds it full.
  client.send_notify(1, 1, {block_for(1500)});
  // Running on the pool thread (not merely queued) before the next two arrive.
  ASSERT_TRUE(host.wait_for_log("plugin probe: block: started"));
  client.send_notify(2, 1, {block_for(1500)});
  client.send_notify(3, 1, {block_for(1500)});
  const Ack first = client.expect_ack(20s);
  EXPECT_EQ(first.stream_id, 3u) << "the refused call is answered first, at once";
  EXPECT_TRUE(first.actions.empty());
  const Ack second = client.expect_ack(20s);
  const Ack third = client.expect_ack(20s);
  EXPECT_EQ(second.stream_id, 1u);
  EXPECT_EQ(third.stream_id, 2u);
  EXPECT_NE(third.find("blocked"), nullptr);
  const mtest::Scrape s = host.scrape();
  EXPECT_EQ(s.get("spoa_host_plugin_outcomes_total{plugin=\"probe\",outcome=\"queue_full\"}"), 1)
      << s.body;
  EXPECT_TRUE(host.wait_for_log("the pool's queue is full"));
}

TEST(PoolExecution, ABlockedHandlerLearnsItWasAbandoned) {
  HostProcess host({.processing = "300ms", .plugins = probe({"block"}, "execution = \"pool\"")});
  const Ack ack = host.ask({"block", {}});
  EXPECT_TRUE(ack.actions.empty());
  const mtest::Scrape s = host.scrape_until([](const mtest::Scrape& x) {
    return x.has("spoa_plugin_probe_abandoned_total{plugin=\"probe\",how=\"polled\"}");
  });
  EXPECT_EQ(s.get("spoa_plugin_probe_abandoned_total{plugin=\"probe\",how=\"polled\"}"), 1)
      << s.body;
}

TEST(InlineStalls, AnInlineHandlerSlowerThanTheThresholdIsLoggedAndCounted) {
  HostProcess host({.plugins = probe({"block"})});
  // Far past the 10 ms threshold, so that the main thread's sampling (every 5 ms) sees it
  // however loaded the machine is.
  const Ack ack = host.ask(block_for(500));
  ASSERT_NE(ack.find("blocked"), nullptr);
  EXPECT_TRUE(
      host.wait_for_log("plugin probe: inline handler for message \"block\" held its I/O "
                        "thread for at least"));
  const mtest::Scrape s = host.scrape();
  EXPECT_EQ(s.get("spoa_host_plugin_stalls_total{plugin=\"probe\"}"), 1) << s.body;
}

TEST(InlineStalls, AHandlerThatDoesNotReturnIsReportedWhileItRuns) {
  HostProcess host({.threads = 1, .processing = "10s", .plugins = probe({"block"})});
  SpopClient client = host.handshake();
  client.send_notify(1, 1, {block_for(4000)});
  // Logged by the watch while the I/O thread is still inside the handler.
  EXPECT_TRUE(
      host.wait_for_log("plugin probe: inline handler for message \"block\" has held "
                        "I/O thread 0 for over"));
  const Ack ack = client.expect_ack(20s);
  EXPECT_NE(ack.find("blocked"), nullptr) << "it did return, and its ACK came then";
  const mtest::Scrape s = host.scrape();
  EXPECT_EQ(s.get("spoa_host_plugin_stalls_total{plugin=\"probe\"}"), 1) << s.body;
}

TEST(PoolConfig, PoolKeysWithoutPoolExecutionAreAConfigError) {
  test::TempDir dir;
  const std::string file =
      dir.write("spoa-host.toml", "[server]\nlisten = [\"127.0.0.1:0\"]\n" +
                                      probe({"block"}, "execution = \"inline\"\npool_threads = 2"));
  const test::RunResult run =
      test::run(test::spoa_host_binary(), {"-c", file, "--check-config"}, startup_timeout);
  EXPECT_EQ(run.status, std::optional<int>(1));
  EXPECT_NE(run.err.find("plugins.probe.pool_threads: only meaningful with execution = \"pool\""),
            std::string::npos)
      << run.err;
}

}  // namespace
}  // namespace spoa::host_test
