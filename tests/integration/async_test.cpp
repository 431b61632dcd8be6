// The asynchronous path through the delay plugin: pipelining, backpressure
// (max_inflight_per_connection), the processing deadline, and the idle timeout.
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

TEST(Pipelining, ThirtyTwoNotifiesInFlightAreAnsweredOutOfOrderWithTheirIds) {
  AgentProcess agent(delay_config());
  SpopClient client = agent.connect();
  ASSERT_EQ(capability_set(client.handshake().capabilities).count("pipelining"), 1u);

  constexpr int count = 32;
  std::vector<std::string> tags;
  for (int i = 0; i < count; ++i)
    tags.push_back("t" + std::to_string(i));
  Bytes burst;
  for (int i = 0; i < count; ++i) {
    // Decreasing delays: the last sent finishes first.
    const Bytes frame = make_frame(spop::FrameType::notify, spop::flag_fin, 500 + i, i + 1,
                                   notify_payload({delay_message((count - i) * 20, tags[i])}));
    burst.insert(burst.end(), frame.begin(), frame.end());
  }
  const auto start = Clock::now();
  client.send_raw(burst);
  const std::vector<Arrival> acks = read_acks(client, count, start, 10s);
  const Millis total = elapsed_since(start);

  std::vector<uint64_t> order;
  std::set<uint64_t> seen;
  for (const Arrival& a : acks) {
    const Ack& ack = a.ack;
    ASSERT_GE(ack.frame_id, 1u);
    ASSERT_LE(ack.frame_id, static_cast<uint64_t>(count));
    const int i = static_cast<int>(ack.frame_id) - 1;
    EXPECT_EQ(ack.stream_id, static_cast<uint64_t>(500 + i)) << "ids of one NOTIFY stay paired";
    const OwnedAction* tag = ack.find("tag");
    const OwnedAction* delay = ack.find("delay_ms");
    ASSERT_NE(tag, nullptr) << ack.describe();
    ASSERT_NE(delay, nullptr) << ack.describe();
    EXPECT_EQ(tag->value.bytes, tags[i]) << "ACK " << ack.describe() << " answers another NOTIFY";
    EXPECT_EQ(static_cast<int64_t>(delay->value.integer), (count - i) * 20);
    EXPECT_TRUE(seen.insert(ack.frame_id).second) << "two ACKs for frame " << ack.frame_id;
    order.push_back(ack.frame_id);
  }
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()))
      << "ACKs came in sending order: " << join_ids(order);
  EXPECT_GT(order.front(), static_cast<uint64_t>(count / 2))
      << "a short delay sent last should be answered early: " << join_ids(order);
  EXPECT_LE(order.back(), static_cast<uint64_t>(count / 2)) << join_ids(order);
  // In flight together: the delays add up to 10.5 s, the longest is 640 ms.
  EXPECT_LT(total.count(), 5000) << "the NOTIFYs were not processed concurrently";
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

TEST(Backpressure, ThirdNotifyIsAnsweredOnlyAfterOneOfTheFirstTwoCompletes) {
  AgentConfig config = delay_config();
  config.max_inflight_per_connection = 2;
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  client.handshake();
  Bytes burst;
  for (const auto& [sid, delay] : {std::pair{1, 600}, std::pair{2, 600}, std::pair{3, 0}}) {
    const Bytes frame =
        make_frame(spop::FrameType::notify, spop::flag_fin, sid, 1,
                   notify_payload({delay_message(delay, "s" + std::to_string(sid))}));
    burst.insert(burst.end(), frame.begin(), frame.end());
  }
  const auto start = Clock::now();
  client.send_raw(burst);
  const std::vector<Arrival> acks = read_acks(client, 3, start, 10s);
  size_t third = acks.size();
  for (size_t i = 0; i < acks.size(); ++i) {
    if (acks[i].ack.stream_id == 3) third = i;
  }
  ASSERT_LT(third, acks.size());
  EXPECT_GT(third, 0u) << "the third NOTIFY overtook the two in flight";
  EXPECT_GE(acks[third].at.count(), 450)
      << "the third NOTIFY (0 ms delay) was read before a slot was free";
}

