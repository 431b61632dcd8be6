// Socket activation as systemd does it, with the real tool: systemd-socket-activate binds
// the socket, waits for the first connection, then execs spoa-host with LISTEN_FDS=1,
// LISTEN_PID and LISTEN_FDNAMES. spoa-host must serve SPOP on that socket and leave its
// configured server.listen alone.
#include <gtest/gtest.h>
#include <signal.h>
#include <spoa_test_plugins.h>
#include <sys/stat.h>

#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "ops_support.hpp"
#include "spop_client.hpp"
#include "support/process.hpp"
#include "support/socket.hpp"
#include "support/spoa_host.hpp"
#include "support/temp_dir.hpp"

namespace spoa::ops {
namespace {

using test::Process;
using test::TempDir;

constexpr const char* socket_activate = "/usr/bin/systemd-socket-activate";

// spoa-host under systemd-socket-activate, listening (through the tool) on `listen`.
// The config's own server.listen is `configured`; the echo plugin is found by its bare name
// through --plugin-dir.
Process start_activated(const TempDir& dir, const std::string& listen,
                        const std::string& configured) {
  const std::string config =
      dir.write("spoa-host.toml", test::make_config({"\"" + configured + "\""},
                                                    "threads = 2\n\n[plugins.echo]\n"
                                                    "path = \"echo.so\"\n"
                                                    "messages = [\"echo\"]\n"));
  std::vector<std::string> args{"-l", listen, "--fdname=spoa"};
  // The tool rebuilds the child's environment from PATH, HOME, TERM, USER and -E only.
  for (const auto& variable : sanitizer_environment()) {
    args.push_back("-E");
    args.push_back(variable);
  }
  args.insert(args.end(),
              {test::spoa_host_binary(), "-c", config, "--plugin-dir", test::build_plugin_dir()});
  return Process(socket_activate, args);
}

// HELLO, one NOTIFY to echo, its ACK: real SPOP through the passed socket. The first connect
// is what makes the tool exec spoa-host, so the HELLO allows for a whole start.
void exchange_spop(itest::SpopClient& client) {
  const itest::AgentHelloInfo hello = client.handshake({}, startup_timeout);
  EXPECT_EQ(hello.version, "2.0");
  client.send_notify(7, 1, {{"echo", {{"greeting", spop::Value::string("through fd 3")}}}});
  const itest::Ack ack = client.expect_ack(startup_timeout);
  EXPECT_EQ(ack.stream_id, 7u);
  EXPECT_EQ(ack.frame_id, 1u);
  const itest::OwnedAction* action = ack.find("greeting");
  ASSERT_NE(action, nullptr) << ack.describe();
  EXPECT_EQ(action->value.bytes, "through fd 3") << ack.describe();
}

class SocketActivation : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access(socket_activate, X_OK) != 0) {
      GTEST_SKIP() << socket_activate << " not installed (Debian package systemd)";
    }
  }
};

TEST_F(SocketActivation, TcpSocketIsServedAndServerListenIsNotBound) {
  TempDir dir;
  const ReservedPort activated_port;
  const ReservedPort configured_port;
  const std::string& activated = activated_port.address();
  const std::string& configured = configured_port.address();
  Process process = start_activated(dir, activated, configured);
  ASSERT_TRUE(process.wait_for_stderr(std::regex("Listening on "), startup_timeout))
      << process.stderr_text();

  itest::SpopClient client =
      itest::SpopClient::connect_tcp("127.0.0.1", test::port_of(activated), startup_timeout);
  ASSERT_NO_FATAL_FAILURE(exchange_spop(client)) << process.stderr_text();

  const auto ready = process.wait_for_stderr(
      std::regex(R"(ready: listening on ([^;\n]*) \(socket activation[^)]*\);)"), startup_timeout);
  ASSERT_TRUE(ready) << process.stderr_text();
  EXPECT_EQ((*ready)[1], activated) << process.stderr_text();
  // The configured listener was replaced, not added.
  EXPECT_FALSE(accepts_connections(configured)) << configured << " is bound\n"
                                                << process.stderr_text();

  process.send_signal(SIGTERM);
  EXPECT_EQ(process.wait(startup_timeout), 0) << process.stderr_text();
}

TEST_F(SocketActivation, UnixSocketIsServedAndLeftInPlace) {
  TempDir dir;
  const std::string activated = dir.file("spoa.sock");
  const std::string configured = dir.file("configured.sock");
  Process process = start_activated(dir, activated, "unix:" + configured);
  ASSERT_TRUE(process.wait_for_stderr(std::regex("Listening on "), startup_timeout))
      << process.stderr_text();

  itest::SpopClient client = itest::SpopClient::connect_unix(activated, startup_timeout);
  ASSERT_NO_FATAL_FAILURE(exchange_spop(client)) << process.stderr_text();

  ASSERT_TRUE(process.wait_for_stderr(
      std::regex("ready: listening on unix:" + activated + R"( \(socket activation[^)]*\);)"),
      startup_timeout))
      << process.stderr_text();
  EXPECT_FALSE(std::filesystem::exists(configured)) << process.stderr_text();

  process.send_signal(SIGTERM);
  EXPECT_EQ(process.wait(startup_timeout), 0) << process.stderr_text();
  // The socket file belongs to whoever bound it (systemd's .socket unit): spoa-host must
  // not remove it, or the next activation finds nothing to connect to.
  struct stat info {};
  EXPECT_EQ(::lstat(activated.c_str(), &info), 0) << activated << " was removed";
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
}

TEST_F(SocketActivation, FdNameShowsInTheReadyLine) {
  TempDir dir;
  const ReservedPort activated_port;
  const ReservedPort configured_port;
  const std::string& activated = activated_port.address();
  Process process = start_activated(dir, activated, configured_port.address());
  ASSERT_TRUE(process.wait_for_stderr(std::regex("Listening on "), startup_timeout))
      << process.stderr_text();
  itest::SpopClient client =
      itest::SpopClient::connect_tcp("127.0.0.1", test::port_of(activated), startup_timeout);
  ASSERT_NO_FATAL_FAILURE(exchange_spop(client)) << process.stderr_text();

  // --fdname=spoa is the FileDescriptorName= of a .socket unit: the operator's name for the
  // socket, which the ready line must show so that the journal ties it to the unit.
  const auto ready =
      process.wait_for_stderr(std::regex(R"(ready: listening on ([^;\n]*);)"), startup_timeout);
  ASSERT_TRUE(ready) << process.stderr_text();
  EXPECT_NE((*ready)[1].find("spoa"), std::string::npos)
      << "ready line without the fd name 'spoa': " << (*ready)[0];

  process.send_signal(SIGTERM);
  EXPECT_EQ(process.wait(startup_timeout), 0) << process.stderr_text();
}

}  // namespace
}  // namespace spoa::ops
