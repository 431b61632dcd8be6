#include "agent_process.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <exception>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/socket.hpp"

#ifndef SPOA_PLUGIN_DIR
#error "SPOA_PLUGIN_DIR must be defined by tests/integration/CMakeLists.txt"
#endif
#ifndef SPOA_TEST_PLUGIN_DIR
#error "SPOA_TEST_PLUGIN_DIR must be defined by tests/integration/CMakeLists.txt"
#endif

namespace spoa::itest {

namespace {

// Startup of a sanitized Debug binary loading plugins can take a while on a busy machine.
constexpr Millis ready_timeout{20000};

std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::string toml_array(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i)
    out += (i ? ", " : "") + toml_string(items[i]);
  return out + "]";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items)
    out += (out.empty() ? "" : ",") + item;
  return out;
}

}  // namespace

PluginSpec echo_plugin(std::string instance, std::vector<std::string> messages, std::string scope) {
  PluginSpec spec{std::move(instance), "echo.so", messages, {}};
  spec.config = {{"scope", std::move(scope)}, {"messages", join(messages)}};
  return spec;
}

PluginSpec delay_plugin(std::string instance, std::vector<std::string> messages,
                        std::string delay) {
  PluginSpec spec{std::move(instance), "delay.so", messages, {}};
  spec.config = {{"delay", std::move(delay)}, {"messages", join(messages)}};
  return spec;
}

PluginSpec misbehave_plugin(std::vector<std::string> messages) {
  PluginSpec spec{"misbehave", misbehave_plugin_path(), messages, {}};
  spec.config = {{"messages", join(messages)}};
  return spec;
}

std::string to_toml(const AgentConfig& config) {
  std::ostringstream out;
  out << "[server]\n";
  out << "threads = " << config.threads << "\n";
  if (config.max_frame_size) out << "max_frame_size = " << *config.max_frame_size << "\n";
  if (config.capabilities) out << "capabilities = " << toml_array(*config.capabilities) << "\n";
  if (config.max_connections) out << "max_connections = " << *config.max_connections << "\n";
  if (config.max_inflight_per_connection) {
    out << "max_inflight_per_connection = " << *config.max_inflight_per_connection << "\n";
  }
  out << "\n[timeouts]\n";
  out << "hello = " << toml_string(config.hello_timeout) << "\n";
  out << "idle = " << toml_string(config.idle_timeout) << "\n";
  out << "processing = " << toml_string(config.processing_timeout) << "\n";
  if (!config.write_timeout.empty()) out << "write = " << toml_string(config.write_timeout) << "\n";
  out << "\n[log]\nlevel = \"debug\"\ntarget = \"stderr\"\n";
  for (const auto& plugin : config.plugins) {
    out << "\n[plugins." << plugin.instance << "]\n";
    out << "path = " << toml_string(plugin.path) << "\n";
    out << "messages = " << toml_array(plugin.messages) << "\n";
    if (!plugin.config.empty()) {
      out << "[plugins." << plugin.instance << ".config]\n";
      for (const auto& [key, value] : plugin.config) {
        out << key << " = " << toml_string(value) << "\n";
      }
    }
  }
  return out.str();
}

std::string plugin_dir() {
  return SPOA_PLUGIN_DIR;
}
std::string test_plugin_dir() {
  return SPOA_TEST_PLUGIN_DIR;
}
std::string misbehave_plugin_path() {
  const std::string path = test_plugin_dir() + "/misbehave.so";
  return std::filesystem::exists(path) ? path : std::string();
}

std::string describe_exit_status(int status) {
  if (status > 128) {
    return "signal " + std::to_string(status - 128) + " (" + strsignal(status - 128) + ")";
  }
  return "exit " + std::to_string(status);
}

AgentProcess::AgentProcess(const AgentConfig& config) {
  std::string listen = config.listen;
  if (listen == "unix") {
    unix_path_ = dir_.file("agent.sock");
    listen = "unix:" + unix_path_;
  } else if (listen.empty()) {
    listen = "127.0.0.1:0";
  }
  const std::string toml = to_toml(config);
  host_ = std::make_unique<spoa::test::SpoaHost>(
      dir_, toml,
      std::vector<std::string>{"--plugin-dir", plugin_dir(), "--listen", listen, "--log-level",
                               "debug"});
  if (!host_->wait_ready(ready_timeout) || host_->addresses().empty()) {
    throw std::runtime_error("spoa-host did not become ready within " +
                             std::to_string(ready_timeout.count()) + " ms. Config:\n" + toml +
                             "\nLog:\n" + log());
  }
  address_ = host_->addresses().front();
  if (unix_path_.empty()) {
    port_ = spoa::test::port_of(address_);
    // "[::1]:40123" or "127.0.0.1:40123"
    host_name_ = address_.front() == '[' ? address_.substr(1, address_.find(']') - 1)
                                         : address_.substr(0, address_.rfind(':'));
  }
}

AgentProcess::~AgentProcess() {
  if (const auto status = host_->process().wait(Millis(0)); status && !exit_expected_) {
    ADD_FAILURE() << "spoa-host (pid " << pid() << ", " << address_
                  << ") died during the test: " << describe_exit_status(*status);
  }
  // An exception from the scripted client is recorded as a failure only after the test
  // body has unwound, so it counts as one here too.
  if (::testing::Test::HasFailure() || std::uncaught_exceptions() > 0) {
    std::cerr << "----- spoa-host log (pid " << pid() << ") -----\n"
              << log() << "----- end of spoa-host log -----\n";
  }
  // host_'s Process SIGKILLs and reaps the child by PID if it still runs.
}

pid_t AgentProcess::pid() const {
  return host_->process().pid();
}

SpopClient AgentProcess::connect(Millis timeout) const {
  if (!unix_path_.empty()) return SpopClient::connect_unix(unix_path_, timeout);
  return SpopClient::connect_tcp(host_name_, port_, timeout);
}

void AgentProcess::signal(int number) {
  host_->process().send_signal(number);
}

bool AgentProcess::running() {
  return !host_->process().wait(Millis(0)).has_value();
}

std::optional<int> AgentProcess::wait_exit(Millis timeout) {
  const auto status = host_->process().wait(timeout);
  if (status) exit_expected_ = true;
  return status;
}

std::string AgentProcess::log() const {
  return host_->process().stderr_text() + host_->process().stdout_text();
}

bool AgentProcess::wait_for_log(const std::string& text, Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (host_->process().stderr_text().find(text) != std::string::npos) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Millis(10));
  }
}

void expect_server_still_serves(const AgentProcess& agent, const std::string& message) {
  SpopClient client = agent.connect();
  client.handshake();
  client.send_notify(7, 1, {{message, {{"alive", spop::Value::int32(1)}}}});
  const Ack ack = client.expect_ack();
  EXPECT_EQ(ack.stream_id, 7u);
  EXPECT_EQ(ack.frame_id, 1u);
  const OwnedAction* alive = ack.find("alive");
  ASSERT_NE(alive, nullptr) << "a new connection no longer gets its echo: " << ack.describe();
  EXPECT_EQ(alive->value.view(), spop::Value::int32(1));
}

}  // namespace spoa::itest
