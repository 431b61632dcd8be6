// Bounded memory whatever the peer does: reads stop at max_inflight (weighted by pending
// plugin calls) and while unread output passes max_queued_output; an idle connection
// holds no buffer.
#include <set>

#include "engine_harness.hpp"

namespace spoa::agent::test {
namespace {

using spop::FrameType;

Bytes notifies(uint64_t first_stream, size_t count, const std::string& message) {
  Bytes out;
  for (size_t i = 0; i < count; ++i) {
    const Bytes frame = notify_frame(first_stream + i, 1, {{message, "t" + std::to_string(i)}});
    out.insert(out.end(), frame.begin(), frame.end());
  }
  return out;
}

TEST(Backpressure, ThirdNotifyWaitsForAFreeSlotThenIsAnswered) {
  EngineSettings settings;
  settings.max_inflight = 2;
  EngineHarness h(settings);
  h.handshake();
  Bytes burst = notifies(1, 2, "wait");
  const Bytes third = notify_frame(3, 1, {{"now", "third"}});
  burst.insert(burst.end(), third.begin(), third.end());
  h.feed(burst);
  EXPECT_TRUE(h.take_sent().empty()) << "the third NOTIFY overtook the two in flight";
  EXPECT_FALSE(h.engine().wants_read()) << "still reading with every slot taken";
  h.complete(2, 1);
  const std::vector<Sent> acks = h.take_sent();
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0].stream_id, 2u);
  EXPECT_EQ(acks[1].stream_id, 3u);
  EXPECT_TRUE(h.engine().wants_read());
}

TEST(Backpressure, WithoutTheLimitTheImmediateNotifyOvertakes) {
  EngineHarness h;
  h.handshake();
  Bytes burst = notifies(1, 2, "wait");
  const Bytes third = notify_frame(3, 1, {{"now", "third"}});
  burst.insert(burst.end(), third.begin(), third.end());
  h.feed(burst);
  EXPECT_EQ(h.expect_one(FrameType::ack).stream_id, 3u);
}

TEST(Backpressure, ANotifyCountsAsManySlotsAsItHasPendingPluginCalls) {
  EngineSettings settings;
  settings.max_inflight = 4;
  EngineHarness h(settings);
  h.handshake();
  h.feed(notify_frame(1, 1, {{"wait", "a"}, {"wait", "b"}, {"wait", "c"}, {"wait", "d"}}));
  EXPECT_EQ(h.engine().in_flight(), 1u);
  EXPECT_FALSE(h.engine().wants_read()) << "four pending plugin calls must fill four slots";
  h.complete(1, 1);
  EXPECT_TRUE(h.engine().wants_read());
}

TEST(Backpressure, BurstBeyondTheLimitIsFullyAnswered) {
  // 100 NOTIFYs in one write, 64 in flight at most: reading resumes as ACKs go out.
  EngineHarness h;
  h.handshake();
  const Bytes burst = notifies(1, 100, "wait");
  size_t fed = h.feed(burst);
  EXPECT_EQ(h.plugins().dispatched, 64u);
  std::set<uint64_t> answered;
  for (uint64_t sid = 1; sid <= 100; ++sid) {
    if (fed < burst.size()) fed += h.feed(std::span<const uint8_t>(burst).subspan(fed));
    h.complete(sid, 1);
    for (const Sent& ack : h.take_sent())
      answered.insert(ack.stream_id);
  }
  EXPECT_EQ(fed, burst.size());
  EXPECT_EQ(answered.size(), 100u);
}

TEST(Backpressure, APeerThatNeverReadsStopsTheReadsAtTheOutputBound) {
  EngineSettings settings;
  settings.max_queued_output = 16 * 1024;
  EngineHarness h(settings);
  h.handshake();
  h.peer_reads = false;
  // 10,000 immediate NOTIFYs (hundreds of KiB of ACKs): the engine must stop taking them.
  const Bytes flood = notifies(1, 10000, "now");
  const size_t taken = h.feed(flood);
  EXPECT_LT(taken, flood.size()) << "the engine read everything a non-reading peer sent";
  EXPECT_FALSE(h.engine().wants_read());
  const size_t bound = settings.max_queued_output + settings.max_frame_size + 4;
  EXPECT_LE(h.engine().queued_output(), bound);
  EXPECT_LE(h.engine().buffered_bytes(),
            2 * BufferPool::block_size + EngineScratch::read_size + 16 * 1024 + 4096)
      << "output and held input stay within the README bound";
  // The peer reads again: the rest is answered, reads resume.
  h.peer_reads = true;
  h.pump();
  size_t total = taken;
  while (total < flood.size()) {
    const size_t more = h.feed(std::span<const uint8_t>(flood).subspan(total));
    ASSERT_GT(more, 0u) << "reads did not resume once the output drained";
    total += more;
  }
  EXPECT_EQ(h.take_sent().size(), 10000u);
}

TEST(Memory, AnIdleConnectionHoldsNoBuffer) {
  EngineHarness h;
  h.handshake();
  h.feed(notify_frame(1, 1, {{"now", "a"}}));
  h.expect_one(FrameType::ack);
  h.feed(notify_frame(1, 2, {{"wait", "b"}}));
  h.complete(1, 2);
  h.expect_one(FrameType::ack);
  EXPECT_EQ(h.engine().buffered_bytes(), 0u);
  EXPECT_LE(h.scratch().buffers.free_blocks(), 2u);
}

TEST(Memory, HalfAFrameIsTheOnlyInputKept) {
  EngineHarness h;
  h.handshake();
  const Bytes frame = notify_frame(1, 1, {{"now", "a"}});
  h.feed(std::span<const uint8_t>(frame).first(frame.size() - 1));
  EXPECT_GT(h.engine().buffered_bytes(), 0u);
  EXPECT_LE(h.engine().buffered_bytes(), 16u * 1024 + 4096);
  h.feed(std::span<const uint8_t>(frame).last(1));
  h.expect_one(FrameType::ack);
  EXPECT_EQ(h.engine().buffered_bytes(), 0u);
}

}  // namespace
}  // namespace spoa::agent::test
