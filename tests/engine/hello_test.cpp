// HELLO negotiation (spop.md §5) and what may be sent before it.
#include "engine_harness.hpp"

namespace spoa::agent::test {
namespace {

using spop::FrameType;

TEST(Hello, AgentHelloNegotiatesTheSmallerFrameSizeAndCommonCapabilities) {
  EngineHarness h;
  h.start();
  spop::HelloOptions options;
  options.max_frame_size = 8000;
  options.capabilities = "async, pipelining";
  h.feed(hello_frame(options));
  const Sent hello = h.expect_one(FrameType::agent_hello);
  EXPECT_EQ(hello.max_frame_size, 8000u);
  EXPECT_EQ(hello.capabilities, "pipelining") << "async is not announced by default";
  EXPECT_EQ(h.engine().state(), Engine::State::running);
  EXPECT_EQ(h.engine().max_frame_size(), 8000u);
}

TEST(Hello, HealthCheckGetsItsHelloAndTheConnectionCloses) {
  EngineHarness h;
  h.start();
  spop::HelloOptions options;
  options.capabilities = "";
  options.healthcheck = true;
  h.feed(hello_frame(options));
  h.expect_one(FrameType::agent_hello);
  EXPECT_TRUE(h.engine().closed());
}

TEST(Hello, NothingIsSentWhenNoHelloComesAndTheConnectionClosesExactlyAtTheTimeout) {
  EngineSettings settings;
  settings.hello_timeout = 5000ms;
  EngineHarness h(settings);
  h.start();
  h.advance(4999ms);
  EXPECT_FALSE(h.engine().closed());
  h.advance(1ms);
  EXPECT_TRUE(h.engine().closed());
  EXPECT_EQ(h.engine().close_reason(), metrics::CloseReason::timeout);
  EXPECT_EQ(h.written_total, 0u) << "something was sent before the HAPROXY-HELLO";
}

TEST(Hello, HaproxyDisconnectDuringTheHelloIsAnsweredByClosing) {
  EngineHarness h;
  h.start();
  h.feed(haproxy_disconnect_frame());
  EXPECT_TRUE(h.engine().closed());
  EXPECT_EQ(h.written_total, 0u) << "an AGENT-DISCONNECT went out before any HELLO";
}

TEST(Hello, ShutdownBeforeTheHelloClosesWithoutSendingAnything) {
  EngineHarness h;
  h.start();
  h.shutdown();
  EXPECT_TRUE(h.engine().closed());
  EXPECT_EQ(h.written_total, 0u);
}

TEST(Hello, AFrameLargerThanAHelloCanBeIsRefusedBeforeTheHello) {
  EngineHarness h;
  h.start();
  // LEN 8192: within max_frame_size, beyond what a HAPROXY-HELLO needs.
  const Bytes header = {0x00, 0x00, 0x20, 0x00, 0x01};
  h.feed(header);
  const Sent d = h.expect_one(FrameType::agent_disconnect);
  EXPECT_EQ(d.status, static_cast<uint32_t>(spop::Status::frame_too_big));
  EXPECT_TRUE(h.engine().closed());
  EXPECT_EQ(h.engine().buffered_bytes(), 0u);
}

TEST(Hello, HelloArrivingByteByByteIsReassembled) {
  EngineHarness h;
  h.start();
  const Bytes hello = hello_frame();
  for (const uint8_t byte : hello)
    h.feed(Bytes{byte});
  h.expect_one(FrameType::agent_hello);
}

}  // namespace
}  // namespace spoa::agent::test
