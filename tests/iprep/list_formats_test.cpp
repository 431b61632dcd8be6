#include <gtest/gtest.h>

#include "list_formats.hpp"
#include "spoa/support/parse_error.hpp"

namespace spoa::iprep {
namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}
const auto kNow = std::chrono::system_clock::now();

TEST(ListFormats, NamesOfFormats) {
  EXPECT_EQ(parse_list_format("netset"), ListFormat::plain);
  EXPECT_EQ(parse_list_format("ipset"), ListFormat::plain);
  EXPECT_EQ(parse_list_format("list"), ListFormat::plain);
  EXPECT_EQ(parse_list_format("csv"), ListFormat::csv);
  EXPECT_FALSE(parse_list_format("json"));
}

TEST(ListFormats, FireholNetsetWithCommentsAddressesAndNetworks) {
  const char* text =
      "#\n# firehol_level1\n#\n# Source: ...\n"
      "1.0.0.0/24\n"
      "192.0.2.7\n"
      "2001:db8::/32   # an IPv6 network\n"
      "198.51.100.0/24 ; SBL12345\n";
  const auto d = parse_list(text, "level1.netset", ListFormat::plain, {"firehol", std::nullopt});
  EXPECT_EQ(d->entries, 4u);
  const auto m = d->lookup(ip("1.0.0.200"), kNow);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->attributes->label, "firehol");
  EXPECT_FALSE(m->attributes->has_score);
  EXPECT_EQ(m->prefix.to_string(), "1.0.0.0/24");
  EXPECT_TRUE(d->lookup(ip("192.0.2.7"), kNow));
  EXPECT_FALSE(d->lookup(ip("192.0.2.8"), kNow));
  EXPECT_TRUE(d->lookup(ip("2001:db8:1::1"), kNow));
  EXPECT_TRUE(d->lookup(ip("198.51.100.9"), kNow));
}

TEST(ListFormats, RangesBecomeNetworks) {
  const auto d = parse_list("10.0.0.1-10.0.0.6\n", "r.txt", ListFormat::plain, {"", 5});
  EXPECT_FALSE(d->lookup(ip("10.0.0.0"), kNow));
  EXPECT_TRUE(d->lookup(ip("10.0.0.1"), kNow));
  EXPECT_TRUE(d->lookup(ip("10.0.0.6"), kNow));
  EXPECT_FALSE(d->lookup(ip("10.0.0.7"), kNow));
  EXPECT_EQ(d->lookup(ip("10.0.0.3"), kNow)->attributes->score, 5);
  const auto p = range_to_prefixes("10.0.0.1", "10.0.0.6");
  ASSERT_TRUE(p);
  std::vector<std::string> got;
  for (const auto& x : *p)
    got.push_back(x.to_string());
  EXPECT_EQ(got,
            (std::vector<std::string>{"10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/31", "10.0.0.6/32"}));
  EXPECT_EQ(range_to_prefixes("0.0.0.0", "255.255.255.255")->front().to_string(), "0.0.0.0/0");
  EXPECT_EQ(range_to_prefixes("::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")->size(), 1u);
  EXPECT_FALSE(range_to_prefixes("10.0.0.9", "10.0.0.1"));
  EXPECT_FALSE(range_to_prefixes("10.0.0.1", "2001:db8::1"));
}

TEST(ListFormats, BadLineNamesFileAndLine) {
  try {
    parse_list("10.0.0.0/8\n# ok\n10.0.0.300\n", "/etc/lists/x.netset", ListFormat::plain, {});
    FAIL();
  } catch (const support::ParseError& e) {
    EXPECT_EQ(e.line(), 3u);
    EXPECT_STREQ(e.what(),
                 "/etc/lists/x.netset:3: '10.0.0.300' is not an IP address, network or range");
  }
}

TEST(ListFormats, CsvWithHeaderLabelsAndScores) {
  const char* text =
      "network,label,score\n"
      "192.0.2.0/24,scanner,80\n"
      "\"198.51.100.0/24\",\"tor exit\",40\n"
      "203.0.113.5\n"
      "2001:db8::/48,,10\n";
  const auto d = parse_list(text, "scores.csv", ListFormat::csv, {"default", std::nullopt});
  EXPECT_EQ(d->entries, 4u);
  auto m = d->lookup(ip("192.0.2.10"), kNow);
  EXPECT_EQ(m->attributes->label, "scanner");
  EXPECT_EQ(m->attributes->score, 80);
  m = d->lookup(ip("198.51.100.1"), kNow);
  EXPECT_EQ(m->attributes->label, "tor exit");
  EXPECT_EQ(m->attributes->score, 40);
  m = d->lookup(ip("203.0.113.5"), kNow);
  EXPECT_EQ(m->attributes->label, "default");
  EXPECT_FALSE(m->attributes->has_score);
  m = d->lookup(ip("2001:db8::1"), kNow);
  EXPECT_EQ(m->attributes->label, "default");
  EXPECT_EQ(m->attributes->score, 10);
}

TEST(ListFormats, CsvErrors) {
  EXPECT_THROW(parse_list("192.0.2.0/24,a,1\nnot-a-net,b,2\n", "s.csv", ListFormat::csv, {}),
               support::ParseError);
  try {
    parse_list("192.0.2.0/24,a,high\n", "s.csv", ListFormat::csv, {});
    FAIL();
  } catch (const support::ParseError& e) {
    EXPECT_STREQ(e.what(), "s.csv:1: score 'high' is not a 32-bit integer");
  }
  EXPECT_THROW(parse_list("192.0.2.0/24,a,1,extra\n", "s.csv", ListFormat::csv, {}),
               support::ParseError);
}

}  // namespace
}  // namespace spoa::iprep
