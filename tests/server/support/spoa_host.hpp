#pragma once
// The real spoa-host binary, started on loopback with a test's config.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace spoa::test {

// What the build tells the tests (compile definitions of spoa_test_support).
const std::string& spoa_host_binary();  // $<TARGET_FILE:spoa-host>
const std::string& build_plugin_dir();  // ${SPOA_BUILD_PLUGIN_DIR}: echo.so and friends
const std::string& project_version();   // ${PROJECT_VERSION}

// A config with `listen` as server.listen (TOML strings, e.g. "\"127.0.0.1:0\"") and
// `extra` appended (more [server] keys, or whole tables after a blank line). No plugins
// unless `extra` adds some.
std::string make_config(const std::vector<std::string>& listen, const std::string& extra = "");

class SpoaHost {
 public:
  // Writes `config` to DIR/spoa-host.toml and starts `spoa-host -c FILE ARGS...`.
  SpoaHost(const TempDir& dir, const std::string& config, const std::vector<std::string>& args = {},
           const ProcessOptions& options = {});

  // Waits for the ready line that main.cpp logs once every listener is bound:
  //   "... ready: listening on ADDR, ADDR; N I/O threads; plugins: ..."
  // False if spoa-host exits or `timeout` passes first (stderr_text() says why).
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // The bound addresses of the ready line: "127.0.0.1:41234", "[::1]:41235", "unix:/p".
  const std::vector<std::string>& addresses() const { return addresses_; }
  unsigned threads() const { return threads_; }

  // SIGTERM, then the exit status (nullopt: still running after `timeout`).
  std::optional<int> stop(std::chrono::milliseconds timeout = std::chrono::seconds(60));

  Process& process() { return process_; }
  std::string stderr_text() const { return process_.stderr_text(); }
  const std::string& config_file() const { return config_file_; }

 private:
  std::string config_file_;
  Process process_;
  std::vector<std::string> addresses_;
  unsigned threads_ = 0;
};

}  // namespace spoa::test
