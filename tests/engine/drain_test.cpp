// Drain that ends (design.md "Signals"): on shutdown intake stops at once, every NOTIFY
// already received is answered, then AGENT-DISCONNECT 0 and the close.
#include <set>

#include "engine_harness.hpp"

namespace spoa::agent::test {
namespace {

using spop::FrameType;

TEST(Drain, InFlightNotifyIsAnsweredThenDisconnect0ThenClose) {
  EngineHarness h;
  h.handshake();
  h.feed(notify_frame(12, 3, {{"wait", "drained"}}));
  h.shutdown();
  EXPECT_FALSE(h.engine().wants_read()) << "intake must stop at shutdown";
  EXPECT_TRUE(h.take_sent().empty());
  h.complete(12, 3);
  const std::vector<Sent> sent = h.take_sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].type, FrameType::ack);
  EXPECT_EQ(sent[0].vars, (std::vector<std::string>{"drained"}));
  EXPECT_EQ(sent[1].type, FrameType::agent_disconnect);
  EXPECT_EQ(sent[1].status, 0u);
  EXPECT_TRUE(h.engine().closed());
}

TEST(Drain, IdleConnectionGetsDisconnect0AtOnce) {
  EngineHarness h;
  h.handshake();
  h.shutdown();
  EXPECT_EQ(h.expect_one(FrameType::agent_disconnect).status, 0u);
  EXPECT_TRUE(h.engine().closed());
}

TEST(Drain, NotifiesHeldBackByBackpressureAreAnsweredBeforeTheDisconnect) {
  EngineSettings settings;
  settings.max_inflight = 2;
  EngineHarness h(settings);
  h.handshake();
  Bytes burst;
  for (uint64_t sid = 1; sid <= 3; ++sid) {
    const Bytes frame = notify_frame(sid, 1, {{"wait", "s" + std::to_string(sid)}});
    burst.insert(burst.end(), frame.begin(), frame.end());
  }
  h.feed(burst);
  h.shutdown();
  h.complete(1, 1);
  h.complete(2, 1);
  h.complete(3, 1);
  const std::vector<Sent> sent = h.take_sent();
  ASSERT_EQ(sent.size(), 4u);
  std::set<uint64_t> acked;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sent[i].type, FrameType::ack);
    acked.insert(sent[i].stream_id);
  }
  EXPECT_EQ(acked, (std::set<uint64_t>{1, 2, 3}));
  EXPECT_EQ(sent[3].type, FrameType::agent_disconnect);
}

TEST(Drain, EndsWithinTheProcessingTimeoutUnderASlowPluginAndSustainedLoad) {
  // The peer keeps sending; the plugin never completes. Intake stops at shutdown, the
  // NOTIFYs received are answered at their deadlines, the DISCONNECT follows the last.
  EngineSettings settings;
  settings.processing_timeout = 400ms;
  EngineHarness h(settings);
  h.handshake();
  uint64_t sid = 0;
  for (int i = 0; i < 20; ++i) {
    h.feed(notify_frame(++sid, 1, {{"wait", "w"}}));
    h.advance(10ms);
  }
  const size_t received = h.plugins().dispatched;
  h.shutdown();
  const TimePoint stopped = h.now();
  // The peer still sends: none of it is taken.
  EXPECT_EQ(h.feed(notify_frame(++sid, 1, {{"wait", "w"}})), 0u);
  h.advance(400ms);
  EXPECT_TRUE(h.engine().closed());
  const std::vector<Sent> sent = h.take_sent();
  ASSERT_EQ(sent.size(), received + 1);
  for (size_t i = 0; i < received; ++i)
    EXPECT_EQ(sent[i].type, FrameType::ack);
  EXPECT_EQ(sent.back().type, FrameType::agent_disconnect);
  EXPECT_LE(h.now() - stopped, settings.processing_timeout);
}

TEST(Drain, APartialFrameDoesNotHoldTheDrain) {
  EngineHarness h;
  h.handshake();
  const Bytes frame = notify_frame(1, 1, {{"now", "a"}});
  h.feed(std::span<const uint8_t>(frame).first(5));
  h.shutdown();
  EXPECT_EQ(h.expect_one(FrameType::agent_disconnect).status, 0u);
  EXPECT_TRUE(h.engine().closed());
}

}  // namespace
}  // namespace spoa::agent::test
