#include <gtest/gtest.h>

#include "spoa/support/ip_address.hpp"

namespace spoa::support {
namespace {

TEST(IpAddress, ParsesIpv4AndIpv6) {
  auto a = IpAddress::parse("192.0.2.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4_value(), 0xc0000201u);
  auto b = IpAddress::parse("2001:db8::1");
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->is_v6());
  EXPECT_EQ(b->to_string(), "2001:db8::1");
}

// The integer view is big-endian: the first byte is the top byte of the value.
TEST(IpAddress, Ipv6IntegerViewIsBigEndian) {
  const uint128 value = (uint128{0x20010db800010002u} << 64) | 0x0003000400050607u;
  const auto a = IpAddress::v6(value);
  EXPECT_EQ(a.to_string(), "2001:db8:1:2:3:4:5:607");
  EXPECT_EQ(a.v6_value(), value);
  EXPECT_EQ(a.v6_bytes()[0], 0x20);
  EXPECT_EQ(a.v6_bytes()[15], 0x07);
  EXPECT_EQ(Prefix::of(a, 80).to_string(), "2001:db8:1:2:3::/80");
  EXPECT_EQ(Prefix::of(a, 120).to_string(), "2001:db8:1:2:3:4:5:600/120");
}

TEST(IpAddress, FoldsIpv4MappedIpv6IntoIpv4) {
  auto a = IpAddress::parse("::ffff:192.0.2.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(*a, *IpAddress::parse("192.0.2.1"));
  std::array<std::uint8_t, 16> raw{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
  EXPECT_EQ(IpAddress::v6(raw).to_string(), "10.1.2.3");
}

TEST(IpAddress, RefusesWhatIsNotAnAddress) {
  for (const char* text : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "example.com", "1.2.3.4/8",
                           "[::1]", "::1%eth0", " 1.2.3.4"}) {
    EXPECT_FALSE(IpAddress::parse(text)) << text;
  }
}

TEST(Prefix, ParsesNetworksAndBareAddresses) {
  auto p = Prefix::parse("10.0.0.0/8");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 8);
  EXPECT_EQ(p->to_string(), "10.0.0.0/8");
  EXPECT_EQ(Prefix::parse("192.0.2.7")->to_string(), "192.0.2.7/32");
  EXPECT_EQ(Prefix::parse("2001:db8::/32")->to_string(), "2001:db8::/32");
  EXPECT_EQ(Prefix::parse("2001:db8::1")->to_string(), "2001:db8::1/128");
}

TEST(Prefix, ClearsHostBits) {
  EXPECT_EQ(Prefix::parse("10.1.2.3/8")->to_string(), "10.0.0.0/8");
  EXPECT_EQ(Prefix::parse("2001:db8:ffff::1/32")->to_string(), "2001:db8::/32");
  EXPECT_EQ(Prefix::parse("0.0.0.0/0")->to_string(), "0.0.0.0/0");
}

TEST(Prefix, MappedNetworksBecomeIpv4) {
  EXPECT_EQ(Prefix::parse("::ffff:10.0.0.0/104")->to_string(), "10.0.0.0/8");
  EXPECT_EQ(Prefix::parse("::ffff:0:0/96")->to_string(), "0.0.0.0/0");
  // Shorter than /96 it also covers non-mapped addresses: stays IPv6.
  EXPECT_EQ(Prefix::parse("::ffff:0:0/80")->to_string(), "::/80");
}

TEST(Prefix, RefusesBadLengths) {
  for (const char* text : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x",
                           "2001:db8::/129", "/8", "10.0.0.0/0008"}) {
    EXPECT_FALSE(Prefix::parse(text)) << text;
  }
}

TEST(Prefix, Contains) {
  const auto p = *Prefix::parse("10.0.0.0/8");
  EXPECT_TRUE(p.contains(*IpAddress::parse("10.255.0.1")));
  EXPECT_FALSE(p.contains(*IpAddress::parse("11.0.0.1")));
  EXPECT_FALSE(p.contains(*IpAddress::parse("::a00:1")));
  EXPECT_TRUE(p.contains(*IpAddress::parse("::ffff:10.0.0.1")));
  const auto v6 = *Prefix::parse("2001:db8::/32");
  EXPECT_TRUE(v6.contains(*IpAddress::parse("2001:db8:1::5")));
  EXPECT_FALSE(v6.contains(*IpAddress::parse("2001:db9::5")));
}

}  // namespace
}  // namespace spoa::support
