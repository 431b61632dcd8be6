// Plugins that break the rules (the test-only misbehave plugin, argument `mode`): every
// NOTIFY still gets its ACK, with the other messages' actions, and the server goes on
// serving (design.md "Always answer").
#include "test_helpers.hpp"

namespace spoa::itest {
namespace {

struct ModeCase {
  std::string mode;
  std::vector<std::string> present;  // variables the ACK must carry besides echo's
  std::vector<std::string> absent;   // variables it must not carry
  bool waits_for_deadline = false;   // only the processing deadline can answer it
};

class Misbehave : public ::testing::TestWithParam<ModeCase> {};

TEST_P(Misbehave, NotifyIsAnsweredAndTheServerKeepsServing) {
  if (misbehave_plugin_path().empty()) {
    GTEST_SKIP() << "misbehave.so is not built in " << test_plugin_dir();
  }
  const ModeCase& c = GetParam();
  AgentConfig config;
  config.plugins = {echo_plugin(), misbehave_plugin()};
  config.processing_timeout = "300ms";
  AgentProcess agent(config);
  SpopClient client = agent.connect();
  const uint32_t max = client.handshake().max_frame_size;

  const auto start = Clock::now();
  client.send_notify(31, 4,
                     {{"echo", {{"x", spop::Value::int32(1)}}},
                      {"misbehave", {{"mode", spop::Value::string(c.mode)}}}});
  const Ack ack = client.expect_ack(5s);
  const Millis waited = elapsed_since(start);
  EXPECT_EQ(ack.stream_id, 31u);
  EXPECT_EQ(ack.frame_id, 4u);
  EXPECT_LE(ack.len, max) << ack.describe();
  EXPECT_LT(waited.count(), 3000) << "answered long after the 300 ms processing deadline";
  if (c.waits_for_deadline) {
    EXPECT_GE(waited.count(), 250) << "answered before the deadline: " << ack.describe();
  }
  const OwnedAction* x = ack.find("x");
  ASSERT_NE(x, nullptr) << "the well-behaved message lost its action: " << ack.describe();
  EXPECT_EQ(x->value.view(), spop::Value::int32(1));
  for (const auto& name : c.present) {
    EXPECT_NE(ack.find(name), nullptr) << name << " missing: " << ack.describe();
  }
  for (const auto& name : c.absent) {
    EXPECT_EQ(ack.find(name), nullptr) << name << " must not reach HAProxy: " << ack.describe();
  }

  // Anything the plugin does late (a second complete(), a set after complete) lands now.
  std::this_thread::sleep_for(300ms);
  // The same connection goes on, with exactly one ACK for the first NOTIFY.
  client.send_notify(31, 5, {{"echo", {{"y", spop::Value::int32(2)}}}});
  const Ack next = client.expect_ack(5s);
  EXPECT_EQ(next.frame_id, 5u) << "a second ACK for the misbehaving NOTIFY: " << next.describe();
  EXPECT_NE(next.find("y"), nullptr) << next.describe();
  // And so does the server.
  expect_server_still_serves(agent);
}

TEST_P(Misbehave, RepeatedMisbehaviourOnManyConnectionsIsHarmless) {
  if (misbehave_plugin_path().empty()) {
    GTEST_SKIP() << "misbehave.so is not built in " << test_plugin_dir();
  }
  AgentConfig config;
  config.plugins = {echo_plugin(), misbehave_plugin()};
  config.processing_timeout = "300ms";
  AgentProcess agent(config);
  std::vector<SpopClient> clients;
  for (int c = 0; c < 4; ++c) {
    clients.push_back(agent.connect());
    clients.back().handshake();
  }
  for (uint64_t i = 1; i <= 5; ++i) {
    for (auto& client : clients) {
      client.send_notify(i, 1, {{"misbehave", {{"mode", spop::Value::string(GetParam().mode)}}}});
    }
    for (auto& client : clients)
      EXPECT_EQ(client.expect_ack(5s).stream_id, i);
  }
  expect_server_still_serves(agent);
}

INSTANTIATE_TEST_SUITE_P(
    Modes, Misbehave,
    ::testing::Values(
        // FAILED: its actions (before_fail) are dropped.
        ModeCase{"fail", {}, {"before_fail"}}, ModeCase{"throw", {}, {}},
        ModeCase{"throw_other", {}, {}}, ModeCase{"bad_return", {}, {}},
        // complete() twice from another thread: one ACK, the second call refused.
        ModeCase{"double_complete", {}, {}}, ModeCase{"never_complete", {}, {}, true},
        ModeCase{"pending_without_defer", {}, {}}, ModeCase{"drop_pending", {}, {}},
        ModeCase{"throw_after_defer", {}, {}},
        // complete() inside the handler, then PENDING: its action counts.
        ModeCase{"complete_inline", {"inline"}, {}},
        // set_var() after complete() must not reach the ACK.
        ModeCase{"set_after_complete", {}, {"after_complete"}},
        // A 20000-byte variable does not fit the frame: refused, the rest goes on.
        ModeCase{"big", {"too_big_refused"}, {"big"}}),
    [](const auto& test_param) { return test_param.param.mode; });

}  // namespace
}  // namespace spoa::itest
