#include <gtest/gtest.h>

#include "spoa/support/client_address.hpp"

namespace spoa::support {
namespace {

IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

ClientAddressPolicy xff_policy(std::size_t hop_limit = 5) {
  ClientAddressPolicy p;
  p.header = ForwardedHeader::x_forwarded_for;
  p.trusted_proxies = NetworkList::parse({"10.0.0.0/8", "2001:db8:ff::/48"});
  p.hop_limit = hop_limit;
  return p;
}

TEST(ClientAddress, WithoutHeaderPolicyTheSourceIsJudged) {
  ClientAddressPolicy p;
  auto r = resolve_client_address(p, ip("192.0.2.1"), {"198.51.100.7"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->address, ip("192.0.2.1"));
  EXPECT_EQ(r->hops, 0u);
}

TEST(ClientAddress, AnUntrustedPeerCannotSpeakForAClient) {
  auto r = resolve_client_address(xff_policy(), ip("192.0.2.1"), {"198.51.100.7"});
  EXPECT_EQ(r->address, ip("192.0.2.1"));
  EXPECT_EQ(r->hops, 0u);
}

TEST(ClientAddress, TrustedPeerForwardsTheClient) {
  auto r = resolve_client_address(xff_policy(), ip("10.0.0.2"), {"198.51.100.7"});
  EXPECT_EQ(r->address, ip("198.51.100.7"));
  EXPECT_EQ(r->hops, 1u);
}

TEST(ClientAddress, WalksRightToLeftAcrossTrustedProxiesOnly) {
  // The client forged "203.0.113.9" at the left; the walk stops at the first untrusted hop.
  auto r =
      resolve_client_address(xff_policy(), ip("10.0.0.2"), {"203.0.113.9, 198.51.100.7, 10.1.1.1"});
  EXPECT_EQ(r->address, ip("198.51.100.7"));
  EXPECT_EQ(r->hops, 2u);
}

TEST(ClientAddress, SeveralHeaderLinesAreOneList) {
  auto r = resolve_client_address(xff_policy(), ip("10.0.0.2"), {"198.51.100.7", "10.1.1.1"});
  EXPECT_EQ(r->address, ip("198.51.100.7"));
}

TEST(ClientAddress, AllTrustedTakesTheLeftmost) {
  auto r = resolve_client_address(xff_policy(), ip("10.0.0.2"), {"10.3.3.3, 10.1.1.1"});
  EXPECT_EQ(r->address, ip("10.3.3.3"));
  EXPECT_EQ(r->hops, 2u);
}

TEST(ClientAddress, HopLimitStopsTheWalk) {
  auto r = resolve_client_address(xff_policy(2), ip("10.0.0.2"),
                                  {"198.51.100.7, 10.3.3.3, 10.2.2.2, 10.1.1.1"});
  EXPECT_EQ(r->address, ip("10.2.2.2"));
  EXPECT_EQ(r->hops, 2u);
}

TEST(ClientAddress, GarbageStopsAtTheLastTrustedHop) {
  auto r = resolve_client_address(xff_policy(), ip("10.0.0.2"), {"198.51.100.7, nonsense"});
  EXPECT_EQ(r->address, ip("10.0.0.2"));
  EXPECT_TRUE(r->header_unusable);
}

TEST(ClientAddress, PortsBracketsAndMappedAddressesInXff) {
  auto r = resolve_client_address(xff_policy(), ip("10.0.0.2"), {"[2001:db8::5]:443"});
  EXPECT_EQ(r->address, ip("2001:db8::5"));
  EXPECT_EQ(*parse_xff_entry("198.51.100.7:8080"), ip("198.51.100.7"));
  EXPECT_EQ(*parse_xff_entry("2001:db8::5"), ip("2001:db8::5"));
  EXPECT_EQ(*parse_xff_entry("::ffff:198.51.100.7"), ip("198.51.100.7"));
  // A mapped peer is the IPv4 peer: trusted through the IPv4 network.
  auto m = resolve_client_address(xff_policy(), ip("::ffff:10.0.0.2"), {"198.51.100.7"});
  EXPECT_EQ(m->address, ip("198.51.100.7"));
}

TEST(ClientAddress, IPv6TrustedProxy) {
  auto r = resolve_client_address(xff_policy(), ip("2001:db8:ff::1"), {"2001:db8::5"});
  EXPECT_EQ(r->address, ip("2001:db8::5"));
}

TEST(ClientAddress, ForwardedHeader) {
  ClientAddressPolicy p = xff_policy();
  p.header = ForwardedHeader::forwarded;
  auto r = resolve_client_address(
      p, ip("10.0.0.2"),
      {"for=203.0.113.9, for=\"[2001:db8::17]:4711\";proto=https, For=10.1.1.1;by=10.0.0.2"});
  EXPECT_EQ(r->address, ip("2001:db8::17"));
  EXPECT_EQ(r->hops, 2u);
  EXPECT_FALSE(parse_forwarded_element("for=unknown"));
  EXPECT_FALSE(parse_forwarded_element("for=_hidden"));
  EXPECT_FALSE(parse_forwarded_element("proto=https"));
  EXPECT_EQ(*parse_forwarded_element("proto=http; for=192.0.2.60:80"), ip("192.0.2.60"));
}

TEST(ClientAddress, HeaderAloneWhenNoSourceIsSent) {
  auto r = resolve_client_address(xff_policy(), std::nullopt, {"198.51.100.7, 10.1.1.1"});
  EXPECT_EQ(r->address, ip("198.51.100.7"));
  EXPECT_FALSE(resolve_client_address(xff_policy(), std::nullopt, {}));
}

TEST(ClientAddress, HeaderNamesAndNetworkErrors) {
  EXPECT_EQ(parse_forwarded_header("X-Forwarded-For"), ForwardedHeader::x_forwarded_for);
  EXPECT_EQ(parse_forwarded_header("forwarded"), ForwardedHeader::forwarded);
  EXPECT_EQ(parse_forwarded_header("none"), ForwardedHeader::none);
  EXPECT_FALSE(parse_forwarded_header("x-real-ip"));
  EXPECT_THROW(NetworkList::parse({"10.0.0.0/8", "10.0.0.0/40"}), std::invalid_argument);
}

}  // namespace
}  // namespace spoa::support