TEST(Backpressure, WithoutTheLimitTheThirdNotifyOvertakes) {
  // The control for the test above: the same burst with the default limit (64).
  AgentProcess agent(delay_config());
  SpopClient client = agent.connect();
  client.handshake();
  Bytes burst;
  for (const auto& [sid, delay] : {std::pair{1, 600}, std::pair{2, 600}, std::pair{3, 0}}) {
    const Bytes frame =
        make_frame(spop::FrameType::notify, spop::flag_fin, sid, 1,
                   notify_payload({delay_message(delay, "s" + std::to_string(sid))}));
    burst.insert(burst.end(), frame.begin(), frame.end());
  }
  const auto start = Clock::now();
  client.send_raw(burst);
  const std::vector<Arrival> acks = read_acks(client, 3, start, 10s);
  EXPECT_EQ(acks[0].ack.stream_id, 3u);
  EXPECT_LT(acks[0].at.count(), 450);
}

TEST(ProcessingDeadline, AckComesAtTheDeadlineWithTheFinishedMessagesOnly) {
  AgentProcess agent(delay_config("200ms"));
  SpopClient client = agent.connect();
  client.handshake();
  const auto start = Clock::now();
  client.send_notify(21, 1,
                     {{"echo", {{"x", spop::Value::int32(1)}}}, delay_message(2000, "late")});
  const Ack ack = client.expect_ack(5s);
  const Millis waited = elapsed_since(start);
  EXPECT_EQ(ack.stream_id, 21u);
  EXPECT_EQ(ack.frame_id, 1u);
  EXPECT_GE(waited.count(), 150) << "answered before the processing deadline";
  EXPECT_LT(waited.count(), 1500) << "not answered at the 200 ms deadline";
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
  const Ack first = client.expect_ack(5s);
  const Ack second = client.expect_ack(5s);
  EXPECT_EQ(first.stream_id, 7u);
  EXPECT_EQ(first.frame_id, 2u) << "the shorter delay should answer first";
  ASSERT_NE(first.find("tag"), nullptr);
  EXPECT_EQ(first.find("tag")->value.bytes, "fid2");
  EXPECT_EQ(second.frame_id, 1u);
  ASSERT_NE(second.find("tag"), nullptr);
  EXPECT_EQ(second.find("tag")->value.bytes, "fid1");
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

TEST(ProcessingDeadline, EachNotifyHasItsOwnDeadline) {
  AgentProcess agent(delay_config("300ms"));
  SpopClient client = agent.connect();
  client.handshake();
  const auto start = Clock::now();
  client.send_notify(1, 1, {delay_message(3000, "a")});
  std::this_thread::sleep_for(150ms);
  client.send_notify(2, 1, {delay_message(3000, "b")});
  const Ack first = client.expect_ack(5s);
  const Millis first_at = elapsed_since(start);
  const Ack second = client.expect_ack(5s);
  const Millis second_at = elapsed_since(start);
  EXPECT_EQ(first.stream_id, 1u);
  EXPECT_EQ(second.stream_id, 2u);
  EXPECT_GE(first_at.count(), 250);
  EXPECT_GE(second_at.count(), 400) << "the second NOTIFY was cut at the first one's deadline";
  EXPECT_LT(second_at.count(), 1500);
}

TEST(IdleTimeout, IdleConnectionGetsDisconnect2) {
  AgentConfig config;
  config.idle_timeout = "300ms";
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  client.handshake();
  const auto start = Clock::now();
  const DisconnectInfo d = client.expect_disconnect(5s);
  EXPECT_EQ(d.status_code, static_cast<uint32_t>(spop::Status::timeout));
  EXPECT_GE(elapsed_since(start).count(), 250);
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

TEST(IdleTimeout, TrafficKeepsTheConnectionOpen) {
  AgentConfig config;
  config.idle_timeout = "500ms";
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  client.handshake();
  for (uint64_t i = 1; i <= 6; ++i) {  // 1.2 s of traffic, every 200 ms
    std::this_thread::sleep_for(200ms);
    client.send_notify(1, i, {{"echo", {{"i", spop::Value::int64(static_cast<int64_t>(i))}}}});
    EXPECT_EQ(client.expect_ack().frame_id, i);
  }
  EXPECT_EQ(client.expect_disconnect(5s).status_code, static_cast<uint32_t>(spop::Status::timeout));
}

}  // namespace
}  // namespace spoa::itest
