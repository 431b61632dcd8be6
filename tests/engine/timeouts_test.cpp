// Every wait has a timeout: processing deadline, idle, write progress, the DISCONNECT grace.
// The fake clock makes each one exact: nothing at deadline - 1 ms, the effect at deadline.
#include "engine_harness.hpp"

namespace spoa::agent::test {
namespace {

using spop::FrameType;

EngineSettings with_processing(Millis processing) {
  EngineSettings settings;
  settings.processing_timeout = processing;
  return settings;
}

TEST(ProcessingDeadline, AckGoesExactlyAtTheDeadlineWithTheFinishedMessagesOnly) {
  EngineHarness h(with_processing(200ms));
  h.handshake();
  h.feed(notify_frame(21, 1, {{"now", "x"}, {"wait", "late"}}));
  h.advance(199ms);
  EXPECT_TRUE(h.take_sent().empty()) << "answered before the processing deadline";
  h.advance(1ms);
  const Sent ack = h.expect_one(FrameType::ack);
  EXPECT_EQ(ack.stream_id, 21u);
  EXPECT_EQ(ack.vars, (std::vector<std::string>{"x"}));
  EXPECT_EQ(h.engine().in_flight(), 0u);
  EXPECT_EQ(h.plugins().pending_calls(), 0u) << "the late call was not released";
}

TEST(ProcessingDeadline, EachNotifyHasItsOwnDeadline) {
  EngineHarness h(with_processing(300ms));
  h.handshake();
  h.feed(notify_frame(1, 1, {{"wait", "a"}}));
  h.advance(150ms);
  h.feed(notify_frame(2, 1, {{"wait", "b"}}));
  h.advance(150ms);
  EXPECT_EQ(h.expect_one(FrameType::ack).stream_id, 1u);
  h.advance(149ms);
  EXPECT_TRUE(h.take_sent().empty()) << "the second NOTIFY was cut at the first one's deadline";
  h.advance(1ms);
  EXPECT_EQ(h.expect_one(FrameType::ack).stream_id, 2u);
}

TEST(ProcessingDeadline, RunsFromTheReadThatBroughtTheNotifyNotFromDispatch) {
  // Two NOTIFYs in one read, the second held back by max_inflight = 1. It is dispatched
  // only when the first is answered, 80 ms later, yet its deadline still counts from the
  // read.
  EngineSettings settings = with_processing(100ms);
  settings.max_inflight = 1;
  EngineHarness h(settings);
  h.handshake();
  Bytes burst = notify_frame(1, 1, {{"wait", "a"}});
  const Bytes second = notify_frame(2, 1, {{"wait", "b"}});
  burst.insert(burst.end(), second.begin(), second.end());
  h.feed(burst);
  EXPECT_EQ(h.plugins().dispatched, 1u);
  h.advance(80ms);
  h.complete(1, 1);
  EXPECT_EQ(h.expect_one(FrameType::ack).stream_id, 1u);
  EXPECT_EQ(h.plugins().dispatched, 2u);
  h.advance(19ms);
  EXPECT_TRUE(h.take_sent().empty());
  h.advance(1ms);  // 100 ms after the read, 20 ms after its dispatch
  EXPECT_EQ(h.expect_one(FrameType::ack).stream_id, 2u);
}

TEST(ProcessingDeadline, StaysOrderedWhenAReloadShortensTheTimeout) {
  EngineHarness h(with_processing(1000ms));
  h.handshake();
  h.feed(notify_frame(1, 1, {{"wait", "long"}}));
  h.settings().processing_timeout = 50ms;  // a reload, as Worker::set_settings does
  h.advance(10ms);
  h.feed(notify_frame(2, 1, {{"wait", "short"}}));
  h.advance(49ms);
  EXPECT_TRUE(h.take_sent().empty());
  h.advance(1ms);
  EXPECT_EQ(h.expect_one(FrameType::ack).stream_id, 2u)
      << "the NOTIFY read after the reload waited for the older, longer deadline";
  h.advance(939ms);
  EXPECT_TRUE(h.take_sent().empty());
  h.advance(1ms);
  EXPECT_EQ(h.expect_one(FrameType::ack).stream_id, 1u);
}

TEST(ProcessingDeadline, LateCompletionAfterTheDeadlineSendsNoSecondAck) {
  EngineHarness h(with_processing(200ms));
  h.handshake();
  h.feed(notify_frame(22, 1, {{"wait", "late"}}));
  h.advance(200ms);
  EXPECT_EQ(h.expect_one(FrameType::ack).stream_id, 22u);
  EXPECT_EQ(h.plugins().complete(22, 1), nullptr) << "the call outlived its ACK";
}

TEST(IdleTimeout, IdleConnectionGetsDisconnect2ExactlyAtTheTimeout) {
  EngineSettings settings;
  settings.idle_timeout = 300ms;
  EngineHarness h(settings);
  h.handshake();
  h.advance(299ms);
  EXPECT_TRUE(h.take_sent().empty());
  h.advance(1ms);
  EXPECT_EQ(h.expect_one(FrameType::agent_disconnect).status,
            static_cast<uint32_t>(spop::Status::timeout));
  EXPECT_TRUE(h.engine().closed());
  EXPECT_EQ(h.engine().close_reason(), metrics::CloseReason::timeout);
}

TEST(IdleTimeout, TrafficKeepsTheConnectionOpen) {
  EngineSettings settings;
  settings.idle_timeout = 500ms;
  EngineHarness h(settings);
  h.handshake();
  for (uint64_t i = 1; i <= 6; ++i) {
    h.advance(400ms);
    h.feed(notify_frame(1, i, {{"now", "t"}}));
    EXPECT_EQ(h.expect_one(FrameType::ack).frame_id, i);
  }
  h.advance(499ms);
  EXPECT_TRUE(h.take_sent().empty());
  h.advance(1ms);
  EXPECT_EQ(h.expect_one(FrameType::agent_disconnect).status,
            static_cast<uint32_t>(spop::Status::timeout));
}

TEST(IdleTimeout, NotifyInFlightIsAnsweredBeforeTheIdleDisconnect) {
  EngineSettings settings = with_processing(5000ms);
  settings.idle_timeout = 300ms;
  EngineHarness h(settings);
  h.handshake();
  h.feed(notify_frame(1, 1, {{"wait", "slow"}}));
  h.advance(900ms);
  EXPECT_TRUE(h.take_sent().empty()) << "idle fired with a NOTIFY in flight";
  h.complete(1, 1);
  EXPECT_EQ(h.expect_one(FrameType::ack).vars, (std::vector<std::string>{"slow"}));
  h.advance(299ms);
  EXPECT_TRUE(h.take_sent().empty()) << "idle counts from the last ACK written";
  h.advance(1ms);
  EXPECT_EQ(h.expect_one(FrameType::agent_disconnect).status,
            static_cast<uint32_t>(spop::Status::timeout));
}

TEST(WriteTimeout, APeerThatStopsReadingIsClosedExactlyAfterTheWriteTimeout) {
  EngineSettings settings;
  settings.write_timeout = 2000ms;
  EngineHarness h(settings);
  h.handshake();
  h.peer_reads = false;
  h.feed(notify_frame(1, 1, {{"now", "t"}}));
  const std::span<const uint8_t> out = h.engine().output(h.now());
  ASSERT_FALSE(out.empty());
  h.advance(1000ms);
  h.engine().written(h.now(), 1);  // the kernel took one byte: progress
  h.advance(1999ms);
  EXPECT_FALSE(h.engine().closed()) << "the timeout did not restart on progress";
  h.advance(1ms);
  EXPECT_TRUE(h.engine().closed());
  EXPECT_EQ(h.engine().close_reason(), metrics::CloseReason::write_timeout);
  EXPECT_EQ(h.engine().buffered_bytes(), 0u);
}

TEST(WriteTimeout, AlsoEndsAStuckDisconnect) {
  EngineSettings settings;
  settings.write_timeout = 1000ms;
  settings.closing_grace = 5000ms;
  EngineHarness h(settings);
  h.handshake();
  h.peer_reads = false;
  h.shutdown();
  ASSERT_FALSE(h.engine().output(h.now()).empty());
  h.advance(999ms);
  EXPECT_FALSE(h.engine().closed());
  h.advance(1ms);
  EXPECT_TRUE(h.engine().closed()) << "waited for the longer closing grace";
}

}  // namespace
}  // namespace spoa::agent::test
