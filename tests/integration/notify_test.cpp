// NOTIFY -> plugins -> ACK through the echo plugin (spop.md §3, §4): every SPOP type, the
// ids, several messages, unclaimed messages, and the negotiated frame size cap on ACKs.
#include <limits>

#include "test_helpers.hpp"

namespace spoa::itest {
namespace {

TEST(Notify, AckForTheSpecExampleHasExactBytes) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.handshake();
  // spop.md §4's worked example, message renamed to "echo": sid=5 fid=1, ip=IPv4 192.168.0.1
  client.send_raw(
      wire(R"(00000015 | 03 | 00000001 | 05 | 01 | 04 "echo" | 01 | 02 "ip" | 06 c0a80001)"));
  const Ack ack = client.expect_ack();
  EXPECT_EQ(ack.raw,
            wire(R"(00000012 | 67 | 00000001 | 05 | 01 | 01 03 02 | 02 "ip" | 06 c0a80001)"))
      << ack.describe();
}

TEST(Notify, StreamIdZeroIsLegal) {
  // HAProxy <= 3.0 numbers its first stream 0 (spop.md §1).
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(0, 1, {{"echo", {{"first", spop::Value::boolean(true)}}}});
  const Ack ack = client.expect_ack();
  EXPECT_EQ(ack.stream_id, 0u);
  EXPECT_EQ(ack.frame_id, 1u);
  ASSERT_NE(ack.find("first"), nullptr) << ack.describe();
}

TEST(Notify, LargeIdsAreEchoedVerbatim) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.handshake();
  const uint64_t sid = (uint64_t{1} << 40) + 12345;  // multi-byte varints
  const uint64_t fid = 300;
  client.send_notify(sid, fid, {{"echo", {{"x", spop::Value::int32(1)}}}});
  const Ack ack = client.expect_ack();
  EXPECT_EQ(ack.stream_id, sid);
  EXPECT_EQ(ack.frame_id, fid);
  EXPECT_EQ(ack.flags, spop::flag_fin) << "ACKs are never fragmented and carry FIN";
}

// ---- every SPOP type through echo -----------------------------------------------------

struct TypeCase {
  std::string label;
  OwnedValue value;
};

OwnedValue owned(const spop::Value& v) {
  return OwnedValue(v);
}

std::string patterned(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i)
    s[i] = static_cast<char>('a' + i % 26);
  return s;
}

