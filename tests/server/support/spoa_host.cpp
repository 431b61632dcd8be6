#include "support/spoa_host.hpp"

#include <signal.h>

#include <regex>

namespace spoa::test {

const std::string& spoa_host_binary() {
  static const std::string path = SPOA_HOST_BINARY;
  return path;
}

const std::string& build_plugin_dir() {
  static const std::string path = SPOA_BUILD_PLUGIN_DIR;
  return path;
}

const std::string& project_version() {
  static const std::string version = SPOA_PROJECT_VERSION;
  return version;
}

std::string make_config(const std::vector<std::string>& listen, const std::string& extra) {
  std::string text = "[server]\nlisten = [";
  for (size_t i = 0; i < listen.size(); ++i)
    text += (i == 0 ? "" : ", ") + listen[i];
  text += "]\n";
  text += extra;
  if (!extra.empty() && extra.back() != '\n') text += '\n';
  return text;
}

namespace {
std::string write_config(const TempDir& dir, const std::string& config) {
  return dir.write("spoa-host.toml", config);
}
}  // namespace

SpoaHost::SpoaHost(const TempDir& dir, const std::string& config,
                   const std::vector<std::string>& args, const ProcessOptions& options)
    : config_file_(write_config(dir, config)),
      process_(
          spoa_host_binary(),
          [&] {
            std::vector<std::string> all{"-c", config_file_};
            all.insert(all.end(), args.begin(), args.end());
            return all;
          }(),
          options) {}

bool SpoaHost::wait_ready(std::chrono::milliseconds timeout) {
  static const std::regex ready(R"(ready: listening on ([^;\n]*); (\d+) I/O threads)");
  const auto match = process_.wait_for_stderr(ready, timeout);
  if (!match) return false;
  addresses_.clear();
  const std::string& list = (*match)[1];
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(", ", start);
    addresses_.push_back(list.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 2;
  }
  threads_ = static_cast<unsigned>(std::stoul((*match)[2]));
  return true;
}

std::optional<int> SpoaHost::stop(std::chrono::milliseconds timeout) {
  process_.send_signal(SIGTERM);
  return process_.wait(timeout);
}

}  // namespace spoa::test
