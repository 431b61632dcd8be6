// Listener in-process: what bind_listeners and adopt_listener make of a socket (the daemon
// tests cover the same through the binary; these cover inherited fds, which only systemd
// socket activation hands over).
#include "agent/listener.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "config/listen_address.hpp"
#include "support/socket.hpp"
#include "support/temp_dir.hpp"

namespace spoa::test {
namespace {

using namespace std::chrono_literals;

config::ListenAddress parse(const std::string& text) {
  std::string error;
  auto address = config::parse_listen_address(text, error);
  EXPECT_TRUE(address) << error;
  return address.value_or(config::ListenAddress{});
}

TEST(Listener, AdoptsAListeningTcpSocket) {
  std::string address = "127.0.0.1:0";
  std::string error;
  Fd fd = listen_on(address, error);
  ASSERT_TRUE(fd) << error;
  boost::asio::io_context io;
  const auto listener = agent::adopt_listener(io, fd.get(), error);
  ASSERT_TRUE(listener) << error;
  fd.release();  // the listener owns it now
  EXPECT_TRUE(listener->is_tcp());
  EXPECT_EQ(listener->local_address(), address);
  EXPECT_EQ(listener->name(), "fd " + std::to_string(listener->acceptor().native_handle()));
  EXPECT_TRUE(connect_to(address, 1s, error)) << error;
}

TEST(Listener, AdoptedUnixSocketFileIsNotRemoved) {
  TempDir dir;
  std::string address = "unix:" + dir.file("activated.sock");
  std::string error;
  Fd fd = listen_on(address, error);
  ASSERT_TRUE(fd) << error;
  {
    boost::asio::io_context io;
    const auto listener = agent::adopt_listener(io, fd.get(), error, "spoa");
    ASSERT_TRUE(listener) << error;
    fd.release();
    EXPECT_FALSE(listener->is_tcp());
    EXPECT_EQ(listener->name(), "spoa");  // the socket unit's FileDescriptorName=
    EXPECT_EQ(listener->local_address(), address);
  }
  // systemd made the file; it removes it when the .socket unit stops.
  EXPECT_TRUE(std::filesystem::exists(dir.file("activated.sock")));
}

TEST(Listener, RefusesToAdoptASocketThatIsNotListening) {
  Fd fd(::socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_TRUE(fd);
  boost::asio::io_context io;
  std::string error;
  EXPECT_FALSE(agent::adopt_listener(io, fd.get(), error));
  EXPECT_EQ(error, "inherited socket fd " + std::to_string(fd.get()) + ": not a listening socket");
}

TEST(Listener, RefusesToAdoptADatagramSocket) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM, 0));
  ASSERT_TRUE(fd);
  boost::asio::io_context io;
  std::string error;
  EXPECT_FALSE(agent::adopt_listener(io, fd.get(), error));
  EXPECT_EQ(error, "inherited socket fd " + std::to_string(fd.get()) + ": not a stream socket");
}

TEST(Listener, PortZeroReportsTheKernelsPort) {
  boost::asio::io_context io;
  std::vector<std::unique_ptr<agent::Listener>> listeners;
  std::string error;
  ASSERT_TRUE(agent::bind_listeners(io, parse("127.0.0.1:0"), listeners, error)) << error;
  ASSERT_EQ(listeners.size(), 1u);
  EXPECT_EQ(listeners[0]->name(), "127.0.0.1:0");
  EXPECT_NE(listeners[0]->local_address(), "127.0.0.1:0");
  EXPECT_EQ(listeners[0]->local_address().rfind("127.0.0.1:", 0), 0u);
}

// The accepted end of a connection from a fresh client, configured as the server does.
struct Accepted {
  Fd client;
  agent::Listener::Socket socket;
};

Accepted accept_one(boost::asio::io_context& io, agent::Listener& listener) {
  std::string error;
  Fd client = connect_to(listener.local_address(), 1s, error);
  EXPECT_TRUE(client) << error;
  agent::Listener::Socket socket(io);
  listener.acceptor().accept(socket);
  listener.configure_accepted(socket);
  return Accepted{std::move(client), std::move(socket)};
}

TEST(Listener, AcceptedTcpConnectionsSendWithoutDelay) {
  boost::asio::io_context io;
  std::vector<std::unique_ptr<agent::Listener>> listeners;
  std::string error;
  ASSERT_TRUE(agent::bind_listeners(io, parse("127.0.0.1:0"), listeners, error)) << error;
  Accepted accepted = accept_one(io, *listeners[0]);
  int no_delay = 0;
  socklen_t size = sizeof(no_delay);
  ASSERT_EQ(
      ::getsockopt(accepted.socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &no_delay, &size), 0);
  EXPECT_NE(no_delay, 0);
  // The peer is named by the client's address.
  sockaddr_in client{};
  size = sizeof(client);
  ::getsockname(accepted.client.get(), reinterpret_cast<sockaddr*>(&client), &size);
  EXPECT_EQ(listeners[0]->describe_peer(accepted.socket),
            "127.0.0.1:" + std::to_string(ntohs(client.sin_port)));
}

TEST(Listener, UnixPeerIsNamedByListenerAndPid) {
  TempDir dir;
  const std::string path = dir.file("peer.sock");
  boost::asio::io_context io;
  std::vector<std::unique_ptr<agent::Listener>> listeners;
  std::string error;
  ASSERT_TRUE(agent::bind_listeners(io, parse("unix:" + path), listeners, error)) << error;
  Accepted accepted = accept_one(io, *listeners[0]);
  EXPECT_EQ(listeners[0]->describe_peer(accepted.socket),
            "unix:" + path + " pid " + std::to_string(::getpid()));
}

TEST(Listener, CloseRemovesTheUnixSocketFileItCreated) {
  TempDir dir;
  const std::string path = dir.file("own.sock");
  boost::asio::io_context io;
  std::vector<std::unique_ptr<agent::Listener>> listeners;
  std::string error;
  ASSERT_TRUE(agent::bind_listeners(io, parse("unix:" + path), listeners, error)) << error;
  ASSERT_TRUE(std::filesystem::exists(path));
  listeners[0]->close();
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(Listener, CloseLeavesAReplacedSocketFileAlone) {
  TempDir dir;
  const std::string path = dir.file("own.sock");
  boost::asio::io_context io;
  std::vector<std::unique_ptr<agent::Listener>> listeners;
  std::string error;
  ASSERT_TRUE(agent::bind_listeners(io, parse("unix:" + path), listeners, error)) << error;
  // Another instance took the path over meanwhile (removed ours, bound its own).
  std::filesystem::remove(path);
  std::string other = "unix:" + path;
  const Fd other_server = listen_on(other, error);
  ASSERT_TRUE(other_server) << error;
  listeners[0]->close();
  EXPECT_TRUE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace spoa::test
