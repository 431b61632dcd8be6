// example-c.so, the plain-C tutorial plugin, against the fake host.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <vector>

#include "fake_host.hpp"
#include "spoa_test_plugins.h"

namespace {

using spoa::testing::Action;
using spoa::testing::FakeHost;
using V = spoa::testing::TypedValue;

const Action greeting = spoa::testing::set_var(SPOA_SCOPE_TXN, "greeting", V::string("hello"));
const Action ip_seen = spoa::testing::set_var(SPOA_SCOPE_TXN, "ip_seen", V::boolean(true));

class ExampleCPlugin : public ::testing::Test {
 protected:
  void start(const std::vector<std::pair<std::string, std::string>>& config = {},
             const std::vector<std::string>& claimed = {"example"}) {
    host.load(SPOA_PLUGIN_EXAMPLE_C);
    const auto error = host.init(config, claimed);
    ASSERT_FALSE(error) << *error;
  }
  FakeHost host;
};

TEST_F(ExampleCPlugin, DescriptorIsExampleCForThisAbi) {
  host.load(SPOA_PLUGIN_EXAMPLE_C);
  EXPECT_STREQ(host.descriptor().name, "example-c");
  EXPECT_EQ(host.descriptor().abi_major, SPOA_ABI_MAJOR);
  // It requires ABI minor 0 (it uses nothing newer), whatever header built it.
  EXPECT_EQ(host.descriptor().abi_minor, 0u);
  EXPECT_EQ(host.descriptor().sdk_minor, static_cast<uint32_t>(SPOA_ABI_MINOR));
}

TEST_F(ExampleCPlugin, GreetsEveryExampleMessage) {
  start();
  const auto r = host.request(host.call("example", {}));
  EXPECT_EQ(r.handler_return, SPOA_DONE);
  EXPECT_EQ(r.actions, std::vector<Action>{greeting});
  EXPECT_TRUE(host.logged(SPOA_LOG_INFO, "example-c started"));
}

TEST_F(ExampleCPlugin, Ipv4ArgumentNamedIpSetsIpSeen) {
  start();
  const auto r = host.request(host.call("example", {{"ip", V::ipv4("10.0.0.1")}}));
  EXPECT_EQ(r.actions, (std::vector<Action>{greeting, ip_seen}));
}

TEST_F(ExampleCPlugin, Ipv6ArgumentNamedIpSetsIpSeen) {
  start();
  const auto r = host.request(
      host.call("example", {{"path", V::string("/")}, {"ip", V::ipv6("2001:db8::1")}}));
  EXPECT_EQ(r.actions, (std::vector<Action>{greeting, ip_seen}));
}

TEST_F(ExampleCPlugin, IpArgumentOfAnotherTypeOrNameDoesNotSetIpSeen) {
  start();
  EXPECT_EQ(host.request(host.call("example", {{"ip", V::string("10.0.0.1")}})).actions,
            std::vector<Action>{greeting});
  EXPECT_EQ(host.request(host.call("example", {{"src", V::ipv4("10.0.0.1")}})).actions,
            std::vector<Action>{greeting});
  EXPECT_EQ(host.request(host.call("example", {{"ip", V::null()}})).actions,
            std::vector<Action>{greeting});
}

TEST_F(ExampleCPlugin, MessagesKeyClaimsEveryListedName) {
  start({{"messages", "first, second"}}, {"first", "second"});
  EXPECT_EQ(host.registered_messages(), (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(host.request(host.call("second", {})).actions, std::vector<Action>{greeting});
}

TEST_F(ExampleCPlugin, UnknownConfigKeyFailsInitNamingTheKey) {
  host.load(SPOA_PLUGIN_EXAMPLE_C);
  const auto error = host.init({{"greeting", "hi"}}, {"example"});
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "unknown config key 'greeting' (known keys: messages)");
}

TEST_F(ExampleCPlugin, WithoutConfigItAnswersEveryMessageTheInstanceIsGiven) {
  start({}, {"first", "second"});
  EXPECT_EQ(host.registered_messages(), (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(host.request(host.call("second", {{"ip", V::ipv4("10.0.0.1")}})).actions,
            (std::vector<Action>{greeting, ip_seen}));
}

TEST_F(ExampleCPlugin, MessagesKeyNarrowsTheInstancesMessages) {
  start({{"messages", " third ,first"}}, {"first", "second", "third"});
  EXPECT_EQ(host.registered_messages(), (std::vector<std::string>{"first", "third"}));
}

TEST_F(ExampleCPlugin, MessagesKeyNamingAMessageTheInstanceIsNotGivenFailsInitNamingIt) {
  host.load(SPOA_PLUGIN_EXAMPLE_C);
  const auto error = host.init({{"messages", "example, other"}}, {"example"});
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "config key 'messages': 'other' is not in this instance's messages list");
  EXPECT_TRUE(host.registered_messages().empty());
}

TEST_F(ExampleCPlugin, EmptyMessagesKeyFailsInit) {
  host.load(SPOA_PLUGIN_EXAMPLE_C);
  const auto error = host.init({{"messages", " , "}}, {"example"});
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "config key 'messages': no message name");
}

TEST_F(ExampleCPlugin, AHostTableWithoutClaimedMessagesFailsInitSayingSo) {
  host.load(SPOA_PLUGIN_EXAMPLE_C);
  host.set_table_size(offsetof(spoa_host_api, claimed_messages));
  const auto error = host.init({}, {"example"});
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "the host does not provide claimed_messages()");
}

TEST_F(ExampleCPlugin, ShutdownFreesTheInstance) {
  start();
  host.call("example", {});
  host.shutdown();
  EXPECT_TRUE(host.violations().empty());
}

}  // namespace
