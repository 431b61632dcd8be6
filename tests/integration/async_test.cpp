// The asynchronous path through the delay plugin over a real socket: pipelining,
// backpressure (max_inflight_per_connection), the processing deadline and the idle
// timeout reach the wire. The exact timing of each rule is checked with a fake clock in
// tests/engine; here nothing passes or fails on a wall-clock margin.
#include "test_helpers.hpp"

namespace spoa::itest {
namespace {

AgentConfig delay_config(std::string processing = "5s") {
  AgentConfig config;
  config.plugins = {echo_plugin(), delay_plugin()};
  config.processing_timeout = std::move(processing);
  return config;
}

MessageSpec delay_message(int64_t delay_ms, const std::string& tag) {
  return {"delay", {{"delay_ms", spop::Value::int64(delay_ms)}, {"tag", spop::Value::string(tag)}}};
}

struct Arrival {
  Ack ack;
  Millis at;
};

std::vector<Arrival> read_acks(SpopClient& client, size_t count, Clock::time_point start,
                               Millis timeout) {
  std::vector<Arrival> out;
  const auto deadline = Clock::now() + timeout;
  while (out.size() < count) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    Ack ack = client.expect_ack(std::max(left, Millis(1)));
    out.push_back({std::move(ack), elapsed_since(start)});
  }
  return out;
}

TEST(Pipelining, ThirtyTwoNotifiesInFlightAreAnsweredConcurrentlyWithTheirIds) {
  AgentProcess agent(delay_config());
  SpopClient client = agent.connect();
  ASSERT_EQ(capability_set(client.handshake().capabilities).count("pipelining"), 1u);

  // 32 NOTIFYs of 1 s each: one after the other they would need 32 s, far beyond the
  // 15 s this test waits, so all answered means all were in flight together.
  constexpr int count = 32;
  std::vector<std::string> tags;
  for (int i = 0; i < count; ++i)
    tags.push_back("t" + std::to_string(i));
  Bytes burst;
  for (int i = 0; i < count; ++i) {
    const Bytes frame = make_frame(spop::FrameType::notify, spop::flag_fin, 500 + i, i + 1,
                                   notify_payload({delay_message(1000, tags[i])}));
    burst.insert(burst.end(), frame.begin(), frame.end());
  }
  const auto start = Clock::now();
  client.send_raw(burst);
  const std::vector<Arrival> acks = read_acks(client, count, start, 15s);

  std::set<uint64_t> seen;
  for (const Arrival& a : acks) {
    const Ack& ack = a.ack;
    ASSERT_GE(ack.frame_id, 1u);
    ASSERT_LE(ack.frame_id, static_cast<uint64_t>(count));
    const int i = static_cast<int>(ack.frame_id) - 1;
    EXPECT_EQ(ack.stream_id, static_cast<uint64_t>(500 + i)) << "ids of one NOTIFY stay paired";
    const OwnedAction* tag = ack.find("tag");
    ASSERT_NE(tag, nullptr) << ack.describe();
    EXPECT_EQ(tag->value.bytes, tags[i]) << "ACK " << ack.describe() << " answers another NOTIFY";
    EXPECT_TRUE(seen.insert(ack.frame_id).second) << "two ACKs for frame " << ack.frame_id;
  }
}

TEST(Pipelining, AsyncAndImmediateMessagesKeepMessageOrderInTheAck) {
  // delay answers later than echo, but its actions come first: they follow the messages.
  AgentProcess agent(delay_config());
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(3, 1,
                     {delay_message(50, "first"), {"echo", {{"second", spop::Value::int32(2)}}}});
  const Ack ack = client.expect_ack(5s);
  ASSERT_EQ(ack.actions.size(), 3u) << ack.describe();
  EXPECT_EQ(ack.actions[0].name, "delay_ms");
  EXPECT_EQ(ack.actions[1].name, "tag");
  EXPECT_EQ(ack.actions[2].name, "second");
}

TEST(ProcessingDeadline, AckComesAtTheDeadlineWithTheFinishedMessagesOnly) {
  AgentProcess agent(delay_config("200ms"));
  SpopClient client = agent.connect();
  client.handshake();
  // delay takes 2 s, the deadline is 200 ms: the ACK can only be the deadline's.
  client.send_notify(21, 1,
                     {{"echo", {{"x", spop::Value::int32(1)}}}, delay_message(2000, "late")});
  const Ack ack = client.expect_ack(5s);
  EXPECT_EQ(ack.stream_id, 21u);
  EXPECT_EQ(ack.frame_id, 1u);
  EXPECT_NE(ack.find("x"), nullptr) << "echo finished in time: " << ack.describe();
  EXPECT_EQ(ack.find("delay_ms"), nullptr) << ack.describe();
  EXPECT_EQ(ack.find("tag"), nullptr) << ack.describe();

  // The connection still works.
  client.send_notify(21, 2, {delay_message(10, "ok")});
  const Ack next = client.expect_ack(5s);
  EXPECT_EQ(next.frame_id, 2u);
  ASSERT_NE(next.find("tag"), nullptr) << next.describe();
  EXPECT_EQ(next.find("tag")->value.bytes, "ok");
}

TEST(ProcessingDeadline, LateCompletionSendsNoSecondAck) {
  AgentProcess agent(delay_config("200ms"));
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(22, 1, {delay_message(600, "late")});
  const Ack ack = client.expect_ack(5s);
  EXPECT_EQ(ack.find("tag"), nullptr);
  client.expect_silence(900ms);  // the plugin completes at 600 ms: nothing may follow
  expect_server_still_serves(agent);
}

TEST(Pipelining, NotifiesSharingAStreamIdAreToldApartByFrameId) {
  // HAProxy <= 3.0 reuses the stream-id for several events of one stream (spop.md §10.6).
  AgentProcess agent(delay_config());
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(7, 1, {delay_message(300, "fid1")});
  client.send_notify(7, 2, {delay_message(50, "fid2")});
  std::set<uint64_t> frames;
  for (int i = 0; i < 2; ++i) {
    const Ack ack = client.expect_ack(5s);
    EXPECT_EQ(ack.stream_id, 7u);
    ASSERT_NE(ack.find("tag"), nullptr);
    EXPECT_EQ(ack.find("tag")->value.bytes, "fid" + std::to_string(ack.frame_id));
    frames.insert(ack.frame_id);
  }
  EXPECT_EQ(frames, (std::set<uint64_t>{1, 2}));
}

TEST(Pipelining, SameIdsOnTwoConnectionsAreAnsweredOnTheirOwnConnection) {
  AgentProcess agent(delay_config());
  SpopClient a = agent.connect();
  SpopClient b = agent.connect();
  a.handshake();
  b.handshake();
  a.send_notify(1, 1, {delay_message(200, "for-a")});
  b.send_notify(1, 1, {delay_message(50, "for-b")});
  const Ack ack_b = b.expect_ack(5s);
  const Ack ack_a = a.expect_ack(5s);
  ASSERT_NE(ack_a.find("tag"), nullptr);
  ASSERT_NE(ack_b.find("tag"), nullptr);
  EXPECT_EQ(ack_a.find("tag")->value.bytes, "for-a");
  EXPECT_EQ(ack_b.find("tag")->value.bytes, "for-b");
  a.expect_silence(200ms);
  b.expect_silence(0ms);
}

TEST(Backpressure, BurstBeyondTheDefaultLimitIsFullyAnswered) {
  // 100 NOTIFYs in one write, 64 in flight at most: reading must resume as ACKs drain.
  AgentProcess agent(delay_config());
  SpopClient client = agent.connect();
  client.handshake();
  Bytes burst;
  for (int i = 0; i < 100; ++i) {
    const Bytes frame = make_frame(spop::FrameType::notify, spop::flag_fin, 1, i + 1,
                                   notify_payload({delay_message(100, "n" + std::to_string(i))}));
    burst.insert(burst.end(), frame.begin(), frame.end());
  }
  const auto start = Clock::now();
  client.send_raw(burst);
  const std::vector<Arrival> acks = read_acks(client, 100, start, 15s);
  std::set<uint64_t> ids;
  for (const Arrival& a : acks) {
    ids.insert(a.ack.frame_id);
    ASSERT_NE(a.ack.find("tag"), nullptr) << a.ack.describe();
    EXPECT_EQ(a.ack.find("tag")->value.bytes, "n" + std::to_string(a.ack.frame_id - 1));
  }
  EXPECT_EQ(ids.size(), 100u);
}

TEST(IdleTimeout, IdleConnectionGetsDisconnect2) {
  AgentConfig config;
  config.idle_timeout = "300ms";
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  client.handshake();
  const DisconnectInfo d = client.expect_disconnect(5s);
  EXPECT_EQ(d.status_code, static_cast<uint32_t>(spop::Status::timeout));
  client.expect_closed();
}

TEST(IdleTimeout, NotifyInFlightIsAnsweredBeforeTheIdleDisconnect) {
  AgentConfig config = delay_config();
  config.idle_timeout = "300ms";
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(1, 1, {delay_message(900, "slow")});
  const Ack ack = client.expect_ack(5s);  // a DISCONNECT first fails here
  EXPECT_NE(ack.find("tag"), nullptr) << ack.describe();
  EXPECT_EQ(client.expect_disconnect(5s).status_code, static_cast<uint32_t>(spop::Status::timeout));
}

}  // namespace
}  // namespace spoa::itest
