// iprep.so in the fake host: what a message with a client address gets back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fake_host.hpp"

namespace {

namespace fs = std::filesystem;
using spoa::testing::Action;
using spoa::testing::FakeHost;
using spoa::testing::set_var;
using V = spoa::testing::TypedValue;
using Config = std::vector<std::pair<std::string, std::string>>;

struct IprepPlugin : ::testing::Test {
  fs::path dir;
  FakeHost host;
  bool started = false;

  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("spoa-iprep-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
    write("block.netset", "# test list\n192.0.2.0/24\n198.51.100.7\n2001:db8::/32\n");
    write("allow.txt", "192.0.2.10\n");
    write("scores.csv", "network,label,score\n203.0.113.0/24,scanner,80\n");
  }
  void TearDown() override {
    if (started) host.shutdown();
    fs::remove_all(dir);
  }
  void write(const std::string& name, const std::string& content) {
    const fs::path tmp = dir / (name + ".tmp");
    std::ofstream(tmp) << content;
    fs::rename(tmp, dir / name);
  }
  Config base() const {
    return {{"sources.block.type", "netset"},
            {"sources.block.path", (dir / "block.netset").string()},
            {"sources.office.type", "list"},
            {"sources.office.path", (dir / "allow.txt").string()},
            {"sources.office.action", "allow"},
            {"sources.scores.type", "csv"},
            {"sources.scores.path", (dir / "scores.csv").string()},
            {"sources.scores.action", "tarpit"},
            {"reload_interval", "20ms"}};
  }
  void start(Config config) {
    host.load(SPOA_PLUGIN_IPREP);
    const auto error = host.init(config, {"iprep"});
    ASSERT_FALSE(error) << *error;
    started = true;
  }
  std::vector<Action> ask(std::vector<spoa::testing::TestArg> args) {
    const auto id = host.call("iprep", args);
    const auto r = host.request(id);
    EXPECT_EQ(r.outcome(), SPOA_DONE);
    return r.actions;
  }
  static const Action* find(const std::vector<Action>& actions, const std::string& name) {
    for (const Action& a : actions)
      if (a.name == name) return &a;
    return nullptr;
  }
};

TEST_F(IprepPlugin, ListedAddressGetsEveryAnswerVariable) {
  start(base());
  const auto actions = ask({{"src", V::ipv4("192.0.2.5")}});
  const std::vector<Action> want = {set_var(SPOA_SCOPE_TXN, "client_ip", V::ipv4("192.0.2.5")),
                                    set_var(SPOA_SCOPE_TXN, "listed", V::boolean(true)),
                                    set_var(SPOA_SCOPE_TXN, "action", V::string("deny")),
                                    set_var(SPOA_SCOPE_TXN, "source", V::string("block")),
                                    set_var(SPOA_SCOPE_TXN, "label", V::string("block")),
                                    set_var(SPOA_SCOPE_TXN, "prefix", V::string("192.0.2.0/24"))};
  EXPECT_EQ(actions, want);
}

TEST_F(IprepPlugin, AllowlistedAndCleanAddresses) {
  start(base());
  auto a = ask({{"src", V::ipv4("192.0.2.10")}});
  EXPECT_EQ(find(a, "listed")->value, V::boolean(false));
  EXPECT_EQ(find(a, "action")->value, V::string("allow"));
  EXPECT_EQ(find(a, "source")->value, V::string("office"));
  a = ask({{"src", V::ipv4("10.0.0.1")}});
  EXPECT_EQ(a, (std::vector<Action>{set_var(SPOA_SCOPE_TXN, "client_ip", V::ipv4("10.0.0.1")),
                                    set_var(SPOA_SCOPE_TXN, "listed", V::boolean(false))}));
}

TEST_F(IprepPlugin, CsvScoreAndCustomAction) {
  start(base());
  const auto a = ask({{"src", V::ipv4("203.0.113.9")}});
  EXPECT_EQ(find(a, "action")->value, V::string("tarpit"));
  EXPECT_EQ(find(a, "label")->value, V::string("scanner"));
  EXPECT_EQ(find(a, "score")->value, V::int32(80));
}

TEST_F(IprepPlugin, Ipv6AndMappedAndStringAddresses) {
  start(base());
  EXPECT_EQ(find(ask({{"src", V::ipv6("2001:db8::1")}}), "listed")->value, V::boolean(true));
  const auto mapped = ask({{"src", V::ipv6("::ffff:198.51.100.7")}});
  EXPECT_EQ(find(mapped, "listed")->value, V::boolean(true));
  EXPECT_EQ(find(mapped, "client_ip")->value, V::ipv4("198.51.100.7"));
  EXPECT_EQ(find(ask({{"src", V::string("198.51.100.7")}}), "listed")->value, V::boolean(true));
}

TEST_F(IprepPlugin, ForwardedAddressFromATrustedProxyIsJudged) {
  Config c = base();
  c.push_back({"forwarded_header", "x-forwarded-for"});
  c.push_back({"trusted_proxies", "127.0.0.0/8"});
  start(c);
  auto a = ask({{"src", V::ipv4("127.0.0.2")}, {"xff", V::string("198.51.100.7")}});
  EXPECT_EQ(find(a, "client_ip")->value, V::ipv4("198.51.100.7"));
  EXPECT_EQ(find(a, "listed")->value, V::boolean(true));
  // The same header from an untrusted peer is ignored.
  a = ask({{"src", V::ipv4("10.0.0.1")}, {"xff", V::string("198.51.100.7")}});
  EXPECT_EQ(find(a, "client_ip")->value, V::ipv4("10.0.0.1"));
  EXPECT_EQ(find(a, "listed")->value, V::boolean(false));
}

TEST_F(IprepPlugin, NoAddressNoAnswer) {
  start(base());
  EXPECT_TRUE(ask({{"path", V::string("/")}}).empty());
  EXPECT_TRUE(ask({{"src", V::int32(5)}}).empty());
}

TEST_F(IprepPlugin, BrokenListAtStartFailsInitWithFileAndLine) {
  write("block.netset", "192.0.2.0/24\nnonsense\n");
  host.load(SPOA_PLUGIN_IPREP);
  const auto error = host.init(base(), {"iprep"});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find((dir / "block.netset").string() + ":2: 'nonsense' is not an IP"),
            std::string::npos)
      << *error;
}

