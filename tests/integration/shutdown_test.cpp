// SIGTERM: graceful drain (design.md "Signals"): intake stops, the NOTIFYs received are
// answered, then AGENT-DISCONNECT 0, then the process exits 0. A test knows the agent has
// read a NOTIFY when the ACK of an echo NOTIFY sent right behind it, in the same write,
// has come back: frames are handled in order. No test relies on a sleep being long enough.
#include <signal.h>

#include "test_helpers.hpp"

namespace spoa::itest {
namespace {

AgentConfig delay_config() {
  AgentConfig config;
  config.plugins = {echo_plugin(), delay_plugin()};
  return config;
}

MessageSpec delay_message(int64_t delay_ms, const std::string& tag) {
  return {"delay", {{"delay_ms", spop::Value::int64(delay_ms)}, {"tag", spop::Value::string(tag)}}};
}

// Sends a slow NOTIFY and an echo NOTIFY behind it in one write, and waits for the echo's
// ACK: from then on the agent has certainly read the slow one.
void send_slow_and_wait_until_read(SpopClient& client, uint64_t stream_id, uint64_t frame_id,
                                   int64_t delay_ms, const std::string& tag) {
  Bytes both = make_frame(spop::FrameType::notify, spop::flag_fin, stream_id, frame_id,
                          notify_payload({delay_message(delay_ms, tag)}));
  const Bytes marker = make_frame(spop::FrameType::notify, spop::flag_fin, 999, 1,
                                  notify_payload({{"echo", {{"marker", spop::Value::int32(1)}}}}));
  both.insert(both.end(), marker.begin(), marker.end());
  client.send_raw(both);
  const Ack ack = client.expect_ack(10s);
  ASSERT_EQ(ack.stream_id, 999u) << "the slow NOTIFY was answered before the marker";
}

TEST(Sigterm, InFlightNotifyIsAnsweredThenDisconnect0ThenExit0) {
  AgentProcess agent(delay_config());
  SpopClient client = agent.connect();
  client.handshake();
  send_slow_and_wait_until_read(client, 12, 3, 300, "drained");
  agent.signal(SIGTERM);

  const Ack ack = client.expect_ack(5s);
  EXPECT_EQ(ack.stream_id, 12u);
  EXPECT_EQ(ack.frame_id, 3u);
  ASSERT_NE(ack.find("tag"), nullptr) << "the in-flight NOTIFY lost its work: " << ack.describe();
  EXPECT_EQ(ack.find("tag")->value.bytes, "drained");

  const DisconnectInfo d = client.expect_disconnect(5s);
  EXPECT_EQ(d.status_code, static_cast<uint32_t>(spop::Status::normal));
  client.expect_closed(5s);

  const auto status = agent.wait_exit(15s);
  ASSERT_TRUE(status.has_value()) << "spoa-host did not exit within 15 s of SIGTERM";
  EXPECT_EQ(*status, 0) << describe_exit_status(*status);
}

TEST(Sigterm, IdleConnectionGetsDisconnect0AndTheProcessExits0) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.handshake();
  agent.signal(SIGTERM);
  EXPECT_EQ(client.expect_disconnect(5s).status_code, static_cast<uint32_t>(spop::Status::normal));
  client.expect_closed(5s);
  const auto status = agent.wait_exit(15s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << describe_exit_status(*status);
}

TEST(Sigterm, WithoutConnectionsExits0Promptly) {
  AgentProcess agent;
  agent.signal(SIGTERM);
  const auto status = agent.wait_exit(5s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << describe_exit_status(*status);
}

TEST(Sigterm, StopsAcceptingWhileDraining) {
  AgentProcess agent(delay_config());
  SpopClient client = agent.connect();
  client.handshake();
  send_slow_and_wait_until_read(client, 1, 1, 1000, "slow");
  agent.signal(SIGTERM);
  // The listeners close before this line is logged.
  ASSERT_TRUE(agent.wait_for_log("shutting down: stopped accepting", 10s)) << agent.log();
  EXPECT_THROW(agent.connect(1s), std::runtime_error) << "still accepting after SIGTERM";
  EXPECT_NE(client.expect_ack(5s).find("tag"), nullptr);
  EXPECT_EQ(client.expect_disconnect(5s).status_code, 0u);
  const auto status = agent.wait_exit(15s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
}

TEST(Sigterm, NotifiesHeldBackByBackpressureAreAnsweredBeforeDisconnect) {
  AgentConfig config = delay_config();
  config.max_inflight_per_connection = 2;
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  client.handshake();
  Bytes burst;
  for (const auto& [sid, delay] : {std::pair{1, 300}, std::pair{2, 300}, std::pair{3, 0}}) {
    const Bytes frame =
        make_frame(spop::FrameType::notify, spop::flag_fin, sid, 1,
                   notify_payload({delay_message(delay, "s" + std::to_string(sid))}));
    burst.insert(burst.end(), frame.begin(), frame.end());
  }
  client.send_raw(burst);
  // One write, one read: once the first ACK is back, all three were read (the third is
  // held in the agent's buffer by backpressure), so all three must be answered.
  std::set<uint64_t> answered;
  const Ack first = client.expect_ack(10s);
  answered.insert(first.stream_id);
  agent.signal(SIGTERM);
  for (int i = 0; i < 2; ++i) {
    const Ack ack = client.expect_ack(10s);  // a DISCONNECT before the third ACK fails here
    EXPECT_NE(ack.find("tag"), nullptr) << ack.describe();
    answered.insert(ack.stream_id);
  }
  EXPECT_EQ(answered, (std::set<uint64_t>{1, 2, 3}));
  EXPECT_EQ(client.expect_disconnect(5s).status_code, 0u);
  client.expect_closed(5s);
  const auto status = agent.wait_exit(15s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << describe_exit_status(*status);
}

TEST(Sigterm, ConnectionsWithoutHelloDoNotBlockTheExit) {
  AgentProcess agent;
  SpopClient before_hello = agent.connect();  // connected, no HELLO yet
  SpopClient idle = agent.connect();
  idle.handshake();
  std::this_thread::sleep_for(50ms);
  agent.signal(SIGTERM);
  before_hello.expect_closed(5s);  // nothing may be sent before a HELLO, not even DISCONNECT
  EXPECT_EQ(idle.expect_disconnect(5s).status_code, 0u);
  const auto status = agent.wait_exit(15s);
  ASSERT_TRUE(status.has_value()) << "a connection without HELLO held the drain";
  EXPECT_EQ(*status, 0) << describe_exit_status(*status);
}

}  // namespace
}  // namespace spoa::itest