std::vector<TypeCase> type_cases() {
  using spop::Value;
  using L32 = std::numeric_limits<int32_t>;
  using L64 = std::numeric_limits<int64_t>;
  return {
      {"Null", owned(Value::null())},
      {"BoolTrue", owned(Value::boolean(true))},
      {"BoolFalse", owned(Value::boolean(false))},
      {"Int32Min", owned(Value::int32(L32::min()))},
      {"Int32Max", owned(Value::int32(L32::max()))},
      {"Int32Zero", owned(Value::int32(0))},
      {"Uint32Max", owned(Value::uint32(std::numeric_limits<uint32_t>::max()))},
      {"Int64Min", owned(Value::int64(L64::min()))},
      {"Int64Max", owned(Value::int64(L64::max()))},
      {"Int64MinusOne", owned(Value::int64(-1))},
      {"Uint64Max", owned(Value::uint64(std::numeric_limits<uint64_t>::max()))},
      {"Ipv4", owned(Value::ipv4(std::string_view("\xc0\xa8\x00\x01", 4)))},
      {"Ipv6", owned(Value::ipv6(std::string_view(
                   "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16)))},
      {"StringEmpty", owned(Value::string(""))},
      {"String", owned(Value::string("/index.html?q=1"))},
      {"StringBig", OwnedValue{}},  // filled below (owned bytes)
      {"BinaryWithZeros", owned(Value::binary(std::string_view("\0a\0\0b\xff\0", 7)))},
      {"BinaryEmpty", owned(Value::binary(""))},
  };
}

class EchoRoundTrip : public ::testing::TestWithParam<TypeCase> {};

TEST_P(EchoRoundTrip, ValueComesBackWithSameTypeAndValue) {
  OwnedValue sent = GetParam().value;
  if (GetParam().label == "StringBig") {
    sent.type = spop::DataType::string;
    sent.bytes = patterned(12000);
  }
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(11, 2, {{"echo", {{"v", sent.view()}}}});
  const Ack ack = client.expect_ack();
  EXPECT_EQ(ack.stream_id, 11u);
  EXPECT_EQ(ack.frame_id, 2u);
  ASSERT_EQ(ack.actions.size(), 1u) << ack.describe();
  const OwnedAction& action = ack.actions[0];
  EXPECT_EQ(action.type, spop::ActionType::set_var);
  EXPECT_EQ(action.scope, spop::Scope::txn);
  EXPECT_EQ(action.name, "v");
  EXPECT_EQ(action.value.type, sent.type)
      << "sent " << sent.describe() << ", got " << action.value.describe();
  EXPECT_TRUE(action.value == sent)
      << "sent " << sent.describe() << ", got " << action.value.describe();
}

INSTANTIATE_TEST_SUITE_P(EverySpopType, EchoRoundTrip, ::testing::ValuesIn(type_cases()),
                         [](const auto& test_param) { return test_param.param.label; });

TEST(Notify, AllTypesInOneMessageComeBackInArgumentOrder) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.handshake();
  std::vector<ArgSpec> args;
  const auto cases = type_cases();
  for (const auto& c : cases) {
    if (c.label == "StringBig") continue;
    args.push_back({c.label, c.value.view()});
  }
  client.send_notify(1, 1, {{"echo", args}});
  const Ack ack = client.expect_ack();
  ASSERT_EQ(ack.actions.size(), args.size()) << ack.describe();
  for (size_t i = 0; i < args.size(); ++i) {
    EXPECT_EQ(ack.actions[i].name, args[i].name);
    EXPECT_TRUE(ack.actions[i].value == OwnedValue(args[i].value))
        << args[i].name << ": got " << ack.actions[i].value.describe();
  }
}

// ---- routing ----------------------------------------------------------------------------

TEST(Notify, MessagesGoToTheirInstancesAndActionsFollowMessageOrder) {
  AgentConfig config;
  config.plugins = {echo_plugin("first", {"m1"}, "txn"), echo_plugin("second", {"m2"}, "sess")};
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(4, 1,
                     {{"m2", {{"b", spop::Value::int32(2)}}},
                      {"m1", {{"a", spop::Value::int32(1)}}},
                      {"m2", {{"c", spop::Value::int32(3)}}}});
  const Ack ack = client.expect_ack();
  ASSERT_EQ(ack.actions.size(), 3u) << ack.describe();
  EXPECT_EQ(ack.actions[0].name, "b");
  EXPECT_EQ(ack.actions[0].scope, spop::Scope::sess) << "m2 belongs to instance 'second'";
  EXPECT_EQ(ack.actions[1].name, "a");
  EXPECT_EQ(ack.actions[1].scope, spop::Scope::txn) << "m1 belongs to instance 'first'";
  EXPECT_EQ(ack.actions[2].name, "c");
  EXPECT_EQ(ack.actions[2].scope, spop::Scope::sess);
}

TEST(Notify, UnclaimedMessageGetsAnEmptyAck) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(3, 1, {{"nobody-claims-this", {{"a", spop::Value::int32(1)}}}});
  const Ack ack = client.expect_ack();
  EXPECT_EQ(ack.stream_id, 3u);
  EXPECT_EQ(ack.frame_id, 1u);
  EXPECT_TRUE(ack.actions.empty()) << ack.describe();
  EXPECT_EQ(ack.len, 7u) << "an empty ACK is the bare header";
}

TEST(Notify, UnclaimedMessagesDoNotHideClaimedOnes) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(3, 2,
                     {{"unknown1", {{"u", spop::Value::int32(9)}}},
                      {"echo", {{"a", spop::Value::int32(1)}}},
                      {"unknown2", {}}});
  const Ack ack = client.expect_ack();
  ASSERT_EQ(ack.actions.size(), 1u) << ack.describe();
  EXPECT_EQ(ack.actions[0].name, "a");
}

TEST(Notify, NotifyWithoutMessagesGetsAnEmptyAck) {
  // HAProxy 3.1-3.3 could send one (spop.md §4).
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.handshake();
  client.send_frame(spop::FrameType::notify, spop::flag_fin, 8, 1, {});
  const Ack ack = client.expect_ack();
  EXPECT_EQ(ack.stream_id, 8u);
  EXPECT_TRUE(ack.actions.empty());
}

TEST(Notify, SeveralNotifiesInOneWriteAreAllAnswered) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.handshake();
  Bytes burst;
  for (uint64_t i = 1; i <= 10; ++i) {
    const Bytes frame = make_frame(
        spop::FrameType::notify, spop::flag_fin, 100 + i, i,
        notify_payload({{"echo", {{"i", spop::Value::int64(static_cast<int64_t>(i))}}}}));
    burst.insert(burst.end(), frame.begin(), frame.end());
  }
  client.send_raw(burst);
  for (uint64_t i = 1; i <= 10; ++i) {
    const Ack ack = client.expect_ack();
    const OwnedAction* action = ack.find("i");
    ASSERT_NE(action, nullptr) << ack.describe();
    EXPECT_EQ(ack.stream_id, 100 + ack.frame_id);
    EXPECT_EQ(action->value.integer, ack.frame_id);
  }
}

// ---- ACK size cap -------------------------------------------------------------------------

