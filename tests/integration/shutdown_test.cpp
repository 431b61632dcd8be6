// SIGTERM: graceful drain (design.md "Signals"): in-flight NOTIFYs are answered, then
// AGENT-DISCONNECT 0, then the process exits 0.
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

TEST(Sigterm, InFlightNotifyIsAnsweredThenDisconnect0ThenExit0) {
  AgentProcess agent(delay_config());
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(12, 3, {delay_message(300, "drained")});
  std::this_thread::sleep_for(100ms);  // the agent has read it; the plugin is working
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
  client.send_notify(1, 1, {delay_message(1000, "slow")});
  std::this_thread::sleep_for(100ms);
  agent.signal(SIGTERM);
  std::this_thread::sleep_for(200ms);
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
  std::this_thread::sleep_for(100ms);
  agent.signal(SIGTERM);
  std::set<uint64_t> answered;
  for (int i = 0; i < 3; ++i) {
    const Ack ack = client.expect_ack(5s);  // a DISCONNECT before the third ACK fails here
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
