// DecisionFeed with a scripted local API (the real one is in tests/e2e): which requests it
// makes, and what it serves after successes and failures.
#include <gtest/gtest.h>

#include <deque>
#include <stdexcept>

#include "crowdsec/decision_feed.hpp"

namespace spoa::iprep::crowdsec {
namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

struct ScriptedLapi {
  std::deque<std::string> answers;  // "!" + text: throw that
  std::vector<std::string> targets;
  std::string operator()(const std::string& target) {
    targets.push_back(target);
    if (answers.empty()) return R"({"new":null,"deleted":null})";
    std::string a = answers.front();
    answers.pop_front();
    if (!a.empty() && a[0] == '!') throw std::runtime_error(a.substr(1));
    return a;
  }
};

struct Feed : ::testing::Test {
  ScriptedLapi lapi;
  std::shared_ptr<support::Snapshot<SourceData>> out =
      std::make_shared<support::Snapshot<SourceData>>();
  std::shared_ptr<support::SourceHealth> health = std::make_shared<support::SourceHealth>("cs");
  std::vector<std::string> log;
  Clock::time_point now = Clock::time_point(std::chrono::seconds(1'800'000'000));
  DecisionFeed feed{"cs",
                    {},
                    [this](const std::string& t) { return lapi(t); },
                    out,
                    health,
                    [this](support::Severity, const std::string& s) { log.push_back(s); },
                    [this] { return now; }};

  bool banned(const char* address) { return out->get()->lookup(ip(address), now).has_value(); }
};

const char* kBan =
    R"({"new":[{"duration":"1h","id":1,"origin":"cscli","scenario":"s","scope":"Ip","type":"ban","value":"192.0.2.5"}],"deleted":null})";
const char* kUnban =
    R"({"new":null,"deleted":[{"duration":"-1s","id":1,"origin":"cscli","scenario":"s","scope":"Ip","type":"ban","value":"192.0.2.5"}]})";

TEST_F(Feed, StartupPullThenDeltas) {
  lapi.answers = {R"({"new":null,"deleted":null})", kBan, kUnban};
  EXPECT_TRUE(feed.pull());
  EXPECT_FALSE(banned("192.0.2.5"));
  EXPECT_TRUE(feed.pull());
  EXPECT_TRUE(banned("192.0.2.5"));
  EXPECT_TRUE(feed.pull());
  EXPECT_FALSE(banned("192.0.2.5"));
  ASSERT_EQ(lapi.targets.size(), 3u);
  EXPECT_EQ(lapi.targets[0], "v1/decisions/stream?startup=true&scopes=ip,range");
  EXPECT_EQ(lapi.targets[1], "v1/decisions/stream?startup=false&scopes=ip,range");
  EXPECT_EQ(health->view().loads_ok, 3u);
}

TEST_F(Feed, FailureKeepsDecisionsAndTheNextPullStartsOver) {
  lapi.answers = {kBan, "!connect failed", "<html>oops"};
  EXPECT_TRUE(feed.pull());
  EXPECT_TRUE(banned("192.0.2.5"));
  EXPECT_FALSE(feed.pull());
  EXPECT_TRUE(banned("192.0.2.5"));
  EXPECT_FALSE(health->view().last_ok);
  EXPECT_NE(health->view().last_error.find("connect failed"), std::string::npos);
  EXPECT_FALSE(feed.pull());  // not JSON: also a failure
  EXPECT_TRUE(banned("192.0.2.5"));
  EXPECT_TRUE(feed.pull());  // startup again: an empty active set
  EXPECT_FALSE(banned("192.0.2.5"));
  EXPECT_EQ(lapi.targets[1], "v1/decisions/stream?startup=false&scopes=ip,range");
  EXPECT_EQ(lapi.targets[2], "v1/decisions/stream?startup=true&scopes=ip,range");
  EXPECT_EQ(lapi.targets[3], "v1/decisions/stream?startup=true&scopes=ip,range");
}

TEST_F(Feed, DecisionsExpireEvenWhileTheApiIsDown) {
  lapi.answers = {kBan, "!down"};
  EXPECT_TRUE(feed.pull());
  now += std::chrono::hours(2);
  EXPECT_FALSE(feed.pull());
  EXPECT_FALSE(banned("192.0.2.5"));
}

}  // namespace
}  // namespace spoa::iprep::crowdsec
