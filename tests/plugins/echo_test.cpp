// echo.so against the fake host: every SPOP type comes back as the same variable.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "fake_host.hpp"
#include "spoa_test_plugins.h"

namespace {

using spoa::testing::Action;
using spoa::testing::FakeHost;
using spoa::testing::TestArg;
using V = spoa::testing::TypedValue;
using Config = std::vector<std::pair<std::string, std::string>>;

class EchoPlugin : public ::testing::Test {
 protected:
  void start(const Config& config = {}, const std::vector<std::string>& claimed = {"echo"}) {
    host.load(SPOA_PLUGIN_ECHO);
    const auto error = host.init(config, claimed);
    ASSERT_FALSE(error) << *error;
  }
  std::optional<std::string> start_error(const Config& config,
                                         const std::vector<std::string>& claimed = {"echo"}) {
    host.load(SPOA_PLUGIN_ECHO);
    return host.init(config, claimed);
  }
  static std::vector<Action> echoed(spoa_scope scope, const std::vector<TestArg>& args) {
    std::vector<Action> actions;
    for (const TestArg& a : args)
      actions.push_back(spoa::testing::set_var(scope, a.name, a.value));
    return actions;
  }

  FakeHost host;
};

std::vector<TestArg> every_type() {
  using i32 = std::numeric_limits<int32_t>;
  using i64 = std::numeric_limits<int64_t>;
  return {
      {"null", V::null()},
      {"bool_true", V::boolean(true)},
      {"bool_false", V::boolean(false)},
      {"int32_min", V::int32(i32::min())},
      {"int32_max", V::int32(i32::max())},
      {"uint32_max", V::uint32(std::numeric_limits<uint32_t>::max())},
      {"int64_min", V::int64(i64::min())},
      {"int64_max", V::int64(i64::max())},
      {"int64_minus_one", V::int64(-1)},
      {"uint64_zero", V::uint64(0)},
      {"uint64_max", V::uint64(std::numeric_limits<uint64_t>::max())},
      {"ipv4", V::ipv4("192.168.0.1")},
      {"ipv4_any", V::ipv4("0.0.0.0")},
      {"ipv6", V::ipv6("2001:db8::1")},
      {"ipv6_mapped", V::ipv6("::ffff:10.0.0.1")},
      {"string", V::string("hello")},
      {"string_empty", V::string("")},
      {"string_utf8", V::string("h\xc3\xa9llo \"quoted\"")},
      {"binary", V::binary(std::string("\x00\x01\xff\x00", 4))},
      {"binary_all_zero", V::binary(std::string(16, '\0'))},
      {"binary_empty", V::binary("")},
  };
}

TEST_F(EchoPlugin, DescriptorIsEchoForThisAbi) {
  host.load(SPOA_PLUGIN_ECHO);
  EXPECT_STREQ(host.descriptor().name, "echo");
  EXPECT_EQ(host.descriptor().abi_major, SPOA_ABI_MAJOR);
  EXPECT_EQ(host.descriptor().abi_minor, SPOA_ABI_MINOR);
  EXPECT_NE(host.descriptor().shutdown, nullptr);
}

TEST_F(EchoPlugin, EveryNamedArgumentComesBackWithSameNameTypeAndValue) {
  start();
  const auto args = every_type();
  const auto r = host.request(host.call("echo", args));
  EXPECT_EQ(r.handler_return, SPOA_DONE);
  EXPECT_EQ(r.actions, echoed(SPOA_SCOPE_TXN, args));
  EXPECT_TRUE(r.refused.empty());
}

TEST_F(EchoPlugin, UnnamedArgumentsAreSkipped) {
  start();
  const auto r = host.request(
      host.call("echo", {{"", V::string("anonymous")}, {"kept", V::int64(7)}, {"", V::null()}}));
  EXPECT_EQ(r.handler_return, SPOA_DONE);
  EXPECT_EQ(r.actions,
            std::vector<Action>{spoa::testing::set_var(SPOA_SCOPE_TXN, "kept", V::int64(7))});
}

TEST_F(EchoPlugin, IllegalVariableNameIsSkippedWithADebugLine) {
  start();
  const std::string too_long(64, 'a');
  const auto r = host.request(host.call(
      "echo", {{"bad-name", V::int32(1)}, {too_long, V::int32(2)}, {"good.name_1", V::int32(3)}}));
  EXPECT_EQ(r.handler_return, SPOA_DONE);
  EXPECT_EQ(r.actions, std::vector<Action>{
                           spoa::testing::set_var(SPOA_SCOPE_TXN, "good.name_1", V::int32(3))});
  EXPECT_TRUE(host.logged(SPOA_LOG_DEBUG, "'bad-name' is not a legal variable name"));
  EXPECT_TRUE(host.logged(SPOA_LOG_DEBUG, "'" + too_long + "' is not a legal variable name"));
}

TEST_F(EchoPlugin, ArgumentTooBigForTheFrameIsSkippedAndSmallerOnesKept) {
  start();
  host.set_max_actions_size(200);
  const auto r = host.request(host.call(
      "echo",
      {{"a", V::int32(1)}, {"huge", V::string(std::string(300, 'x'))}, {"b", V::int32(2)}}));
  EXPECT_EQ(r.handler_return, SPOA_DONE);
  EXPECT_EQ(r.actions,
            (std::vector<Action>{spoa::testing::set_var(SPOA_SCOPE_TXN, "a", V::int32(1)),
                                 spoa::testing::set_var(SPOA_SCOPE_TXN, "b", V::int32(2))}));
  EXPECT_TRUE(host.logged(SPOA_LOG_WARN, "'huge' does not fit"));
}

TEST_F(EchoPlugin, MessageWithoutArgumentsIsDoneWithNoActions) {
  start();
  const auto r = host.request(host.call("echo", {}));
  EXPECT_EQ(r.handler_return, SPOA_DONE);
  EXPECT_TRUE(r.actions.empty());
}

class EchoScope : public EchoPlugin,
                  public ::testing::WithParamInterface<std::pair<const char*, spoa_scope>> {};

TEST_P(EchoScope, ConfiguredScopeIsUsedForEveryVariable) {
  start({{"scope", GetParam().first}});
  const auto args = every_type();
  const auto r = host.request(host.call("echo", args));
  EXPECT_EQ(r.actions, echoed(GetParam().second, args));
}

INSTANTIATE_TEST_SUITE_P(AllScopes, EchoScope,
                         ::testing::Values(std::make_pair("proc", SPOA_SCOPE_PROC),
                                           std::make_pair("sess", SPOA_SCOPE_SESS),
                                           std::make_pair("txn", SPOA_SCOPE_TXN),
                                           std::make_pair("req", SPOA_SCOPE_REQ),
                                           std::make_pair("res", SPOA_SCOPE_RES)),
                         [](const auto& param_info) {
                           return std::string(param_info.param.first);
                         });

TEST_F(EchoPlugin, UnknownConfigKeyFailsInitNamingTheKey) {
  const auto error = start_error({{"scope", "txn"}, {"scpoe", "req"}});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("unknown config key 'scpoe'"), std::string::npos) << *error;
}

