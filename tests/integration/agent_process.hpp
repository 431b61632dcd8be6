#pragma once
// Runs the real spoa-host binary for a test (through tests/server/support's SpoaHost): a
// config in a temporary folder, a kernel-chosen loopback port (or a unix socket), the log
// captured, the process killed by PID when the test ends. The log is printed when the test
// failed, and a server that died during a test (a crash, an ASan report) fails it.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "spop_client.hpp"
#include "support/spoa_host.hpp"
#include "support/temp_dir.hpp"

namespace spoa::itest {

struct PluginSpec {
  std::string instance;
  std::string path;  // bare name (looked up in the plugin dir) or absolute path
  std::vector<std::string> messages;
  // [plugins.NAME.config], values written as TOML strings.
  std::vector<std::pair<std::string, std::string>> config;
};

// echo instance `instance` answering `messages` (the plugin claims them from its config).
PluginSpec echo_plugin(std::string instance = "echo", std::vector<std::string> messages = {"echo"},
                       std::string scope = "txn");
// delay instance answering `messages` after `delay` (or the message's delay_ms argument).
PluginSpec delay_plugin(std::string instance = "delay",
                        std::vector<std::string> messages = {"delay"}, std::string delay = "10ms");
// misbehave (test plugin) answering `messages`; its argument `mode` picks the misdeed.
PluginSpec misbehave_plugin(std::vector<std::string> messages = {"misbehave"});

struct AgentConfig {
  unsigned threads = 2;
  std::optional<uint32_t> max_frame_size;
  std::optional<std::vector<std::string>> capabilities;
  std::optional<uint32_t> max_connections;
  std::optional<uint32_t> max_inflight_per_connection;
  std::string hello_timeout = "5s";
  std::string idle_timeout = "10m";
  std::string processing_timeout = "2s";
  std::string write_timeout;  // empty: the default
  std::vector<PluginSpec> plugins{echo_plugin()};
  // Empty: TCP on 127.0.0.1, port chosen by the kernel. "unix": a socket in the temp dir.
  // Anything else is passed to --listen as it is (e.g. "[::1]:0").
  std::string listen;
};

std::string to_toml(const AgentConfig& config);

// Paths from the build (CMake compile definitions).
std::string plugin_dir();
std::string test_plugin_dir();
std::string misbehave_plugin_path();  // empty if the test plugin is not built

class AgentProcess {
 public:
  explicit AgentProcess(const AgentConfig& config = {});
  ~AgentProcess();
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  pid_t pid() const;
  uint16_t port() const { return port_; }
  const std::string& unix_path() const { return unix_path_; }
  // The address the server says it listens on ("127.0.0.1:40123" or "unix:/...").
  const std::string& address() const { return address_; }

  // A client connected to the listener (TCP or unix, as configured).
  SpopClient connect(Millis timeout = default_timeout) const;

  void signal(int number);
  // The exit status (exit code, or 128 + signal) once the process ended, or nullopt if it
  // still runs at the deadline. After it the process counts as expectedly gone.
  std::optional<int> wait_exit(Millis timeout);
  bool running();

  std::string log() const;
  // Waits until the log (stderr) contains `text`; false at the deadline.
  bool wait_for_log(const std::string& text, Millis timeout);

 private:
  spoa::test::TempDir dir_;
  std::string unix_path_;
  std::string address_;
  std::string host_name_;
  uint16_t port_ = 0;
  std::unique_ptr<spoa::test::SpoaHost> host_;
  bool exit_expected_ = false;
};

// "exit 0", "signal 9 (Killed)" for a status as AgentProcess::wait_exit reports it.
std::string describe_exit_status(int status);

// The connection-level checks most tests end with: a fresh connection on the same server
// still completes HELLO and gets its ACK for an echo NOTIFY.
void expect_server_still_serves(const AgentProcess& agent, const std::string& message = "echo");

}  // namespace spoa::itest
