// SIGTERM under sustained pipelined load into a slow (PENDING) plugin: intake stops, so the
// drain ends by itself once the NOTIFYs read are answered, long before the hard deadline.
#include <signal.h>

#include <map>

#include "test_helpers.hpp"

namespace spoa::itest {
namespace {

TEST(SigtermUnderLoad, DrainEndsByItselfAndEveryAckPrecedesTheDisconnect) {
  AgentConfig config;
  config.plugins = {echo_plugin(), delay_plugin()};
  config.processing_timeout = "1s";
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  client.handshake();

  const MessageSpec slow = {
      "delay", {{"delay_ms", spop::Value::int64(200)}, {"tag", spop::Value::string("t")}}};
  std::map<uint64_t, bool> sent;  // stream-id -> answered
  uint64_t next = 1;
  size_t outstanding = 0;
  size_t answered_after_signal = 0;
  bool signalled = false;
  bool disconnected = false;
  uint32_t status = 99;
  const auto give_up = Clock::now() + 60s;
  while (!disconnected && Clock::now() < give_up) {
    // Keep 32 NOTIFYs in flight, whatever the agent does: the load never pauses.
    while (outstanding < 32) {
      if (!client.try_send_raw(make_frame(spop::FrameType::notify, spop::flag_fin, next, 1,
                                          notify_payload({slow})))) {
        break;
      }
      sent[next++] = false;
      ++outstanding;
    }
    const SpopClient::ReadResult r = client.read_frame(50ms);
    if (r.status == SpopClient::ReadStatus::closed) break;
    if (r.status != SpopClient::ReadStatus::frame) continue;
    if (r.frame.type() == spop::FrameType::agent_disconnect) {
      disconnected = true;
      spop::Disconnect d;
      ASSERT_EQ(spop::decode_disconnect(r.frame.payload, d), spop::Error::none);
      status = d.status_code;
      break;
    }
    ASSERT_EQ(r.frame.type(), spop::FrameType::ack) << r.frame.describe();
    const auto it = sent.find(r.frame.stream_id);
    ASSERT_NE(it, sent.end()) << "ACK for a NOTIFY never sent: " << r.frame.describe();
    ASSERT_FALSE(it->second) << "two ACKs for stream " << r.frame.stream_id;
    it->second = true;
    --outstanding;
    if (signalled) ++answered_after_signal;
    // Once the load runs (a few rounds answered), stop the agent in the middle of it.
    if (!signalled && next > 100) {
      agent.signal(SIGTERM);
      signalled = true;
    }
  }
  ASSERT_TRUE(signalled);
  EXPECT_TRUE(disconnected) << "no AGENT-DISCONNECT under sustained load";
  EXPECT_EQ(status, 0u);
  EXPECT_GT(answered_after_signal, 0u) << "NOTIFYs in flight at SIGTERM were not answered";
  const auto exit_status = agent.wait_exit(30s);
  ASSERT_TRUE(exit_status.has_value()) << "spoa-host did not exit after the drain";
  EXPECT_EQ(*exit_status, 0) << describe_exit_status(*exit_status);
  // The drain ended because the connection was done, not at the hard deadline.
  EXPECT_EQ(agent.log().find("drain deadline"), std::string::npos) << agent.log();
  EXPECT_NE(agent.log().find("every connection closed"), std::string::npos) << agent.log();
}

}  // namespace
}  // namespace spoa::itest
