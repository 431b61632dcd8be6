// Protocol errors and their DISCONNECT status codes (spop.md §7, §8), unknown frame types,
// and HAProxy's own DISCONNECT.
#include "test_helpers.hpp"

namespace spoa::itest {
namespace {

SpopClient connected(const AgentProcess& agent, uint32_t max_frame_size = 16380) {
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.max_frame_size = max_frame_size;
  client.handshake(options);
  return client;
}

// A valid NOTIFY for echo whose LEN is exactly `len`.
Bytes notify_of_len(uint32_t len, uint64_t stream_id, uint64_t frame_id) {
  for (size_t n = 0; n < len; ++n) {
    const std::string s(n, 'x');
    const Bytes frame = make_frame(spop::FrameType::notify, spop::flag_fin, stream_id, frame_id,
                                   notify_payload({{"echo", {{"s", spop::Value::string(s)}}}}));
    if (frame.size() - 4 == len) return frame;
    if (frame.size() - 4 > len) break;
  }
  throw std::runtime_error("no NOTIFY of LEN " + std::to_string(len));
}

TEST(ProtocolErrors, FrameOfExactlyTheNegotiatedMaxIsAccepted) {
  AgentProcess agent;
  SpopClient client = connected(agent, 1000);
  ASSERT_EQ(client.negotiated_max_frame_size(), 1000u);
  client.send_raw(notify_of_len(1000, 1, 1));
  const Ack ack = client.expect_ack();
  EXPECT_NE(ack.find("s"), nullptr) << ack.describe();
  EXPECT_LE(ack.len, 1000u);
}

TEST(ProtocolErrors, FrameLongerThanTheNegotiatedMaxDisconnects3) {
  AgentProcess agent;
  SpopClient client = connected(agent, 1000);
  client.send_raw(notify_of_len(1001, 1, 1));
  expect_disconnect_and_close(client, spop::Status::frame_too_big);
}

TEST(ProtocolErrors, HugeLengthIsRefusedFromItsFourBytes) {
  // The agent must not wait for (or allocate) 16 MiB: the LEN alone says 3.
  AgentProcess agent;
  SpopClient client = connected(agent);
  client.send_raw(wire("00ffffff 03 00000001 01 01"));
  expect_disconnect_and_close(client, spop::Status::frame_too_big);
}

TEST(ProtocolErrors, OversizedFirstFrameDisconnects3) {
  AgentProcess agent;  // local cap 16380 before the HELLO
  SpopClient client = agent.connect();
  client.send_raw(wire("00004000 01 00000001 00 00"));  // LEN 16384
  expect_disconnect_and_close(client, spop::Status::frame_too_big);
}

TEST(ProtocolErrors, FrameShorterThan7Disconnects4) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  client.send_raw(wire("00000006 03 00000001 01"));
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

TEST(ProtocolErrors, ZeroLengthFrameDisconnects4) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  client.send_raw(wire("00000000"));
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

TEST(ProtocolErrors, NotifyWithFrameId0Disconnects4) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  client.send_notify(5, 0, {{"echo", {{"a", spop::Value::int32(1)}}}});
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

TEST(ProtocolErrors, NotifyWithoutFinDisconnects10WithoutFragmentation) {
  AgentProcess agent;  // capabilities = ["pipelining"]: no fragmentation announced
  SpopClient client = connected(agent);
  client.send_notify(5, 1, {{"echo", {{"a", spop::Value::int32(1)}}}}, /*flags=*/0);
  expect_disconnect_and_close(client, spop::Status::fragmentation_not_supported);
}

TEST(ProtocolErrors, TruncatedNotifyPayloadDisconnects4) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  // Message name says 10 bytes, 3 follow.
  client.send_frame(spop::FrameType::notify, spop::flag_fin, 1, 1, wire(R"(0a "ech")"));
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

TEST(ProtocolErrors, ReservedDataTypeDisconnects4) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  // echo, 1 arg "a" of type 10 (reserved).
  client.send_frame(spop::FrameType::notify, spop::flag_fin, 1, 1,
                    wire(R"(04 "echo" 01 01 "a" 0a 00)"));
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

TEST(ProtocolErrors, NbArgsLargerThanTheArgumentsDisconnects4) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  client.send_frame(spop::FrameType::notify, spop::flag_fin, 1, 1,
                    wire(R"(04 "echo" 02 01 "a" 02 01)"));
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

TEST(ProtocolErrors, OverlongVarintInTheHeaderDisconnects4) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  // Stream-id of 11 varint bytes (at most 10 are legal), then frame-id 1.
  client.send_raw(wire("0000 0011 03 00000001 ff ff ff ff ff ff ff ff ff ff 0e 01"));
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

TEST(ProtocolErrors, HeaderVarintRunningPastLenDisconnects4) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  // LEN 7: type, flags, then a stream-id varint that needs more bytes than LEN holds.
  client.send_raw(wire("00000007 03 00000001 f0 f0"));
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

class AgentFrameFromHaproxy : public ::testing::TestWithParam<uint8_t> {};

TEST_P(AgentFrameFromHaproxy, Disconnects4) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  const uint8_t type = GetParam();
  const bool with_ids = type == static_cast<uint8_t>(spop::FrameType::ack);
  client.send_raw(
      make_frame_raw_type(type, spop::flag_fin, with_ids ? 1 : 0, with_ids ? 1 : 0, {}));
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

INSTANTIATE_TEST_SUITE_P(AgentTypes, AgentFrameFromHaproxy,
                         ::testing::Values(uint8_t{101}, uint8_t{102}, uint8_t{103}),
                         [](const auto& test_param) {
                           switch (test_param.param) {
                             case 101:
                               return std::string("AgentHello");
                             case 102:
                               return std::string("AgentDisconnect");
                             default:
                               return std::string("Ack");
                           }
                         });

TEST(ProtocolErrors, UnknownFrameTypeIsIgnored) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  client.send_raw(make_frame_raw_type(42, spop::flag_fin, 1, 1, wire(R"("whatever" 00 01 02)")));
  client.send_raw(make_frame_raw_type(200, 0, 0, 0, {}));
  client.send_notify(9, 1, {{"echo", {{"still", spop::Value::int32(1)}}}});
  const Ack ack = client.expect_ack();  // a DISCONNECT here fails the test
  EXPECT_EQ(ack.stream_id, 9u);
  EXPECT_NE(ack.find("still"), nullptr) << ack.describe();
}

TEST(ProtocolErrors, ReservedFlagBitsAreIgnored) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  client.send_notify(9, 1, {{"echo", {{"a", spop::Value::int32(1)}}}},
                     spop::flag_fin | 0xfffffff0u);
  EXPECT_NE(client.expect_ack().find("a"), nullptr);
}

TEST(ProtocolErrors, AnotherConnectionIsUnaffectedByAProtocolError) {
  AgentProcess agent;
  SpopClient good = connected(agent);
  SpopClient bad = connected(agent);
  bad.send_raw(wire("00000003 03 00 00"));
  expect_disconnect_and_close(bad, spop::Status::invalid_frame);
  good.send_notify(1, 1, {{"echo", {{"ok", spop::Value::int32(1)}}}});
  EXPECT_NE(good.expect_ack().find("ok"), nullptr);
}

TEST(HaproxyDisconnect, IsAnsweredWithAgentDisconnect0ThenClose) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  client.send_haproxy_disconnect(spop::Status::normal, "soft-stop");
  expect_disconnect_and_close(client, spop::Status::normal);
}

TEST(HaproxyDisconnect, WithAnErrorStatusIsStillAnsweredWith0) {
  AgentProcess agent;
  SpopClient client = connected(agent);
  client.send_haproxy_disconnect(spop::Status::timeout, "idle timeout");
  expect_disconnect_and_close(client, spop::Status::normal);
}

}  // namespace
}  // namespace spoa::itest
