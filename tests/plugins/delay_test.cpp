// delay.so against the fake host: answers from its worker thread, in deadline order, and
// answers FAILED for what is still queued at shutdown.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "fake_host.hpp"
#include "spoa_test_plugins.h"

namespace {

using namespace std::chrono_literals;
using spoa::testing::Action;
using spoa::testing::FakeHost;
using spoa::testing::RequestState;
using V = spoa::testing::TypedValue;
using Config = std::vector<std::pair<std::string, std::string>>;

// Generous: sanitizer builds and loaded CI machines are slow, and the lower bound is what
// proves the delay.
constexpr auto slack = 1500ms;

Action txn(std::string name, V value) {
  return spoa::testing::set_var(SPOA_SCOPE_TXN, std::move(name), std::move(value));
}

class DelayPlugin : public ::testing::Test {
 protected:
  void start(const Config& config = {}) {
    host.load(SPOA_PLUGIN_DELAY);
    const auto error = host.init(config, {"delay"});
    ASSERT_FALSE(error) << *error;
  }
  std::optional<std::string> start_error(const Config& config) {
    host.load(SPOA_PLUGIN_DELAY);
    return host.init(config, {"delay"});
  }
  static std::chrono::milliseconds took(const spoa::testing::RequestRecord& r) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(r.finished_at - r.called_at);
  }

  FakeHost host;
};

TEST_F(DelayPlugin, AnswersPendingThenCompletesFromItsWorkerAfterTheConfiguredDelay) {
  start({{"delay", "100ms"}});
  const uint64_t id = host.call("delay", {{"tag", V::string("t1")}});
  EXPECT_EQ(host.request(id).handler_return, SPOA_PENDING);
  ASSERT_TRUE(host.wait_finished(id, 100ms + slack));
  const auto r = host.request(id);
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_GE(took(r), 100ms);
  EXPECT_LT(took(r), 100ms + slack);
  EXPECT_NE(r.complete_thread, r.handler_thread);
  EXPECT_EQ(r.actions,
            (std::vector<Action>{txn("delay_ms", V::int64(100)), txn("tag", V::string("t1"))}));
}

TEST_F(DelayPlugin, DefaultDelayIsTenMilliseconds) {
  start();
  const uint64_t id = host.call("delay", {});
  ASSERT_TRUE(host.wait_finished(id, slack));
  const auto r = host.request(id);
  EXPECT_GE(took(r), 10ms);
  EXPECT_EQ(r.actions, std::vector<Action>{txn("delay_ms", V::int64(10))});
}

class DelayMsArgument : public DelayPlugin, public ::testing::WithParamInterface<V> {};

TEST_P(DelayMsArgument, OverridesTheConfiguredDelayWhateverItsIntegerType) {
  start({{"delay", "5s"}});
  const uint64_t id = host.call("delay", {{"delay_ms", GetParam()}});
  ASSERT_TRUE(host.wait_finished(id, 30ms + slack));
  const auto r = host.request(id);
  EXPECT_GE(took(r), 30ms);
  EXPECT_EQ(r.actions, std::vector<Action>{txn("delay_ms", V::int64(30))});
}

INSTANTIATE_TEST_SUITE_P(IntegerTypes, DelayMsArgument,
                         ::testing::Values(V::int32(30), V::uint32(30), V::int64(30),
                                           V::uint64(30)),
                         [](const auto& param_info) {
                           const std::string s = param_info.param.to_string();
                           return s.substr(0, s.find(' '));
                         });

TEST_F(DelayPlugin, ZeroDelayStillAnswersFromTheWorker) {
  start();
  const uint64_t id = host.call("delay", {{"delay_ms", V::int64(0)}});
  ASSERT_TRUE(host.wait_finished(id, slack));
  const auto r = host.request(id);
  EXPECT_EQ(r.handler_return, SPOA_PENDING);
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_EQ(r.actions, std::vector<Action>{txn("delay_ms", V::int64(0))});
}

TEST_F(DelayPlugin, TagKeepsItsTypeAndBytes) {
  start();
  const std::string bytes("\x00\x01tag", 5);
  const uint64_t a = host.call("delay", {{"tag", V::binary(bytes)}});
  const uint64_t b = host.call("delay", {{"tag", V::ipv6("2001:db8::7")}});
  ASSERT_TRUE(host.wait_finished(a, slack));
  ASSERT_TRUE(host.wait_finished(b, slack));
  EXPECT_EQ(host.request(a).actions.at(1), txn("tag", V::binary(bytes)));
  EXPECT_EQ(host.request(b).actions.at(1), txn("tag", V::ipv6("2001:db8::7")));
}

