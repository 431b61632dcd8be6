#include <gtest/gtest.h>

#include "list_formats.hpp"
#include "reputation.hpp"

namespace spoa::iprep {
namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

Source source(std::string name, std::string action, const char* list) {
  Source s;
  s.name = name;
  s.action = action;
  s.allowlist = action == "allow";
  s.data->publish(parse_list(list, name, ListFormat::plain, {name, std::nullopt}));
  return s;
}

TEST(Reputation, AllowlistWinsEvenWhenLessSpecific) {
  std::vector<Source> v;
  v.push_back(source("block", "deny", "192.0.2.5\n"));
  v.push_back(source("office", "allow", "192.0.2.0/24\n"));
  const Reputation r(std::move(v));
  const Verdict x = r.judge(ip("192.0.2.5"));
  EXPECT_FALSE(x.listed);
  EXPECT_TRUE(x.allowed);
  EXPECT_EQ(x.action, "allow");
  EXPECT_EQ(x.source->name, "office");
  EXPECT_EQ(x.prefix->to_string(), "192.0.2.0/24");
}

TEST(Reputation, MostSpecificBlockWinsThenName) {
  std::vector<Source> v;
  v.push_back(source("zeta", "deny", "10.0.0.0/8\n"));
  v.push_back(source("alpha", "tarpit", "10.1.0.0/16\n"));
  v.push_back(source("beta", "deny", "10.1.0.0/16\n10.2.0.0/16\n"));
  v.push_back(source("gamma", "deny", "10.2.0.0/16\n"));
  const Reputation r(std::move(v));
  auto x = r.judge(ip("10.1.2.3"));
  EXPECT_TRUE(x.listed);
  EXPECT_EQ(x.source->name, "alpha");
  EXPECT_EQ(x.action, "tarpit");
  x = r.judge(ip("10.9.9.9"));
  EXPECT_EQ(x.source->name, "zeta");
  x = r.judge(ip("10.2.0.1"));
  EXPECT_EQ(x.source->name, "beta");
  x = r.judge(ip("11.0.0.1"));
  EXPECT_FALSE(x.listed);
  EXPECT_EQ(x.source, nullptr);
}

TEST(Reputation, MappedIpv6ClientMatchesIpv4Entries) {
  std::vector<Source> v;
  v.push_back(source("block", "deny", "192.0.2.0/24\n2001:db8::/32\n"));
  const Reputation r(std::move(v));
  EXPECT_TRUE(r.judge(ip("::ffff:192.0.2.1")).listed);
  EXPECT_TRUE(r.judge(ip("2001:db8::1")).listed);
  EXPECT_FALSE(r.judge(ip("2001:db9::1")).listed);
}

TEST(Reputation, ASourceWithNothingLoadedIsSkipped) {
  std::vector<Source> v;
  Source s;
  s.name = "empty";
  v.push_back(std::move(s));
  const Reputation r(std::move(v));
  EXPECT_FALSE(r.judge(ip("192.0.2.1")).listed);
}

}  // namespace
}  // namespace spoa::iprep