TEST(Notify, AckNeverExceedsNegotiatedMaxFrameSizeWithABigValue) {
  // Negotiate 256 and echo a 1000-byte string: the NOTIFY has to come in fragments (the
  // agent announces fragmentation); the ACK must stay <= 256 and so cannot carry it.
  AgentConfig config;
  config.capabilities = std::vector<std::string>{"pipelining", "fragmentation"};
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.max_frame_size = 256;
  ASSERT_EQ(client.handshake(options).max_frame_size, 256u);

  const std::string big = patterned(1000);
  const Bytes payload = notify_payload({{"echo",
                                         {{"small1", spop::Value::int32(1)},
                                          {"big", spop::Value::string(big)},
                                          {"small2", spop::Value::int32(2)}}}});
  const size_t chunk = 256 - 7;  // header of sid 1 / fid 1 is 7 bytes of LEN
  for (size_t offset = 0; offset < payload.size(); offset += chunk) {
    const size_t n = std::min(chunk, payload.size() - offset);
    const bool first = offset == 0;
    const bool last = offset + n == payload.size();
    client.send_frame(first ? spop::FrameType::notify : spop::FrameType::unset,
                      last ? spop::flag_fin : 0, 1, 1,
                      std::span<const uint8_t>(payload).subspan(offset, n));
  }
  const Ack ack = client.expect_ack();
  EXPECT_LE(ack.len, 256u) << ack.describe();
  EXPECT_EQ(ack.find("big"), nullptr) << ack.describe();
  EXPECT_NE(ack.find("small1"), nullptr) << ack.describe();
  EXPECT_NE(ack.find("small2"), nullptr)
      << "smaller values after the big one still fit: " << ack.describe();

  // The connection survives.
  client.send_notify(1, 2, {{"echo", {{"after", spop::Value::int32(3)}}}});
  const Ack next = client.expect_ack();
  EXPECT_EQ(next.frame_id, 2u);
  EXPECT_NE(next.find("after"), nullptr) << next.describe();
}

TEST(Notify, AckNeverExceedsNegotiatedMaxFrameSizeWithManySmallValues) {
  // 40 NULL args fit a 256-byte NOTIFY, but their 40 SET-VARs (7 bytes each) do not fit a
  // 256-byte ACK: the agent must leave some out, not send a frame HAProxy kills us for.
  AgentProcess agent;
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.max_frame_size = 256;
  ASSERT_EQ(client.handshake(options).max_frame_size, 256u);
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i)
    names.push_back("a" + std::to_string(i % 10) + std::to_string(i / 10));
  std::vector<ArgSpec> args;
  for (const auto& name : names)
    args.push_back({name, spop::Value::null()});
  client.send_notify(2, 1, {{"echo", args}});
  const Ack ack = client.expect_ack();
  EXPECT_LE(ack.len, 256u) << ack.describe();
  EXPECT_LT(ack.actions.size(), names.size());
  client.send_notify(2, 2, {{"echo", {{"after", spop::Value::int32(3)}}}});
  EXPECT_NE(client.expect_ack().find("after"), nullptr);
}

TEST(Notify, AckNeverExceedsNegotiatedMaxFrameSizeAcrossMessages) {
  // Each message's actions fit the frame alone, not together.
  AgentProcess agent;
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.max_frame_size = 256;
  ASSERT_EQ(client.handshake(options).max_frame_size, 256u);
  std::vector<std::string> names;
  for (int i = 0; i < 40; ++i)
    names.push_back("v" + std::to_string(10 + i));
  // NOTIFY: 2 x (6 + 20 x 5) + 7 = 219 bytes; ACK: 40 x 8 + 7 = 327 > 256.
  std::vector<ArgSpec> first, second;
  for (int i = 0; i < 20; ++i)
    first.push_back({names[i], spop::Value::null()});
  for (int i = 20; i < 40; ++i)
    second.push_back({names[i], spop::Value::null()});
  client.send_notify(2, 1, {{"echo", first}, {"echo", second}});
  const Ack ack = client.expect_ack();
  EXPECT_LE(ack.len, 256u) << ack.describe();
  EXPECT_NE(ack.find("v10"), nullptr) << "the first message's actions fit: " << ack.describe();
  client.send_notify(2, 2, {{"echo", {{"after", spop::Value::int32(3)}}}});
  EXPECT_NE(client.expect_ack().find("after"), nullptr);
}

TEST(Notify, UnixSocketListenerServesSpop) {
  AgentConfig config;
  config.listen = "unix";
  AgentProcess agent(config);
  ASSERT_FALSE(agent.unix_path().empty());
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(1, 1, {{"echo", {{"over_unix", spop::Value::boolean(true)}}}});
  const Ack ack = client.expect_ack();
  ASSERT_NE(ack.find("over_unix"), nullptr) << ack.describe();
}

}  // namespace
}  // namespace spoa::itest