TEST_F(DelayPlugin, ShorterDelayCompletesFirstWhateverTheArrivalOrder) {
  start();
  const uint64_t slow = host.call("delay", {{"delay_ms", V::int64(400)}, {"tag", V::int32(1)}});
  const uint64_t fast = host.call("delay", {{"delay_ms", V::int64(20)}, {"tag", V::int32(2)}});
  ASSERT_TRUE(host.wait_finished(fast, slack));
  EXPECT_EQ(host.request(slow).state, RequestState::pending);
  ASSERT_TRUE(host.wait_finished(slow, 400ms + slack));
  EXPECT_LT(host.request(fast).finished_at, host.request(slow).finished_at);
}

TEST_F(DelayPlugin, ShutdownAnswersEveryQueuedRequestFailedAndReturnsPromptly) {
  start({{"delay", "10s"}});
  std::vector<uint64_t> ids;
  for (int i = 0; i < 5; ++i)
    ids.push_back(host.call("delay", {{"tag", V::int32(i)}}));
  const auto before = std::chrono::steady_clock::now();
  host.shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 2s);
  for (uint64_t id : ids) {
    const auto r = host.request(id);
    EXPECT_EQ(r.state, RequestState::finished);
    EXPECT_EQ(r.completion, SPOA_FAILED);
    EXPECT_EQ(r.complete_calls, 1);
  }
  EXPECT_TRUE(host.violations().empty());
}

TEST_F(DelayPlugin, DelayMsThatIsNotANonNegativeIntegerFailsTheMessage) {
  start();
  EXPECT_EQ(host.call_and_return("delay", {{"delay_ms", V::int64(-1)}}), SPOA_FAILED);
  EXPECT_EQ(host.call_and_return("delay", {{"delay_ms", V::string("10")}}), SPOA_FAILED);
  EXPECT_EQ(host.call_and_return("delay", {{"delay_ms", V::int64(24LL * 3600 * 1000)}}),
            SPOA_FAILED);
  EXPECT_TRUE(host.logged(SPOA_LOG_WARN, "delay_ms must be an integer"));
}

TEST_F(DelayPlugin, MalformedDelayFailsInitNamingTheKey) {
  const auto error = start_error({{"delay", "fast"}});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("config key 'delay': 'fast'"), std::string::npos) << *error;
}

TEST_F(DelayPlugin, UnknownConfigKeyFailsInit) {
  const auto error = start_error({{"dealy", "1s"}});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("'dealy'"), std::string::npos) << *error;
}

TEST_F(DelayPlugin, AnswersEveryMessageTheInstanceIsGivenUnlessTheMessagesKeyNarrowsThem) {
  host.load(SPOA_PLUGIN_DELAY);
  ASSERT_FALSE(host.init({{"delay", "1ms"}}, {"delay", "slow-lookup"}));
  EXPECT_EQ(host.registered_messages(), (std::vector<std::string>{"delay", "slow-lookup"}));
  const uint64_t id = host.call("slow-lookup", {});
  ASSERT_TRUE(host.wait_finished(id, slack));
  EXPECT_EQ(host.request(id).outcome(), SPOA_DONE);

  FakeHost narrowed;
  narrowed.load(SPOA_PLUGIN_DELAY);
  ASSERT_FALSE(narrowed.init({{"messages", "slow-lookup"}}, {"delay", "slow-lookup"}));
  EXPECT_EQ(narrowed.registered_messages(), std::vector<std::string>{"slow-lookup"});
}

TEST_F(DelayPlugin, MessagesKeyNamingAMessageTheInstanceIsNotGivenFailsInit) {
  const auto error = start_error({{"messages", "dealy"}});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("'dealy'"), std::string::npos) << *error;
}

TEST_F(DelayPlugin, ManyConcurrentRequestsAllComplete) {
  start({{"delay", "1ms"}});
  std::vector<std::thread> callers;
  std::vector<std::vector<uint64_t>> ids(4);
  for (size_t t = 0; t < ids.size(); ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i)
        ids[t].push_back(host.call("delay", {{"delay_ms", V::int64(i % 7)}}));
    });
  }
  for (auto& c : callers)
    c.join();
  for (const auto& list : ids) {
    for (uint64_t id : list) {
      ASSERT_TRUE(host.wait_finished(id, slack));
      EXPECT_EQ(host.request(id).outcome(), SPOA_DONE);
    }
  }
}

}  // namespace
