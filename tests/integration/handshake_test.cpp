// HELLO negotiation (spop.md §5, §6), the health check and the hello timeout.
#include "test_helpers.hpp"

namespace spoa::itest {
namespace {

TEST(Handshake, AgentHelloHasVersion20FlagsFinAndZeroIds) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  const AgentHelloInfo hello = client.handshake();
  EXPECT_EQ(hello.flags, spop::flag_fin) << "3.1+ health checks demand flags == FIN exactly";
  EXPECT_EQ(hello.stream_id, 0u);
  EXPECT_EQ(hello.frame_id, 0u);
  ASSERT_TRUE(hello.has_version);
  EXPECT_EQ(hello.version, "2.0");
  ASSERT_TRUE(hello.has_max_frame_size);
  EXPECT_EQ(hello.max_frame_size, 16380u);
  ASSERT_TRUE(hello.has_capabilities);
  EXPECT_EQ(capability_set(hello.capabilities), (std::set<std::string>{"pipelining"}));
}

TEST(Handshake, PicksVersion20FromAListWithSpaces) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.supported_versions = " 1.0 ,  2.0 , 2.1";
  const AgentHelloInfo hello = client.handshake(options);
  EXPECT_EQ(hello.version, "2.0");
}

TEST(Handshake, DisconnectsWith8WhenVersion20IsNotOffered) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.supported_versions = "1.0, 2.01, 3.0";  // "2.01" must not match "2.0" by prefix
  client.send_hello(options);
  expect_disconnect_and_close(client, spop::Status::unsupported_version);
}

TEST(Handshake, DisconnectsWith8WhenSupportedVersionsIsEmpty) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.supported_versions = "";
  client.send_hello(options);
  expect_disconnect_and_close(client, spop::Status::unsupported_version);
}

TEST(Handshake, DisconnectsWith5WithoutSupportedVersions) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.send_raw(HelloPayload{}
                      .add("max-frame-size", spop::Value::uint32(16380))
                      .add("capabilities", spop::Value::string("pipelining"))
                      .frame());
  expect_disconnect_and_close(client, spop::Status::no_version);
}

TEST(Handshake, DisconnectsWith6WithoutMaxFrameSize) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.send_raw(HelloPayload{}
                      .add("supported-versions", spop::Value::string("2.0"))
                      .add("capabilities", spop::Value::string("pipelining"))
                      .frame());
  expect_disconnect_and_close(client, spop::Status::no_max_frame_size);
}

TEST(Handshake, DisconnectsWith9WhenMaxFrameSizeIsBelow256) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.max_frame_size = 255;
  client.send_hello(options);
  expect_disconnect_and_close(client, spop::Status::bad_max_frame_size);
}

TEST(Handshake, Accepts256AsMaxFrameSize) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.max_frame_size = 256;
  EXPECT_EQ(client.handshake(options).max_frame_size, 256u);
}

TEST(Handshake, NegotiatesHaproxysMaxFrameSizeWhenSmaller) {
  AgentProcess agent;  // agent default 16380
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.max_frame_size = 1000;
  EXPECT_EQ(client.handshake(options).max_frame_size, 1000u);
}

TEST(Handshake, NegotiatesTheAgentsMaxFrameSizeWhenSmaller) {
  AgentConfig config;
  config.max_frame_size = 4096;
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.max_frame_size = 65532;  // tune.bufsize 65536
  EXPECT_EQ(client.handshake(options).max_frame_size, 4096u);
}

TEST(Handshake, AnnouncesOnlyConfiguredCapabilitiesHaproxyOffers) {
  AgentProcess agent;  // capabilities = ["pipelining"] by default
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.capabilities = "pipelining,async";
  EXPECT_EQ(capability_set(client.handshake(options).capabilities),
            (std::set<std::string>{"pipelining"}));
}

TEST(Handshake, AnnouncesAsyncWhenConfiguredAndOfferedButNotUnofferedPipelining) {
  AgentConfig config;
  config.capabilities = std::vector<std::string>{"pipelining", "async"};
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.capabilities = "async";
  EXPECT_EQ(capability_set(client.handshake(options).capabilities),
            (std::set<std::string>{"async"}));
}

TEST(Handshake, CapabilitiesMatchExactlyNotByPrefix) {
  AgentConfig config;
  config.capabilities = std::vector<std::string>{"pipelining", "async"};
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.capabilities = "pipelining2, asyncx";
  const AgentHelloInfo hello = client.handshake(options);
  ASSERT_TRUE(hello.has_capabilities);
  EXPECT_EQ(hello.capabilities, "");
}

TEST(Handshake, SendsEmptyCapabilitiesKeyWhenNothingIsInCommon) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.capabilities = "";
  const AgentHelloInfo hello = client.handshake(options);
  ASSERT_TRUE(hello.has_capabilities) << "the capabilities key must always be sent";
  EXPECT_EQ(hello.capabilities, "");
}

