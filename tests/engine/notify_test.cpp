// NOTIFY -> ACK, pipelining, fragments, HAProxy's DISCONNECT.
#include "engine_harness.hpp"

namespace spoa::agent::test {
namespace {

using spop::FrameType;

TEST(Notify, ImmediateMessagesAreAnsweredInTheSameTurnWithTheirIds) {
  EngineHarness h;
  h.handshake();
  h.feed(notify_frame(7, 3, {{"now", "a"}, {"unclaimed", "x"}, {"now", "b"}}));
  const Sent ack = h.expect_one(FrameType::ack);
  EXPECT_EQ(ack.stream_id, 7u);
  EXPECT_EQ(ack.frame_id, 3u);
  EXPECT_EQ(ack.vars, (std::vector<std::string>{"a", "b"}));
}

TEST(Notify, PendingNotifiesAreAnsweredWhenTheyCompleteInAnyOrder) {
  EngineHarness h;
  h.handshake();
  Bytes burst = notify_frame(1, 1, {{"wait", "first"}});
  const Bytes second = notify_frame(1, 2, {{"wait", "second"}, {"now", "second-now"}});
  burst.insert(burst.end(), second.begin(), second.end());
  h.feed(burst);
  EXPECT_TRUE(h.take_sent().empty());
  EXPECT_EQ(h.engine().in_flight(), 2u);
  h.complete(1, 2);
  const Sent ack = h.expect_one(FrameType::ack);
  EXPECT_EQ(ack.frame_id, 2u);
  EXPECT_EQ(ack.vars, (std::vector<std::string>{"second", "second-now"}))
      << "actions follow message order, whatever finished first";
  h.complete(1, 1);
  EXPECT_EQ(h.expect_one(FrameType::ack).frame_id, 1u);
  EXPECT_EQ(h.engine().in_flight(), 0u);
}

TEST(Notify, ManyPipelinedNotifiesInOneReadBecomeOneWrite) {
  EngineHarness h;
  h.handshake();
  Bytes burst;
  for (uint64_t i = 1; i <= 32; ++i) {
    const Bytes frame = notify_frame(i, 1, {{"now", "t"}});
    burst.insert(burst.end(), frame.begin(), frame.end());
  }
  h.peer_reads = false;
  h.feed(burst);
  const std::span<const uint8_t> out = h.engine().output(h.now());
  size_t frames = 0;
  for (size_t at = 0; at < out.size(); ++frames)
    at += spop::decode_frame(out.subspan(at), UINT32_MAX).consumed;
  EXPECT_EQ(frames, 32u);
}

TEST(Notify, FrameIdZeroIsAProtocolError) {
  EngineHarness h;
  h.handshake();
  h.feed(notify_frame(1, 0, {{"now", "a"}}));
  EXPECT_EQ(h.expect_one(FrameType::agent_disconnect).status,
            static_cast<uint32_t>(spop::Status::invalid_frame));
  EXPECT_TRUE(h.engine().closed());
}

TEST(Notify, TooManyMessagesGetAnEmptyAckAndNoPluginCall) {
  EngineSettings settings;
  settings.max_messages_per_notify = 4;
  EngineHarness h(settings);
  h.handshake();
  h.feed(notify_frame(1, 1,
                      {{"wait", "a"}, {"wait", "b"}, {"wait", "c"}, {"wait", "d"}, {"wait", "e"}}));
  const Sent ack = h.expect_one(FrameType::ack);
  EXPECT_TRUE(ack.vars.empty());
  EXPECT_EQ(h.plugins().dispatched, 0u);
  h.feed(notify_frame(1, 2, {{"now", "a"}, {"now", "b"}, {"now", "c"}, {"now", "d"}}));
  EXPECT_EQ(h.expect_one(FrameType::ack).vars.size(), 4u) << "the limit itself is allowed";
}

TEST(Notify, AHugeNotifyLeavesNoDecoderMemoryBehind) {
  EngineSettings settings;
  settings.max_messages_per_notify = 1000;
  EngineHarness h(settings);
  h.handshake();
  std::vector<Msg> many;
  for (int i = 0; i < 300; ++i)
    many.push_back({"now", "v" + std::to_string(i)});
  h.feed(notify_frame(1, 1, many));
  EXPECT_EQ(h.expect_one(FrameType::ack).vars.size(), 300u);
  EXPECT_FALSE(h.scratch().notify.above_high_water())
      << "the thread's decoder kept the vectors of a 300-message NOTIFY";
}

TEST(Fragments, AreReassembledAndAnsweredOnce) {
  EngineSettings settings;
  settings.fragmentation = true;
  EngineHarness h(settings);
  h.handshake();
  const Bytes payload = notify_payload({{"now", "whole"}});
  const auto part = [&](size_t from, size_t to) {
    return std::span<const uint8_t>(payload).subspan(from, to - from);
  };
  const size_t cut = payload.size() / 2;
  h.feed(raw_frame(FrameType::notify, 0, 5, 1, part(0, cut)));
  EXPECT_TRUE(h.take_sent().empty());
  h.feed(raw_frame(FrameType::unset, spop::flag_fin, 5, 1, part(cut, payload.size())));
  const Sent ack = h.expect_one(FrameType::ack);
  EXPECT_EQ(ack.stream_id, 5u);
  EXPECT_EQ(ack.vars, (std::vector<std::string>{"whole"}));
  EXPECT_EQ(h.engine().buffered_bytes(), 0u) << "reassembly memory outlived the NOTIFY";
}

TEST(Fragments, AbortedByHaproxyGetNoAck) {
  EngineSettings settings;
  settings.fragmentation = true;
  EngineHarness h(settings);
  h.handshake();
  const Bytes payload = notify_payload({{"now", "whole"}});
  h.feed(raw_frame(FrameType::notify, 0, 5, 1, std::span<const uint8_t>(payload).first(4)));
  h.feed(raw_frame(FrameType::unset, spop::flag_fin | spop::flag_abort, 5, 1, {}));
  EXPECT_TRUE(h.take_sent().empty());
  h.feed(notify_frame(6, 1, {{"now", "next"}}));
  EXPECT_EQ(h.expect_one(FrameType::ack).stream_id, 6u);
}

TEST(Fragments, WithoutNegotiationAreRefusedWithStatus10) {
  EngineHarness h;
  h.handshake();
  const Bytes payload = notify_payload({{"now", "whole"}});
  h.feed(raw_frame(FrameType::notify, 0, 5, 1, payload));
  EXPECT_EQ(h.expect_one(FrameType::agent_disconnect).status,
            static_cast<uint32_t>(spop::Status::fragmentation_not_supported));
}

TEST(Fragments, BeyondTheReassemblyLimitAreRefusedWithStatus13) {
  EngineSettings settings;
  settings.fragmentation = true;
  settings.max_reassembled_size = 100;
  EngineHarness h(settings);
  h.handshake();
  const Bytes chunk(80, 0x00);
  h.feed(raw_frame(FrameType::notify, 0, 5, 1, chunk));
  h.feed(raw_frame(FrameType::unset, 0, 5, 1, chunk));
  EXPECT_EQ(h.expect_one(FrameType::agent_disconnect).status,
            static_cast<uint32_t>(spop::Status::resource_allocation));
  EXPECT_EQ(h.engine().buffered_bytes(), 0u);
}

TEST(HaproxyDisconnect, IsAnsweredAtOnceAndPendingWorkIsAbandoned) {
  EngineHarness h;
  h.handshake();
  h.feed(notify_frame(1, 1, {{"wait", "a"}}));
  h.feed(haproxy_disconnect_frame());
  const Sent d = h.expect_one(FrameType::agent_disconnect);
  EXPECT_EQ(d.status, 0u);
  EXPECT_TRUE(h.engine().closed());
  EXPECT_EQ(h.plugins().abandoned, 1u);
  EXPECT_EQ(h.engine().close_reason(), metrics::CloseReason::haproxy_disconnect);
}

TEST(Framing, FramesSplitAcrossReadsAtEveryByteAreReassembled) {
  EngineHarness h;
  h.handshake();
  Bytes stream;
  for (uint64_t i = 1; i <= 3; ++i) {
    const Bytes frame = notify_frame(i, 1, {{"now", "t" + std::to_string(i)}});
    stream.insert(stream.end(), frame.begin(), frame.end());
  }
  for (const uint8_t byte : stream)
    h.feed(Bytes{byte});
  const std::vector<Sent> acks = h.take_sent();
  ASSERT_EQ(acks.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i)
    EXPECT_EQ(acks[i].stream_id, i + 1);
  EXPECT_EQ(h.engine().buffered_bytes(), 0u);
}

spop::HelloOptions async_hello() {
  spop::HelloOptions options;
  options.capabilities = "pipelining,async";
  options.engine_id = "e7b5";
  return options;
}

TEST(Async, PendingNotifiesOfALostConnectionAreHandedOverWithTheirDeadline) {
  EngineSettings settings;
  settings.async = true;
  settings.processing_timeout = 300ms;
  EngineHarness h(settings);
  h.handshake(async_hello());
  EXPECT_TRUE(h.engine().async());
  EXPECT_EQ(h.engine().engine_id(), "e7b5");
  h.feed(notify_frame(1, 1, {{"wait", "a"}}));
  const TimePoint read_at = h.now();
  h.advance(100ms);
  h.engine().transport_ended(metrics::CloseReason::reset);
  EXPECT_EQ(h.plugins().adopted, 1u);
  EXPECT_EQ(h.plugins().abandoned, 0u);
  EXPECT_EQ(h.plugins().adopted_deadline, read_at + 300ms) << "the deadline must not move";
}

TEST(Async, WithoutAsyncPendingWorkOfALostConnectionIsAbandoned) {
  EngineHarness h;  // async not offered by the agent
  h.handshake(async_hello());
  EXPECT_FALSE(h.engine().async());
  h.feed(notify_frame(1, 1, {{"wait", "a"}}));
  h.engine().transport_ended(metrics::CloseReason::reset);
  EXPECT_EQ(h.plugins().adopted, 0u);
  EXPECT_EQ(h.plugins().abandoned, 1u);
}

TEST(Async, ASiblingsAckGoesOutAsItIsAndOnlyIfItFits) {
  EngineSettings settings;
  settings.async = true;
  EngineHarness h(settings);
  h.handshake(async_hello());
  Bytes ack(64);
  spop::AckWriter writer(ack, h.engine().max_frame_size(), 41, 2);
  writer.set_var(spop::Scope::txn, "from_sibling", spop::Value::int32(1));
  ack.resize(writer.finish().size);
  EXPECT_TRUE(h.engine().send_rerouted(ack));
  h.pump();
  const Sent sent = h.expect_one(FrameType::ack);
  EXPECT_EQ(sent.stream_id, 41u);
  EXPECT_EQ(sent.vars, (std::vector<std::string>{"from_sibling"}));
  const Bytes too_big(h.engine().max_frame_size() + 5, 0);
  EXPECT_FALSE(h.engine().send_rerouted(too_big));
}

}  // namespace
}  // namespace spoa::agent::test
