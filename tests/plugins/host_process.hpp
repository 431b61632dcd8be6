#pragma once
// The real spoa-host binary with a config written by the test (plugins as raw TOML), its
// SPOP listener and its /metrics on kernel-chosen loopback ports, for the tests of the
// host's plugin side (host_*_test.cpp). Stops the server when the test ends and fails the
// test on a sanitizer report in its log.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <regex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <spoa_test_plugins.h>

#include "scrape.hpp"
#include "spop_client.hpp"
#include "support/socket.hpp"
#include "support/spoa_host.hpp"
#include "support/temp_dir.hpp"

namespace spoa::host_test {

using namespace std::chrono_literals;
using itest::Ack;
using itest::MessageSpec;
using itest::SpopClient;
using Millis = std::chrono::milliseconds;

// Generous: sanitizer builds on a shared 2-CPU machine start slowly. Waits end as soon as
// the event happens; this only bounds a failure.
inline constexpr Millis startup_timeout = 30s;

struct HostOptions {
  unsigned threads = 1;
  std::string processing = "2s";
  bool metrics = true;
  std::string log_level = "debug";
  std::string plugins;  // [plugins.*] tables, verbatim
};

class HostProcess {
 public:
  explicit HostProcess(const HostOptions& options) {
    // The SPOP listener from --listen: a config listen of 127.0.0.1:0 would look like the
    // metrics address to the config check.
    toml_ = "[server]\nthreads = " + std::to_string(options.threads) +
            "\n[timeouts]\nprocessing = \"" + options.processing + "\"\n";
    if (options.metrics) toml_ += "[metrics]\nlisten = \"127.0.0.1:0\"\n";
    toml_ += options.plugins;
    host_ = std::make_unique<test::SpoaHost>(
        dir_, toml_,
        std::vector<std::string>{"--plugin-dir", SPOA_BUILD_PLUGIN_DIR, "--listen", "127.0.0.1:0",
                                 "--log-level", options.log_level});
    if (!host_->wait_ready(startup_timeout) || host_->addresses().empty()) {
      throw std::runtime_error("spoa-host did not start:\n" + log());
    }
    address_ = host_->addresses().front();
    if (options.metrics) {
      static const std::regex line(R"(metrics: serving Prometheus metrics on http://([^/\s]+)/)");
      std::smatch match;
      const std::string text = log();
      if (!std::regex_search(text, match, line))
        throw std::runtime_error("no metrics line:\n" + text);
      metrics_address_ = match[1];
    }
  }

  ~HostProcess() {
    if (!host_->process().exited()) {
      const auto status = host_->stop(60s);
      EXPECT_EQ(status, std::optional<int>(0)) << "spoa-host did not stop cleanly";
    }
    const std::string text = log();
    for (const char* report : {"ThreadSanitizer", "AddressSanitizer", "runtime error:"}) {
      EXPECT_EQ(text.find(report), std::string::npos) << report << " report in the log";
    }
    if (testing::Test::HasFailure()) {
      std::cerr << "----- spoa-host log -----\n" << text << "----- end -----\n";
    }
  }
  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;

  SpopClient connect() const {
    const size_t colon = address_.rfind(':');
    return SpopClient::connect_tcp(address_.substr(0, colon), test::port_of(address_));
  }
  SpopClient handshake(const spop::HelloOptions& options = {}) const {
    SpopClient client = connect();
    client.handshake(options);
    return client;
  }
  // One NOTIFY with one message on a fresh connection; its ACK.
  Ack ask(const MessageSpec& message, Millis timeout = 10s) const {
    SpopClient client = handshake();
    client.send_notify(1, 1, {message});
    return client.expect_ack(timeout);
  }

  mtest::Scrape scrape() const { return mtest::scrape(metrics_address_); }
  // Scrapes until `done` holds; the last scrape.
  mtest::Scrape scrape_until(const std::function<bool(const mtest::Scrape&)>& done,
                             Millis timeout = 20s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    mtest::Scrape s = scrape();
    while (!done(s) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
      s = scrape();
    }
    return s;
  }
  bool wait_for_log(const std::string& text, Millis timeout = 20s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (log().find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
    return true;
  }
  std::string log() const { return host_->stderr_text(); }
  test::SpoaHost& host() { return *host_; }
  const test::TempDir& dir() const { return dir_; }
  const std::string& toml() const { return toml_; }
  const std::string& address() const { return address_; }

 private:
  test::TempDir dir_;
  std::string toml_;
  std::unique_ptr<test::SpoaHost> host_;
  std::string address_;
  std::string metrics_address_;
};

// [plugins.NAME] for a plugin file, with extra keys and a config table (both verbatim).
inline std::string plugin_table(const std::string& instance, const std::string& path,
                                const std::vector<std::string>& messages,
                                const std::string& keys = "", const std::string& config = "") {
  std::string text = "\n[plugins." + instance + "]\npath = \"" + path + "\"\nmessages = [";
  for (size_t i = 0; i < messages.size(); ++i)
    text += (i == 0 ? "\"" : ", \"") + messages[i] + "\"";
  text += "]\n" + keys;
  if (!keys.empty() && keys.back() != '\n') text += '\n';
  if (!config.empty()) text += "[plugins." + instance + ".config]\n" + config + "\n";
  return text;
}

inline std::string string_of(const Ack& ack, const std::string& name) {
  const auto* action = ack.find(name);
  return action == nullptr ? std::string("<unset>") : action->value.bytes;
}
inline int64_t int_of(const Ack& ack, const std::string& name) {
  const auto* action = ack.find(name);
  return action == nullptr ? INT64_MIN : static_cast<int64_t>(action->value.integer);
}

}  // namespace spoa::host_test