TEST_F(EchoPlugin, BadScopeFailsInitNamingTheValue) {
  const auto error = start_error({{"scope", "request"}});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("'request'"), std::string::npos) << *error;
  EXPECT_NE(error->find("scope"), std::string::npos) << *error;
}

TEST_F(EchoPlugin, MessagesKeyClaimsEveryListedMessage) {
  start({{"messages", "check-ip, check-path"}}, {"check-ip", "check-path"});
  EXPECT_EQ(host.registered_messages(), (std::vector<std::string>{"check-ip", "check-path"}));
  const auto r = host.request(host.call("check-path", {{"path", V::string("/")}}));
  EXPECT_EQ(r.actions,
            (std::vector<Action>{spoa::testing::set_var(SPOA_SCOPE_TXN, "path", V::string("/"))}));
}

TEST_F(EchoPlugin, WithoutAMessagesKeyItAnswersEveryMessageTheInstanceIsGiven) {
  start({}, {"echo", "echo-body"});
  EXPECT_GE(host.claimed_messages_calls(), 1);
  EXPECT_EQ(host.registered_messages(), (std::vector<std::string>{"echo", "echo-body"}));
  const auto r = host.request(host.call("echo-body", {{"body", V::binary("{}")}}));
  EXPECT_EQ(r.handler_return, SPOA_DONE);
  EXPECT_EQ(r.actions,
            (std::vector<Action>{spoa::testing::set_var(SPOA_SCOPE_TXN, "body", V::binary("{}"))}));
}

TEST_F(EchoPlugin, AnyMessageNameWorksWithoutAMessagesKey) {
  start({{"scope", "req"}}, {"check-ip"});
  EXPECT_EQ(host.registered_messages(), std::vector<std::string>{"check-ip"});
  EXPECT_EQ(
      host.request(host.call("check-ip", {{"ip", V::ipv4("10.0.0.1")}})).actions,
      (std::vector<Action>{spoa::testing::set_var(SPOA_SCOPE_REQ, "ip", V::ipv4("10.0.0.1"))}));
}

TEST_F(EchoPlugin, MessagesKeyNarrowsTheInstancesMessages) {
  start({{"messages", "a, c"}}, {"a", "b", "c"});
  EXPECT_EQ(host.registered_messages(), (std::vector<std::string>{"a", "c"}));
}

TEST_F(EchoPlugin, MessagesKeyNamingAMessageTheInstanceIsNotGivenFailsInitNamingIt) {
  const auto error = start_error({{"messages", "echo, typo"}}, {"echo", "other"});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("'typo'"), std::string::npos) << *error;
  EXPECT_NE(error->find("(it has: echo, other)"), std::string::npos) << *error;
}

TEST_F(EchoPlugin, EmptyMessagesKeyFailsInit) {
  const auto error = start_error({{"messages", ""}});
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "config key 'messages': no message name");
}

TEST_F(EchoPlugin, HandlesConcurrentCallsFromManyThreads) {
  start();
  constexpr int threads = 8;
  constexpr int calls = 100;
  std::vector<std::thread> workers;
  std::vector<std::vector<uint64_t>> ids(threads);
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < calls; ++i)
        ids[t].push_back(host.call("echo", {{"thread", V::int32(t)}, {"call", V::int32(i)}}));
    });
  }
  for (auto& w : workers)
    w.join();
  for (int t = 0; t < threads; ++t) {
    for (int i = 0; i < calls; ++i) {
      const auto r = host.request(ids[t][static_cast<size_t>(i)]);
      ASSERT_EQ(r.actions,
                (std::vector<Action>{spoa::testing::set_var(SPOA_SCOPE_TXN, "thread", V::int32(t)),
                                     spoa::testing::set_var(SPOA_SCOPE_TXN, "call", V::int32(i))}));
    }
  }
}

TEST_F(EchoPlugin, ShutdownLeavesNothingBehind) {
  start();
  host.call("echo", {{"a", V::int32(1)}});
  host.shutdown();
  EXPECT_TRUE(host.violations().empty());
}

}  // namespace