TEST(Handshake, SendsCapabilitiesKeyWhenHaproxyOmitsIt) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.send_raw(HelloPayload{}
                      .add("supported-versions", spop::Value::string("2.0"))
                      .add("max-frame-size", spop::Value::uint32(16380))
                      .frame());
  const AgentHelloInfo hello = client.expect_agent_hello();
  ASSERT_TRUE(hello.has_capabilities);
  EXPECT_EQ(hello.capabilities, "");
}

TEST(Handshake, AnnouncesFragmentationWheneverConfigured) {
  AgentConfig config;
  config.capabilities = std::vector<std::string>{"pipelining", "fragmentation"};
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  spop::HelloOptions options;
  options.capabilities = "pipelining,async";  // HAProxy <= 3.0 never offers fragmentation
  EXPECT_EQ(capability_set(client.handshake(options).capabilities),
            (std::set<std::string>{"pipelining", "fragmentation"}));
}

TEST(Handshake, IgnoresUnknownHelloKeys) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.send_raw(HelloPayload{}
                      .add("x-future", spop::Value::binary(std::string_view("\0\1\2", 3)))
                      .add("supported-versions", spop::Value::string("2.0"))
                      .add("max-frame-size", spop::Value::uint32(16380))
                      .add("capabilities", spop::Value::string("pipelining"))
                      .add("engine-id", spop::Value::string("3F2504E0-4F89-11D3-9A0C"))
                      .add("x-other", spop::Value::int64(-5))
                      .frame());
  EXPECT_EQ(client.expect_agent_hello().version, "2.0");
}

TEST(Handshake, SendsNothingBeforeTheHaproxyHello) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.expect_silence(500ms);
  EXPECT_EQ(client.handshake().version, "2.0");
}

TEST(Handshake, FirstFrameOtherThanHelloDisconnects4) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.send_notify(1, 1, {{"echo", {{"a", spop::Value::int32(1)}}}});
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

TEST(Handshake, HelloWithNonZeroIdsDisconnects4) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.send_raw(HelloPayload{}
                      .add("supported-versions", spop::Value::string("2.0"))
                      .add("max-frame-size", spop::Value::uint32(16380))
                      .add("capabilities", spop::Value::string(""))
                      .frame(1, 1));
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

TEST(Handshake, HelloValueOfWrongTypeDisconnects4) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.send_raw(HelloPayload{}
                      .add("supported-versions", spop::Value::string("2.0"))
                      .add("max-frame-size", spop::Value::string("16380"))
                      .add("capabilities", spop::Value::string(""))
                      .frame());
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

TEST(Handshake, SecondHelloDisconnects4) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  client.handshake();
  client.send_hello();
  expect_disconnect_and_close(client, spop::Status::invalid_frame);
}

TEST(HealthCheck, AnswersAgentHelloThenClosesWithoutDisconnect) {
  AgentProcess agent;
  SpopClient client = agent.connect();
  // The exact `option spop-check` probe of HAProxy 2.6/3.x (spop.md §5): empty
  // capabilities, no engine-id, healthcheck true.
  client.send_raw(
      wire(R"(0000004e 01 00000001 00 00 12"supported-versions" 08 03"2.0" 0e"max-frame-size")"
           R"( 03 fcf006 0c"capabilities" 08 00 0b"healthcheck" 11)"));
  const AgentHelloInfo hello = client.expect_agent_hello();
  EXPECT_EQ(hello.flags, spop::flag_fin);
  EXPECT_EQ(hello.version, "2.0");
  EXPECT_EQ(hello.max_frame_size, 16380u);
  EXPECT_TRUE(hello.has_capabilities);
  client.expect_closed();
}

TEST(HealthCheck, ServerKeepsServingAfterHealthChecks) {
  AgentProcess agent;
  for (int i = 0; i < 20; ++i) {
    SpopClient client = agent.connect();
    spop::HelloOptions options;
    options.capabilities = "";
    options.healthcheck = true;
    client.handshake(options);
    if (i % 2 == 0) client.reset();  // 3.x resets the check connection right away
  }
  expect_server_still_serves(agent);
}

TEST(HelloTimeout, ClosesWithoutAnyFrameWhenNoHelloArrives) {
  AgentConfig config;
  config.hello_timeout = "300ms";
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  const auto start = Clock::now();
  client.expect_closed(5s);  // a frame instead of the close fails here
  const Millis waited = elapsed_since(start);
  EXPECT_GE(waited.count(), 250) << "closed before the hello timeout";
  EXPECT_LT(waited.count(), 3000);
}

TEST(HelloTimeout, DoesNotApplyOnceHelloIsDone) {
  AgentConfig config;
  config.hello_timeout = "200ms";
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  client.handshake();
  client.expect_silence(600ms);
  client.send_notify(1, 1, {{"echo", {{"a", spop::Value::int32(1)}}}});
  EXPECT_NE(client.expect_ack().find("a"), nullptr);
}

}  // namespace
}  // namespace spoa::itest
