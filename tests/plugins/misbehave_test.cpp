// misbehave.so against the fake host: each mode breaks one rule, and these tests pin down
// what the plugin does (so host tests can rely on it) and what plugin.hpp does about it.
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
using spoa::testing::RequestRecord;
using spoa::testing::RequestState;
using spoa::testing::TestArg;
using V = spoa::testing::TypedValue;

constexpr auto slack = 1500ms;

Action txn(std::string name, V value) {
  return spoa::testing::set_var(SPOA_SCOPE_TXN, std::move(name), std::move(value));
}

bool refused(const RequestRecord& r, const std::string& what, spoa_status status) {
  for (const auto& c : r.refused) {
    if (c.what == what && c.status == status) return true;
  }
  return false;
}

class Misbehave : public ::testing::Test {
 protected:
  void SetUp() override {
    host.load(SPOA_TEST_PLUGIN_MISBEHAVE);
    const auto error = host.init({}, {"misbehave"});
    ASSERT_FALSE(error) << *error;
  }
  uint64_t call(const std::string& mode, std::vector<TestArg> more = {}) {
    more.insert(more.begin(), TestArg{"mode", V::string(mode)});
    return host.call("misbehave", more);
  }
  RequestRecord run(const std::string& mode, std::vector<TestArg> more = {}) {
    return host.request(call(mode, std::move(more)));
  }
  // Lines logged from the plugin's own threads arrive a little after the completion.
  bool eventually_logged(spoa_log_level level, const std::string& text) {
    const auto until = std::chrono::steady_clock::now() + slack;
    while (!host.logged(level, text)) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  FakeHost host;
};

TEST_F(Misbehave, NoModeIsDoneWithNothing) {
  const auto r = host.request(host.call("misbehave", {}));
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_TRUE(r.actions.empty());
}

TEST_F(Misbehave, FailReturnsFailedAfterSettingAVariable) {
  const auto r = run("fail");
  EXPECT_EQ(r.handler_return, SPOA_FAILED);
  EXPECT_EQ(r.actions, std::vector<Action>{txn("before_fail", V::boolean(true))});
  EXPECT_EQ(r.outcome(), SPOA_FAILED);
}

TEST_F(Misbehave, ThrowIsCaughtByPluginHppAndAnswersFailedWithTheExceptionLogged) {
  const auto r = run("throw");
  EXPECT_EQ(r.handler_return, SPOA_FAILED);
  EXPECT_TRUE(host.logged(SPOA_LOG_ERROR,
                          "handler for message 'misbehave' threw std::runtime_error: "
                          "misbehave: thrown on purpose"));
}

TEST_F(Misbehave, ThrowingANonStdExceptionIsCaughtToo) {
  EXPECT_EQ(run("throw_other").handler_return, SPOA_FAILED);
  EXPECT_TRUE(host.logged(SPOA_LOG_ERROR, "threw an exception not derived from std::exception"));
}

TEST_F(Misbehave, ThrowAfterDeferAnswersPendingAndTheDroppedRequestCompletesFailed) {
  const auto r = run("throw_after_defer");
  EXPECT_EQ(r.handler_return, SPOA_PENDING);
  EXPECT_EQ(r.completion, SPOA_FAILED);
  EXPECT_TRUE(r.completed_before_return);
  EXPECT_EQ(r.outcome(), SPOA_FAILED);
  EXPECT_TRUE(host.logged(SPOA_LOG_ERROR, "thrown after defer()"));
}

TEST_F(Misbehave, DroppedPendingRequestCompletesFailedWithAWarning) {
  const auto r = run("drop_pending");
  EXPECT_EQ(r.handler_return, SPOA_PENDING);
  EXPECT_EQ(r.completion, SPOA_FAILED);
  EXPECT_EQ(r.complete_calls, 1);
  EXPECT_TRUE(host.logged(SPOA_LOG_WARN, "destroyed without complete()"));
}

TEST_F(Misbehave, PendingWithoutDeferIsTurnedIntoFailed) {
  EXPECT_EQ(run("pending_without_defer").handler_return, SPOA_FAILED);
  EXPECT_TRUE(host.logged(SPOA_LOG_ERROR, "returned pending without Reply::defer()"));
}

TEST_F(Misbehave, BadReturnReturnsFortyTwoWhichCountsAsFailed) {
  const auto r = run("bad_return");
  EXPECT_EQ(r.handler_return, 42);
  EXPECT_EQ(r.outcome(), SPOA_FAILED);
}

TEST_F(Misbehave, BadCompleteCompletesWithFortyTwoWhichCountsAsFailed) {
  const auto r = run("bad_complete");
  EXPECT_EQ(r.handler_return, SPOA_PENDING);
  EXPECT_EQ(r.completion_value, 42);
  EXPECT_EQ(r.completion, SPOA_FAILED);
  EXPECT_EQ(r.outcome(), SPOA_FAILED);  // so txn.before_bad_complete never reaches HAProxy
  EXPECT_EQ(r.actions, std::vector<Action>{txn("before_bad_complete", V::boolean(true))});
  EXPECT_TRUE(host.logged(SPOA_LOG_INFO, "bad_complete: complete(42) returned ok"));
}

TEST_F(Misbehave, BadScopeIsRefusedInvalidArgument) {
  const auto r = run("bad_scope");
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_TRUE(refused(r, "set_var bad_low", SPOA_ERR_INVALID_ARGUMENT));
  EXPECT_TRUE(refused(r, "set_var bad_high", SPOA_ERR_INVALID_ARGUMENT));
  EXPECT_EQ(r.actions, std::vector<Action>{txn("bad_scope_refused", V::boolean(true))});
}

TEST(MisbehaveMessages, ClaimedModeAnswersWithTheInstancesMessages) {
  FakeHost host;
  host.load(SPOA_TEST_PLUGIN_MISBEHAVE);
  ASSERT_FALSE(host.init({}, {"misbehave", "other"}));
  EXPECT_EQ(host.registered_messages(), (std::vector<std::string>{"misbehave", "other"}));
  const auto r = host.request(host.call("other", {{"mode", V::string("claimed")}}));
  EXPECT_EQ(r.actions, (std::vector<Action>{txn("claimed", V::string("misbehave,other")),
                                            txn("message", V::string("other"))}));
}

TEST(MisbehaveMessages, MessagesKeyNarrowsTheInstancesMessages) {
  FakeHost host;
  host.load(SPOA_TEST_PLUGIN_MISBEHAVE);
  ASSERT_FALSE(host.init({{"messages", "other"}}, {"misbehave", "other"}));
  EXPECT_EQ(host.registered_messages(), std::vector<std::string>{"other"});
  EXPECT_EQ(host.call_and_return("other", {{"mode", V::string("bad_return")}}), 42);
}

TEST_F(Misbehave, DoubleCompleteIsRefusedTheSecondTime) {
  const uint64_t id = call("double_complete");
  ASSERT_TRUE(host.wait_finished(id, slack));
  ASSERT_TRUE(eventually_logged(SPOA_LOG_INFO,
                                "first complete() returned ok, second returned not allowed"));
  const auto r = host.request(id);
  EXPECT_EQ(r.handler_return, SPOA_PENDING);
  EXPECT_EQ(r.complete_calls, 2);
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_TRUE(refused(r, "complete", SPOA_ERR_NOT_ALLOWED));
}

TEST_F(Misbehave, NeverCompleteStaysPendingAndShutdownIsClean) {
  const uint64_t id = call("never_complete");
  EXPECT_FALSE(host.wait_finished(id, 100ms));
  EXPECT_EQ(host.request(id).state, RequestState::pending);
  host.shutdown();
  EXPECT_TRUE(host.violations().empty());
}

TEST_F(Misbehave, CompleteInlineFinishesBeforeTheHandlerReturnsPending) {
  const auto r = run("complete_inline");
  EXPECT_EQ(r.handler_return, SPOA_PENDING);
  EXPECT_TRUE(r.completed_before_return);
  EXPECT_EQ(r.state, RequestState::finished);
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_EQ(r.actions, std::vector<Action>{txn("inline", V::boolean(true))});
}

TEST_F(Misbehave, SetVarAfterCompleteIsRefusedNotAllowed) {
  const auto r = run("set_after_complete");
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_TRUE(r.actions.empty());
  EXPECT_TRUE(refused(r, "set_var after_complete", SPOA_ERR_NOT_ALLOWED));
  EXPECT_TRUE(host.logged(SPOA_LOG_INFO, "set_var after complete() returned not allowed"));
}

TEST_F(Misbehave, BigVariableIsRefusedTooBigAndTheRefusalRecorded) {
  const auto r = run("big");
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_TRUE(refused(r, "set_var big", SPOA_ERR_TOO_BIG));
  EXPECT_EQ(r.actions, std::vector<Action>{txn("too_big_refused", V::boolean(true))});
}

TEST_F(Misbehave, SlowCompletesFromAThreadAfterDelayMs) {
  const uint64_t id = call("slow", {{"delay_ms", V::int64(50)}, {"tag", V::string("s")}});
  EXPECT_EQ(host.request(id).handler_return, SPOA_PENDING);
  ASSERT_TRUE(host.wait_finished(id, 50ms + slack));
  const auto r = host.request(id);
  EXPECT_GE(r.finished_at - r.called_at, 50ms);
  EXPECT_EQ(r.actions,
            (std::vector<Action>{txn("delay_ms", V::int64(50)), txn("tag", V::string("s"))}));
}

TEST_F(Misbehave, SlowRequestsStillWaitingAtShutdownCompleteFailed) {
  const uint64_t id = call("slow", {{"delay_ms", V::int64(60000)}});
  host.shutdown();
  const auto r = host.request(id);
  EXPECT_EQ(r.completion, SPOA_FAILED);
  EXPECT_TRUE(host.violations().empty());
}

TEST_F(Misbehave, UnknownModeFails) {
  EXPECT_EQ(run("levitate").handler_return, SPOA_FAILED);
  EXPECT_TRUE(host.logged(SPOA_LOG_WARN, "unknown mode 'levitate'"));
}

}  // namespace
