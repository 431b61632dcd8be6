// Clients that vanish: an RST with work in flight or in the middle of a frame must not hurt
// the server or its other connections.
#include <sys/socket.h>

#include "test_helpers.hpp"

namespace spoa::itest {
namespace {

AgentConfig delay_config() {
  AgentConfig config;
  config.plugins = {echo_plugin(), delay_plugin()};
  return config;
}

MessageSpec delay_message(int64_t delay_ms) {
  return {"delay", {{"delay_ms", spop::Value::int64(delay_ms)}, {"tag", spop::Value::string("x")}}};
}

TEST(ClientReset, WithANotifyInFlightIsHarmless) {
  AgentProcess agent(delay_config());
  SpopClient other = agent.connect();
  other.handshake();
  {
    SpopClient client = agent.connect();
    client.handshake();
    client.send_notify(1, 1, {delay_message(300)});
    std::this_thread::sleep_for(50ms);  // read by the agent, plugin working
    client.reset();
  }
  std::this_thread::sleep_for(500ms);  // the completion for the gone connection lands
  EXPECT_TRUE(agent.running());
  expect_server_still_serves(agent);
  other.send_notify(2, 1, {{"echo", {{"a", spop::Value::int32(1)}}}});
  EXPECT_NE(other.expect_ack().find("a"), nullptr) << "a bystander connection was hurt";
}

TEST(ClientReset, InTheMiddleOfAFrameIsHarmless) {
  AgentProcess agent;
  {
    SpopClient client = agent.connect();
    client.handshake();
    const Bytes frame = make_frame(spop::FrameType::notify, spop::flag_fin, 1, 1,
                                   notify_payload({{"echo", {{"a", spop::Value::int32(1)}}}}));
    client.send_raw(std::span<const uint8_t>(frame).first(frame.size() / 2));
    std::this_thread::sleep_for(50ms);
    client.reset();
  }
  {
    SpopClient client = agent.connect();
    const Bytes hello = hello_frame({});
    client.send_raw(std::span<const uint8_t>(hello).first(10));  // half a HELLO
    std::this_thread::sleep_for(50ms);
    client.reset();
  }
  std::this_thread::sleep_for(100ms);
  expect_server_still_serves(agent);
}

TEST(ClientReset, ManyResetsWithWorkInFlightLeaveTheServerServing) {
  AgentProcess agent(delay_config());
  for (int i = 0; i < 50; ++i) {
    SpopClient client = agent.connect();
    client.handshake();
    client.send_notify(static_cast<uint64_t>(i), 1, {delay_message(i % 5 * 20)});
    client.send_notify(static_cast<uint64_t>(i), 2, {{"echo", {{"a", spop::Value::int32(1)}}}});
    if (i % 3 == 0) std::this_thread::sleep_for(10ms);
    client.reset();
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(agent.running());
  expect_server_still_serves(agent);
}

TEST(ClientClose, WithAnAckStillToBeWrittenIsHarmless) {
  AgentProcess agent(delay_config());
  {
    SpopClient client = agent.connect();
    client.handshake();
    client.send_notify(1, 1, {delay_message(100)});
    ::shutdown(client.fd(), SHUT_RDWR);  // FIN; the ACK will meet a closed socket
  }
  std::this_thread::sleep_for(300ms);
  expect_server_still_serves(agent);
}

TEST(Framing, FramesArrivingByteByByteAreReassembled) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  const Bytes hello = hello_frame({});
  const Bytes notify =
      make_frame(spop::FrameType::notify, spop::flag_fin, 3, 1,
                 notify_payload({{"echo", {{"slow", spop::Value::string("drip")}}}}));
  for (const Bytes* frame : {&hello, &notify}) {
    for (size_t i = 0; i < frame->size(); ++i) {
      client.send_raw(std::span<const uint8_t>(*frame).subspan(i, 1));
      std::this_thread::sleep_for(2ms);
    }
    if (frame == &hello) {
      EXPECT_EQ(client.expect_agent_hello().version, "2.0");
    }
  }
  const Ack ack = client.expect_ack();
  ASSERT_NE(ack.find("slow"), nullptr) << ack.describe();
  EXPECT_EQ(ack.find("slow")->value.bytes, "drip");
}

TEST(HaproxyDisconnect, WithNotifiesInFlightIsAnsweredAndTheLateCompletionIsHarmless) {
  AgentProcess agent(delay_config());
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(1, 1, {delay_message(300)});
  std::this_thread::sleep_for(50ms);
  client.send_haproxy_disconnect(spop::Status::normal, "reload");
  // Answered at once, not after the plugin (tests/engine checks the "at once" exactly).
  const DisconnectInfo d = client.expect_disconnect(5s);
  EXPECT_EQ(d.status_code, 0u);
  client.expect_closed();
  std::this_thread::sleep_for(400ms);  // the plugin completes for a closed connection
  expect_server_still_serves(agent);
}

TEST(Ipv6, LoopbackListenerServesSpop) {
  AgentConfig config;
  config.listen = "[::1]:0";
  AgentProcess agent(config);
  ASSERT_EQ(agent.address().substr(0, 5), "[::1]");
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(1, 1, {{"echo", {{"v6", spop::Value::boolean(true)}}}});
  EXPECT_NE(client.expect_ack().find("v6"), nullptr);
}

}  // namespace
}  // namespace spoa::itest
