// server.max_connections: at the limit the server stops accepting (HAProxy's connect may
// still succeed in the kernel's backlog, but nothing answers) until a connection closes.
#include <gtest/gtest.h>

#include "support/socket.hpp"
#include "support/spoa_host.hpp"
#include "support/spop_client.hpp"
#include "support/temp_dir.hpp"

namespace spoa::test {
namespace {

using namespace std::chrono_literals;

// Bounds of waits for events; they only bound a failure. The short negative reads below
// wait for something that never comes when the server is right, so a slow machine cannot
// fail them.
constexpr auto io_timeout = 30s;

TEST(MaxConnections, ConnectionBeyondTheLimitIsServedOnlyOnceOneCloses) {
  TempDir dir;
  SpoaHost host(dir, make_config({"\"127.0.0.1:0\""}, "threads = 2\nmax_connections = 2"));
  ASSERT_TRUE(host.wait_ready()) << host.stderr_text();
  const std::string address = host.addresses()[0];
  std::string error;
  Fd first = connect_to(address, io_timeout, error);
  ASSERT_TRUE(first) << error;
  ASSERT_TRUE(hello(first.get(), io_timeout));
  const Fd second = connect_to(address, io_timeout, error);
  ASSERT_TRUE(second) << error;
  ASSERT_TRUE(hello(second.get(), io_timeout));

  const Fd third = connect_to(address, io_timeout, error);
  ASSERT_TRUE(third) << error;  // the kernel's backlog completes the handshake
  ASSERT_TRUE(send_all(third.get(), haproxy_hello(), io_timeout));
  EXPECT_FALSE(read_frame(third.get(), 500ms)) << "served beyond max_connections";

  first.reset();
  const auto reply = read_agent_hello(third.get(), io_timeout);
  EXPECT_TRUE(reply) << "not served after a slot freed\n" << host.stderr_text();
  // The second one was never disturbed.
  EXPECT_FALSE(read_frame(second.get(), 100ms));
  EXPECT_NE(host.stderr_text().find("max_connections (2) reached"), std::string::npos);
  EXPECT_EQ(host.stop(), 0) << host.stderr_text();
}

}  // namespace
}  // namespace spoa::test
