#include "config/listen_address.hpp"

#include <gtest/gtest.h>

#include <string>

namespace spoa::config {
namespace {

using Kind = ListenAddress::Kind;

ListenAddress parse_ok(std::string_view text) {
  std::string error;
  const auto address = parse_listen_address(text, error);
  EXPECT_TRUE(address.has_value()) << text << ": " << error;
  EXPECT_EQ(error, "");
  return address.value_or(ListenAddress{});
}

std::string parse_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(parse_listen_address(text, error).has_value()) << text;
  return error;
}

TEST(ListenAddress, Ipv4HostAndPort) {
  const ListenAddress address = parse_ok("127.0.0.1:12345");
  EXPECT_EQ(address.kind, Kind::tcp);
  EXPECT_EQ(address.host, "127.0.0.1");
  EXPECT_EQ(address.port, 12345);
  EXPECT_EQ(address.path, "");
  EXPECT_EQ(address.text, "127.0.0.1:12345");
}

TEST(ListenAddress, HostName) {
  const ListenAddress address = parse_ok("localhost:9000");
  EXPECT_EQ(address.host, "localhost");
  EXPECT_EQ(address.port, 9000);
  EXPECT_EQ(parse_ok("spoa-1.example.net:1").host, "spoa-1.example.net");
}

TEST(ListenAddress, StarMeansEveryIpv4Address) {
  const ListenAddress address = parse_ok("*:12345");
  EXPECT_EQ(address.host, "0.0.0.0");
  EXPECT_EQ(address.text, "*:12345");
  EXPECT_EQ(parse_ok("0.0.0.0:12345").host, "0.0.0.0");
}

TEST(ListenAddress, Ipv6InBrackets) {
  const ListenAddress address = parse_ok("[::1]:12345");
  EXPECT_EQ(address.kind, Kind::tcp);
  EXPECT_EQ(address.host, "::1");
  EXPECT_EQ(address.port, 12345);
  EXPECT_EQ(parse_ok("[::]:80").host, "::");
  EXPECT_EQ(parse_ok("[2001:db8::42]:443").host, "2001:db8::42");
  EXPECT_EQ(parse_ok("[fe80::1%eth0]:443").host, "fe80::1%eth0");
}

TEST(ListenAddress, PortZeroLetsTheKernelChoose) {
  EXPECT_EQ(parse_ok("127.0.0.1:0").port, 0);
}

TEST(ListenAddress, HighestPort) {
  EXPECT_EQ(parse_ok("127.0.0.1:65535").port, 65535);
}

TEST(ListenAddress, UnixSocket) {
  const ListenAddress address = parse_ok("unix:/run/spoa-host/spoa.sock");
  EXPECT_EQ(address.kind, Kind::unix_socket);
  EXPECT_EQ(address.path, "/run/spoa-host/spoa.sock");
  EXPECT_EQ(address.host, "");
  EXPECT_EQ(address.text, "unix:/run/spoa-host/spoa.sock");
}

TEST(ListenAddress, RejectsTextWithoutPort) {
  EXPECT_EQ(parse_error("foo"), "expected HOST:PORT, [IPV6]:PORT or unix:/path, got \"foo\"");
  EXPECT_EQ(parse_error(""), "expected HOST:PORT, [IPV6]:PORT or unix:/path, got \"\"");
}

TEST(ListenAddress, RejectsBadPort) {
  EXPECT_EQ(parse_error("127.0.0.1:65536"),
            "\"127.0.0.1:65536\": expected a port number from 0 to 65535 after the last ':', "
            "got \"65536\"");
  EXPECT_EQ(parse_error("127.0.0.1:"),
            "\"127.0.0.1:\": expected a port number from 0 to 65535 after the last ':', got \"\"");
  EXPECT_EQ(parse_error("localhost:http"),
            "\"localhost:http\": expected a port number from 0 to 65535 after the last ':', "
            "got \"http\"");
  EXPECT_EQ(parse_error("localhost:-1"),
            "\"localhost:-1\": expected a port number from 0 to 65535 after the last ':', "
            "got \"-1\"");
}

TEST(ListenAddress, RejectsIpv6WithoutBrackets) {
  EXPECT_EQ(parse_error("::1:12345"),
            "\"::1:12345\": an IPv6 address needs brackets, e.g. [::1]:12345");
}

TEST(ListenAddress, RejectsBadIpv6) {
  EXPECT_EQ(parse_error("[::g]:80"), "\"[::g]:80\": \"::g\" is not an IPv6 address");
  EXPECT_EQ(parse_error("[127.0.0.1]:80"),
            "\"[127.0.0.1]:80\": \"127.0.0.1\" is not an IPv6 address");
  EXPECT_EQ(parse_error("[::1]80"),
            "expected HOST:PORT, [IPV6]:PORT or unix:/path, got \"[::1]80\"");
  EXPECT_EQ(parse_error("[::1:80"),
            "expected HOST:PORT, [IPV6]:PORT or unix:/path, got \"[::1:80\"");
}

TEST(ListenAddress, RejectsBadIpv4) {
  EXPECT_EQ(parse_error("1.2.3.256:80"), "\"1.2.3.256:80\": \"1.2.3.256\" is not an IPv4 address");
}

TEST(ListenAddress, RejectsBadHostName) {
  EXPECT_EQ(parse_error("exa mple:80"),
            "\"exa mple:80\": \"exa mple\" is not a host name or an IP address");
  EXPECT_EQ(parse_error("-bad.example:80"),
            "\"-bad.example:80\": \"-bad.example\" is not a host name or an IP address");
  EXPECT_EQ(parse_error("a..b:80"), "\"a..b:80\": \"a..b\" is not a host name or an IP address");
}

TEST(ListenAddress, RejectsMissingHost) {
  EXPECT_EQ(parse_error(":80"),
            "\":80\": missing host before the port (\"*\" or \"0.0.0.0\" for every IPv4 "
            "address, \"[::]\" for every address)");
}

TEST(ListenAddress, RejectsRelativeUnixPath) {
  EXPECT_EQ(parse_error("unix:spoa.sock"),
            "\"unix:spoa.sock\": expected an absolute socket path, e.g. "
            "unix:/run/spoa-host.sock");
  EXPECT_EQ(parse_error("unix:"),
            "\"unix:\": expected an absolute socket path, e.g. unix:/run/spoa-host.sock");
}

TEST(ListenAddress, RejectsUnixPathLongerThanSunPath) {
  const std::string longest = "unix:/" + std::string(106, 'a');
  EXPECT_EQ(parse_ok(longest).path.size(), 107u);
  const std::string too_long = "unix:/" + std::string(107, 'a');
  EXPECT_EQ(parse_error(too_long),
            "\"" + too_long + "\": the socket path is 108 bytes long, the limit is 107");
}

}  // namespace
}  // namespace spoa::config
