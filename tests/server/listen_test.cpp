// Listeners as an operator writes them (design.md "Listen address syntax"): TCP over IPv4
// and IPv6, host names, unix sockets, --listen, and the errors when an address is taken.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <regex>

#include "support/socket.hpp"
#include "support/spoa_host.hpp"
#include "support/spop_client.hpp"
#include "support/temp_dir.hpp"

namespace spoa::test {
namespace {

using namespace std::chrono_literals;

// Bounds of waits for events; they only bound a failure.
constexpr auto io_timeout = 30s;
constexpr auto exit_timeout = 60s;

bool ipv6_loopback_available() {
  std::string address = "[::1]:0";
  std::string error;
  return static_cast<bool>(listen_on(address, error));
}

// A HELLO answered proves more than a connect: the connection was accepted and served.
void expect_served(const std::string& address) {
  std::string error;
  const Fd fd = connect_to(address, io_timeout, error);
  ASSERT_TRUE(fd) << error;
  const auto reply = hello(fd.get(), io_timeout);
  ASSERT_TRUE(reply) << "no AGENT-HELLO from " << address;
  EXPECT_EQ(reply->version, "2.0");
}

// A unix socket file whose server is gone: bound, then closed without unlinking.
void make_stale_socket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  ::close(fd);
}

bool is_socket(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

TEST(Listen, ServesIpv4Ipv6AndUnixAtOnce) {
  if (!ipv6_loopback_available()) GTEST_SKIP() << "no IPv6 loopback here";
  TempDir dir;
  const std::string socket_path = dir.file("spoa.sock");
  SpoaHost host(dir, make_config({"\"127.0.0.1:0\"", "\"[::1]:0\"", "\"unix:" + socket_path + "\""},
                                 "threads = 2"));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  ASSERT_EQ(host.addresses().size(), 3u) << host.stderr_text();
  EXPECT_TRUE(std::regex_match(host.addresses()[0], std::regex(R"(127\.0\.0\.1:[1-9][0-9]*)")));
  EXPECT_TRUE(std::regex_match(host.addresses()[1], std::regex(R"(\[::1\]:[1-9][0-9]*)")));
  EXPECT_EQ(host.addresses()[2], "unix:" + socket_path);
  for (const auto& address : host.addresses())
    expect_served(address);
  EXPECT_EQ(host.stop(), 0);
}

TEST(Listen, UnixSocketFileIsGroupOnly) {
  TempDir dir;
  const std::string socket_path = dir.file("spoa.sock");
  SpoaHost host(dir, make_config({"\"unix:" + socket_path + "\""}));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  struct stat st {};
  ASSERT_EQ(::stat(socket_path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST(Listen, HostNameListensOnWhatItResolvesTo) {
  TempDir dir;
  SpoaHost host(dir, make_config({"\"localhost:0\""}));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  ASSERT_FALSE(host.addresses().empty());
  for (const auto& address : host.addresses()) {
    EXPECT_TRUE(address.rfind("127.", 0) == 0 || address.rfind("[::1]", 0) == 0) << address;
    expect_served(address);
  }
}

TEST(Listen, CommandLineListenReplacesTheConfiguredAddresses) {
  TempDir dir;
  const std::string configured = dir.file("configured.sock");
  SpoaHost host(dir, make_config({"\"unix:" + configured + "\""}), {"--listen", "127.0.0.1:0"});
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  ASSERT_EQ(host.addresses().size(), 1u);
  EXPECT_TRUE(host.addresses()[0].rfind("127.0.0.1:", 0) == 0) << host.addresses()[0];
  EXPECT_FALSE(std::filesystem::exists(configured));
  expect_served(host.addresses()[0]);
}

TEST(Listen, RepeatedCommandLineListenBindsEach) {
  TempDir dir;
  const std::string socket_path = dir.file("cli.sock");
  SpoaHost host(dir, make_config({"\"127.0.0.1:0\""}),
                {"--listen", "127.0.0.1:0", "--listen", "unix:" + socket_path});
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  ASSERT_EQ(host.addresses().size(), 2u);
  EXPECT_EQ(host.addresses()[1], "unix:" + socket_path);
  for (const auto& address : host.addresses())
    expect_served(address);
}

TEST(Listen, TakenTcpAddressIsAnErrorNamingItAndExits1) {
  std::string taken = "127.0.0.1:0";
  std::string error;
  const Fd holder = listen_on(taken, error);
  ASSERT_TRUE(holder) << error;
  TempDir dir;
  SpoaHost host(dir, make_config({"\"" + taken + "\""}));
  EXPECT_EQ(host.process().wait(exit_timeout), 1);
  EXPECT_NE(host.stderr_text().find("listen " + taken + ": address already in use"),
            std::string::npos)
      << host.stderr_text();
  EXPECT_EQ(host.stderr_text().find("ready: listening"), std::string::npos) << host.stderr_text();
}

TEST(Listen, BindFailureOfALaterListenerReleasesTheEarlierOnes) {
  std::string taken = "127.0.0.1:0";
  std::string error;
  const Fd holder = listen_on(taken, error);
  ASSERT_TRUE(holder) << error;
  TempDir dir;
  const std::string socket_path = dir.file("first.sock");
  SpoaHost host(dir, make_config({"\"unix:" + socket_path + "\"", "\"" + taken + "\""}));
  EXPECT_EQ(host.process().wait(exit_timeout), 1);
  EXPECT_NE(host.stderr_text().find("listen " + taken + ": address already in use"),
            std::string::npos)
      << host.stderr_text();
  EXPECT_FALSE(std::filesystem::exists(socket_path)) << "the first listener's file is left";
}

TEST(Listen, LiveUnixSocketIsAddressInUse) {
  TempDir dir;
  std::string live = "unix:" + dir.file("live.sock");
  std::string error;
  const Fd holder = listen_on(live, error);
  ASSERT_TRUE(holder) << error;
  SpoaHost host(dir, make_config({"\"" + live + "\""}));
  EXPECT_EQ(host.process().wait(exit_timeout), 1);
  EXPECT_NE(host.stderr_text().find("listen " + live + ": address already in use"),
            std::string::npos)
      << host.stderr_text();
  EXPECT_TRUE(is_socket(dir.file("live.sock"))) << "the other server's socket was removed";
}

TEST(Listen, StaleUnixSocketFileIsReplaced) {
  TempDir dir;
  const std::string socket_path = dir.file("stale.sock");
  make_stale_socket(socket_path);
  ASSERT_TRUE(is_socket(socket_path));
  SpoaHost host(dir, make_config({"\"unix:" + socket_path + "\""}));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  expect_served("unix:" + socket_path);
  EXPECT_EQ(host.stop(), 0) << host.stderr_text();
}

TEST(Listen, UnixPathThatIsNotASocketIsLeftAloneAndExits1) {
  TempDir dir;
  const std::string path = dir.write("precious.txt", "data");
  SpoaHost host(dir, make_config({"\"unix:" + path + "\""}));
  EXPECT_EQ(host.process().wait(exit_timeout), 1);
  EXPECT_NE(host.stderr_text().find("listen unix:" + path + ": "), std::string::npos)
      << host.stderr_text();
  EXPECT_EQ(read_file(path), "data");
}

TEST(Listen, UnixSocketFileIsRemovedOnShutdown) {
  TempDir dir;
  const std::string socket_path = dir.file("spoa.sock");
  SpoaHost host(dir, make_config({"\"unix:" + socket_path + "\""}));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  ASSERT_TRUE(is_socket(socket_path));
  EXPECT_EQ(host.stop(), 0);
  EXPECT_FALSE(std::filesystem::exists(socket_path));
}

TEST(Threads, CommandLineThreadsSetsTheIoThreadCount) {
  TempDir dir;
  SpoaHost host(dir, make_config({"\"127.0.0.1:0\""}, "threads = 1"), {"--threads", "3"});
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  EXPECT_EQ(host.threads(), 3u);
}

TEST(Threads, ConnectionsGoToIoThreadsInTurn) {
  TempDir dir;
  SpoaHost host(dir, make_config({"\"127.0.0.1:0\""}, "threads = 2"), {"--log-level", "debug"});
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  std::vector<Fd> connections;
  for (int i = 0; i < 4; ++i) {
    std::string error;
    connections.push_back(connect_to(host.addresses()[0], io_timeout, error));
    ASSERT_TRUE(connections.back()) << error;
    // One at a time, so that accept order is connect order.
    ASSERT_TRUE(hello(connections.back().get(), io_timeout));
  }
  const std::string log = host.stderr_text();
  static const std::regex placed(R"(connection from \S+ on I/O thread (\d+))");
  std::vector<std::string> threads;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), placed); it != std::sregex_iterator();
       ++it) {
    threads.push_back((*it)[1]);
  }
  EXPECT_EQ(threads, (std::vector<std::string>{"0", "1", "0", "1"})) << log;
  EXPECT_EQ(host.stop(), 0) << host.stderr_text();
}

}  // namespace
}  // namespace spoa::test
