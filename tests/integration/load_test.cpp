// Many connections at once: 500 concurrent HAProxy connections, each HELLO + one NOTIFY.
#include "test_helpers.hpp"

namespace spoa::itest {
namespace {

Millis left_until(Clock::time_point deadline) {
  return std::max(Millis(1), std::chrono::duration_cast<Millis>(deadline - Clock::now()));
}

TEST(Load, FiveHundredConcurrentConnectionsEachGetTheirAck) {
  constexpr int count = 500;
  AgentConfig config;
  config.threads = 2;
  AgentProcess agent(config);
  const auto start = Clock::now();
  const auto deadline = start + 30s;

  // All 500 open at the same time, each step interleaved across them.
  std::vector<SpopClient> clients;
  clients.reserve(count);
  for (int i = 0; i < count; ++i)
    clients.push_back(agent.connect(left_until(deadline)));
  for (auto& client : clients)
    client.send_hello();
  for (auto& client : clients) {
    EXPECT_EQ(client.expect_agent_hello(left_until(deadline)).version, "2.0");
  }
  for (int i = 0; i < count; ++i) {
    clients[i].send_notify(static_cast<uint64_t>(i), 1, {{"echo", {{"n", spop::Value::int64(i)}}}});
  }
  for (int i = 0; i < count; ++i) {
    const Ack ack = clients[i].expect_ack(left_until(deadline));
    ASSERT_EQ(ack.stream_id, static_cast<uint64_t>(i));
    const OwnedAction* n = ack.find("n");
    ASSERT_NE(n, nullptr) << ack.describe();
    ASSERT_EQ(n->value.view().as_int64(), i) << "connection " << i << " got another one's answer";
  }
  EXPECT_LT(elapsed_since(start).count(), 30000);
}

}  // namespace
}  // namespace spoa::itest
