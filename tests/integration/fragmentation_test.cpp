// Fragmented NOTIFYs (spop.md §6): HAProxy <= 3.0 splits a NOTIFY that does not fit the
// frame into a NOTIFY without FIN and UNSET continuations, if the agent announced
// `fragmentation`.
#include "test_helpers.hpp"

namespace spoa::itest {
namespace {

AgentConfig fragmentation_config() {
  AgentConfig config;
  config.capabilities = std::vector<std::string>{"pipelining", "fragmentation"};
  return config;
}

SpopClient connected(const AgentProcess& agent) {
  SpopClient client = agent.connect();
  const AgentHelloInfo hello = client.handshake();
  if (capability_set(hello.capabilities).count("fragmentation") == 0) {
    throw std::runtime_error("fragmentation not announced: \"" + hello.capabilities + "\"");
  }
  return client;
}

std::string patterned(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>(i * 7 % 256);
  return s;
}

// The payload cut at `cuts` (byte offsets), as NOTIFY (no FIN) + UNSET... + UNSET FIN.
std::vector<Bytes> fragments(const Bytes& payload, const std::vector<size_t>& cuts, uint64_t sid,
                             uint64_t fid) {
  std::vector<Bytes> out;
  size_t begin = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : payload.size();
    const bool last = i == cuts.size();
    out.push_back(make_frame(i == 0 ? spop::FrameType::notify : spop::FrameType::unset,
                             last ? spop::flag_fin : 0, sid, fid,
                             std::span<const uint8_t>(payload).subspan(begin, end - begin)));
    begin = end;
  }
  return out;
}

TEST(Fragmentation, NotifyInThreeFragmentsIsReassembledAndAckedOnce) {
  AgentProcess agent(fragmentation_config());
  SpopClient client = connected(agent);
  const std::string body = patterned(3000);
  const Bytes payload = notify_payload({{"echo",
                                         {{"before", spop::Value::int32(7)},
                                          {"body", spop::Value::binary(body)},
                                          {"after", spop::Value::string("end")}}}});
  // Cuts inside the message name and inside the binary value (its length says 3000).
  const std::vector<Bytes> frames = fragments(payload, {3, 1500}, 40, 2);
  ASSERT_EQ(frames.size(), 3u);
  for (const Bytes& frame : frames) {
    client.send_raw(frame);
    std::this_thread::sleep_for(20ms);  // separate reads on the agent's side
  }
  const Ack ack = client.expect_ack();
  EXPECT_EQ(ack.stream_id, 40u);
  EXPECT_EQ(ack.frame_id, 2u);
  ASSERT_EQ(ack.actions.size(), 3u) << ack.describe();
  const OwnedAction* got = ack.find("body");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->value.type, spop::DataType::binary);
  EXPECT_TRUE(got->value.bytes == body) << "the reassembled value differs";
  EXPECT_EQ(ack.find("before")->value.integer, 7u);
  EXPECT_EQ(ack.find("after")->value.bytes, "end");
  client.expect_silence(300ms);  // one ACK only
}

TEST(Fragmentation, ManyFragmentsInOneWriteAreReassembled) {
  AgentProcess agent(fragmentation_config());
  SpopClient client = connected(agent);
  const std::string body = patterned(2000);
  const Bytes payload = notify_payload({{"echo", {{"body", spop::Value::string(body)}}}});
  std::vector<size_t> cuts;
  for (size_t at = 1; at < payload.size(); at += 97)
    cuts.push_back(at);
  Bytes all;
  for (const Bytes& frame : fragments(payload, cuts, 1, 1))
    all.insert(all.end(), frame.begin(), frame.end());
  client.send_raw(all);
  const Ack ack = client.expect_ack();
  ASSERT_NE(ack.find("body"), nullptr) << ack.describe();
  EXPECT_TRUE(ack.find("body")->value.bytes == body);
}

TEST(Fragmentation, AbortedNotifyGetsNoAckAndTheConnectionKeepsWorking) {
  AgentProcess agent(fragmentation_config());
  SpopClient client = connected(agent);
  const Bytes payload =
      notify_payload({{"echo", {{"body", spop::Value::string(patterned(1000))}}}});
  const std::vector<Bytes> frames = fragments(payload, {400, 800}, 5, 1);
  client.send_raw(frames[0]);
  client.send_raw(frames[1]);
  // HAProxy gives up: UNSET with FIN|ABORT and an empty payload.
  client.send_frame(spop::FrameType::unset, spop::flag_fin | spop::flag_abort, 5, 1, {});
  client.expect_silence(400ms);

  client.send_notify(6, 1, {{"echo", {{"next", spop::Value::int32(1)}}}});
  const Ack ack = client.expect_ack();
  EXPECT_EQ(ack.stream_id, 6u);
  EXPECT_NE(ack.find("next"), nullptr) << ack.describe();
}

TEST(Fragmentation, FragmentWithOtherIdsDisconnects11) {
  AgentProcess agent(fragmentation_config());
  SpopClient client = connected(agent);
  const Bytes payload = notify_payload({{"echo", {{"body", spop::Value::string(patterned(600))}}}});
  const std::vector<Bytes> frames = fragments(payload, {300}, 5, 1);
  client.send_raw(frames[0]);
  client.send_frame(spop::FrameType::unset, spop::flag_fin, 5, 2,
                    std::span<const uint8_t>(payload).subspan(300));
  expect_disconnect_and_close(client, spop::Status::invalid_interlaced_frames);
}

TEST(Fragmentation, FragmentWithoutAPendingNotifyDisconnects11) {
  AgentProcess agent(fragmentation_config());
  SpopClient client = connected(agent);
  client.send_frame(spop::FrameType::unset, spop::flag_fin, 5, 1, wire("00"));
  expect_disconnect_and_close(client, spop::Status::invalid_interlaced_frames);
}

TEST(Fragmentation, NewNotifyWhileReassemblingDisconnects11) {
  AgentProcess agent(fragmentation_config());
  SpopClient client = connected(agent);
  const Bytes payload = notify_payload({{"echo", {{"body", spop::Value::string(patterned(600))}}}});
  client.send_raw(fragments(payload, {300}, 5, 1)[0]);
  client.send_notify(6, 1, {{"echo", {{"a", spop::Value::int32(1)}}}});
  expect_disconnect_and_close(client, spop::Status::invalid_interlaced_frames);
}

TEST(Fragmentation, NotAnnouncedMeansFragmentDisconnects10) {
  AgentProcess agent;  // capabilities = ["pipelining"]
  SpopClient client = agent.connect();
  const AgentHelloInfo hello = client.handshake();
  ASSERT_EQ(capability_set(hello.capabilities).count("fragmentation"), 0u);
  const Bytes payload = notify_payload({{"echo", {{"body", spop::Value::string(patterned(600))}}}});
  client.send_raw(fragments(payload, {300}, 5, 1)[0]);
  expect_disconnect_and_close(client, spop::Status::fragmentation_not_supported);
}

}  // namespace
}  // namespace spoa::itest
