// The CrowdSec stream and the decision store. The JSON bodies are shaped like what
// crowdsec 1.4.6 (Debian 12) answered on loopback while this was written.
#include <gtest/gtest.h>

#include "crowdsec/decision_stream.hpp"

namespace spoa::iprep::crowdsec {
namespace {

using namespace std::chrono_literals;
IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}
const Clock::time_point t0 = Clock::time_point(std::chrono::seconds(1'800'000'000));

std::string decision(int id, const char* type, const char* scope, const char* value,
                     const char* duration = "3h59m59.2s") {
  return std::string("{\"duration\":\"") + duration + "\",\"id\":" + std::to_string(id) +
         ",\"origin\":\"cscli\",\"scenario\":\"manual '" + type + "' from 'tester'\",\"scope\":\"" +
         scope + "\",\"type\":\"" + type + "\",\"value\":\"" + value + "\"}";
}

bool matches(const DecisionStore& s, const char* address, Clock::time_point now = t0) {
  return s.build(now)->lookup(ip(address), now).has_value();
}

TEST(GoDuration, ParsesWhatLapiSends) {
  EXPECT_EQ(parse_go_duration("59m58.205810512s"), std::chrono::nanoseconds(3598205810512));
  EXPECT_EQ(parse_go_duration("-19.430672ms"), std::chrono::nanoseconds(-19430672));
  EXPECT_EQ(parse_go_duration("3h"), std::chrono::nanoseconds(10800000000000));
  EXPECT_EQ(parse_go_duration("0s"), std::chrono::nanoseconds(0));
  EXPECT_EQ(parse_go_duration("1h2m3s4ms5us6ns"), std::chrono::nanoseconds(3723004005006));
  EXPECT_FALSE(parse_go_duration(""));
  EXPECT_FALSE(parse_go_duration("5"));
  EXPECT_FALSE(parse_go_duration("5d"));
  EXPECT_FALSE(parse_go_duration("1..2s"));
}

TEST(DecisionStream, ParsesNewAndDeletedAndNulls) {
  const auto empty = parse_stream(R"({"deleted":null,"new":null})", t0);
  EXPECT_TRUE(empty.added.empty());
  EXPECT_TRUE(empty.deleted.empty());
  const auto u =
      parse_stream("{\"deleted\":[" + decision(1, "ban", "Ip", "192.0.2.5", "-19ms") +
                       "],\"new\":[" + decision(2, "captcha", "Range", "198.51.100.0/24") + "," +
                       decision(3, "ban", "Country", "FR") + "]}",
                   t0);
  ASSERT_EQ(u.added.size(), 1u);
  EXPECT_EQ(u.added[0].id, 2);
  EXPECT_EQ(u.added[0].prefix->to_string(), "198.51.100.0/24");
  EXPECT_EQ(u.added[0].expires, t0 + 3h + 59min + 59s + 200ms);
  ASSERT_EQ(u.deleted.size(), 1u);
  EXPECT_EQ(u.skipped, 1u);  // the country decision
}

TEST(DecisionStream, RefusesWhatIsNotAStream) {
  EXPECT_THROW(parse_stream("<html>", t0), std::runtime_error);
  EXPECT_THROW(parse_stream("[]", t0), std::runtime_error);
  EXPECT_THROW(parse_stream(R"({"new":{}})", t0), std::runtime_error);
  EXPECT_THROW(parse_stream(R"({"new":[{"id":1,"type":5}]})", t0), std::runtime_error);
}

// cs-haproxy-spoa-bouncer #152: a ban kept being enforced long after `cscli decisions
// delete`. Here the deletion in the next pull removes it.
TEST(DecisionStore, DeletedDecisionStopsMatchingAtTheNextPull_Bouncer152) {
  DecisionStore store;
  store.replace(parse_stream(R"({"new":null,"deleted":null})", t0));
  store.apply(parse_stream("{\"new\":[" + decision(1, "ban", "Ip", "192.168.1.111") + "]}", t0));
  EXPECT_TRUE(matches(store, "192.168.1.111"));
  store.apply(parse_stream(
      "{\"deleted\":[" + decision(1, "ban", "Ip", "192.168.1.111", "-1.5s") + "],\"new\":null}",
      t0));
  EXPECT_FALSE(matches(store, "192.168.1.111"));
  EXPECT_EQ(store.size(), 0u);
}

TEST(DecisionStore, DeletingOneOfTwoDecisionsForAnAddressKeepsTheOther) {
  DecisionStore store;
  store.apply(parse_stream("{\"new\":[" + decision(1, "ban", "Ip", "192.0.2.5") + "," +
                               decision(2, "captcha", "Ip", "192.0.2.5") + "]}",
                           t0));
  auto built = store.build(t0);  // the match points into it
  auto m = built->lookup(ip("192.0.2.5"), t0);
  EXPECT_EQ(m->attributes->action, "ban");  // ban wins over captcha
  store.apply(parse_stream("{\"deleted\":[" + decision(1, "ban", "Ip", "192.0.2.5") + "]}", t0));
  built = store.build(t0);
  m = built->lookup(ip("192.0.2.5"), t0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->attributes->action, "captcha");
}

TEST(DecisionStore, DeletionOfAnUnknownIdMatchesByValueAndType) {
  DecisionStore store;
  store.apply(parse_stream("{\"new\":[" + decision(1, "ban", "Ip", "192.0.2.5") + "]}", t0));
  store.apply(parse_stream("{\"deleted\":[" + decision(99, "ban", "Ip", "192.0.2.5") + "]}", t0));
  EXPECT_FALSE(matches(store, "192.0.2.5"));
}

TEST(DecisionStore, ReplacedBanInOnePullStays) {
  DecisionStore store;
  store.apply(parse_stream("{\"new\":[" + decision(1, "ban", "Ip", "192.0.2.5") + "]}", t0));
  store.apply(parse_stream("{\"deleted\":[" + decision(1, "ban", "Ip", "192.0.2.5") +
                               "],\"new\":[" + decision(2, "ban", "Ip", "192.0.2.5") + "]}",
                           t0));
  EXPECT_TRUE(matches(store, "192.0.2.5"));
}

TEST(DecisionStore, RangesIpv6AndExpiry) {
  DecisionStore store;
  store.apply(parse_stream("{\"new\":[" + decision(1, "ban", "Range", "198.51.100.0/24", "10s") +
                               "," + decision(2, "ban", "Ip", "2001:db8::5", "1h") + "]}",
                           t0));
  EXPECT_TRUE(matches(store, "198.51.100.77"));
  EXPECT_TRUE(matches(store, "::ffff:198.51.100.77"));
  EXPECT_TRUE(matches(store, "2001:db8::5"));
  // The table built before the expiry stops matching at the expiry by itself.
  const auto table = store.build(t0);
  EXPECT_FALSE(table->lookup(ip("198.51.100.77"), t0 + 10s).has_value());
  store.expire(t0 + 10s);
  EXPECT_EQ(store.size(), 1u);
}

TEST(DecisionStore, OnlyTheConfiguredTypes) {
  DecisionStore store({"ban"});
  store.apply(parse_stream("{\"new\":[" + decision(1, "captcha", "Ip", "192.0.2.5") + "," +
                               decision(2, "ban", "Ip", "192.0.2.6") + "]}",
                           t0));
  EXPECT_FALSE(matches(store, "192.0.2.5"));
  EXPECT_TRUE(matches(store, "192.0.2.6"));
}

TEST(DecisionStore, StartupReplacesEverything) {
  DecisionStore store;
  store.apply(parse_stream("{\"new\":[" + decision(1, "ban", "Ip", "192.0.2.5") + "]}", t0));
  store.replace(parse_stream("{\"new\":[" + decision(2, "ban", "Ip", "192.0.2.6") + "]}", t0));
  EXPECT_FALSE(matches(store, "192.0.2.5"));
  EXPECT_TRUE(matches(store, "192.0.2.6"));
}

}  // namespace
}  // namespace spoa::iprep::crowdsec