TEST_F(IprepPlugin, ReplacedListChangesAnswersAndBrokenOneKeepsTheOld) {
  start(base());
  const auto listed = [&](const char* a) {
    return find(ask({{"src", V::ipv4(a)}}), "listed")->value == V::boolean(true);
  };
  ASSERT_TRUE(listed("192.0.2.5"));
  write("block.netset", "203.0.113.200\n");
  // Waits for the reload to show (generous bound), not for a time margin.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (listed("192.0.2.5") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_FALSE(listed("192.0.2.5"));
  EXPECT_TRUE(listed("203.0.113.200"));

  write("block.netset", "192.0.2.0/24\n300.1.1.1\n");
  const std::string want = (dir / "block.netset").string() + ":2: '300.1.1.1'";
  while (!host.logged(SPOA_LOG_ERROR, want) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(host.logged(SPOA_LOG_ERROR, want));
  EXPECT_TRUE(host.logged(SPOA_LOG_ERROR, "keeping the version loaded last"));
  EXPECT_FALSE(listed("192.0.2.5"));
  EXPECT_TRUE(listed("203.0.113.200"));
}

TEST_F(IprepPlugin, ConfigErrorsFailInit) {
  host.load(SPOA_PLUGIN_IPREP);
  const auto error = host.init({{"sources.x.type", "list"}}, {"iprep"});
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "config key 'sources.x.path': missing (the list file)");
}

}  // namespace
