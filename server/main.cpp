// spoa-host: the command line (design.md "Public contract"), then one of --check-config,
// --test or the server.
//
// Exit codes: 0 success; 1 a bad config, a plugin that fails to load or a listener that
// cannot be bound; 2 a bad command line. Scripts and systemd's ExecStartPre tell them apart.
#include <spoa/plugin.h>

#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "daemon.hpp"
#include "host/generation.hpp"
#include "host/test_mode.hpp"
#include "log/log.hpp"

#ifndef SPOA_HOST_VERSION
#error "SPOA_HOST_VERSION must be defined by the build (server/CMakeLists.txt)"
#endif
#ifndef SPOA_DEFAULT_PLUGIN_DIR
#error "SPOA_DEFAULT_PLUGIN_DIR must be defined by the build (server/CMakeLists.txt)"
#endif

namespace {

using namespace spoa;

constexpr int exit_ok = 0;
constexpr int exit_failure = 1;
constexpr int exit_usage = 2;

std::string version_line() {
  return std::string("spoa-host ") + SPOA_HOST_VERSION + " (plugin ABI " +
         std::to_string(SPOA_ABI_MAJOR) + "." + std::to_string(SPOA_ABI_MINOR) + ")";
}

void print_diagnostics(const std::vector<config::Diagnostic>& diagnostics) {
  for (const auto& diagnostic : diagnostics)
    std::cerr << diagnostic.to_string() << '\n';
}

int run(int argc, char** argv) {
  const config::CommandLineResult parsed = config::parse_command_line(argc, argv);
  if (!parsed.command_line) {
    std::cerr << "spoa-host: " << parsed.error << "\n\n" << parsed.help_text;
    return exit_usage;
  }
  const config::CommandLine& command_line = *parsed.command_line;
  if (command_line.show_help) {
    std::cout << command_line.help_text;
    return exit_ok;
  }
  if (command_line.show_version) {
    std::cout << version_line() << '\n';
    return exit_ok;
  }

  config::LoadResult loaded =
      config::load_config(command_line.config_file,
                          config::LoadOptions{SPOA_DEFAULT_PLUGIN_DIR, command_line.plugin_dir});
  if (!loaded.config) {
    print_diagnostics(loaded.errors);
    return exit_failure;
  }
  config::Config& config = *loaded.config;
  if (const auto errors = config::apply_overrides(command_line, config); !errors.empty()) {
    for (const auto& error : errors)
      std::cerr << "spoa-host: " << error << '\n';
    return exit_usage;
  }
  set_up_logging(config.log);

  std::vector<config::Diagnostic> errors;
  std::shared_ptr<host::Generation> generation = host::Generation::load(config, 1, errors);
  if (!generation) {
    print_diagnostics(errors);
    return exit_failure;
  }

  if (command_line.check_config) {
    // Every plugin was initialised; dropping the generation shuts them down again, so
    // that a plugin's shutdown is exercised too before the real start.
    generation.reset();
    std::cout << "configuration OK\n";
    return exit_ok;
  }
  if (command_line.test_message) {
    return host::run_test_mode(config, std::move(generation), *command_line.test_message,
                               command_line.test_args, std::cout, std::cerr);
  }
  return run_daemon(command_line, config, std::move(generation), SPOA_DEFAULT_PLUGIN_DIR,
                    version_line());
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    // Startup paths report their errors themselves; this is for the unforeseen.
    log::error("fatal: {}", e.what());
    return exit_failure;
  }
}
