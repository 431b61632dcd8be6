#pragma once
// Running as a service: the Server plus what systemd and operators expect around it:
// Type=notify readiness and status, the watchdog, socket activation, and SIGHUP reload of
// the config and plugins without dropping a connection.
#include <memory>
#include <string>

#include "config/config.hpp"
#include "host/generation.hpp"

namespace spoa {

void set_up_logging(const config::LogSettings& settings);
// "echo (/usr/lib/.../echo.so) → echo, echo-res; delay (...) → delay"
std::string describe_plugins(const host::Generation& generation);

// Serves until SIGTERM/SIGINT; returns the process exit code. `generation` is number 1.
int run_daemon(const config::CommandLine& command_line, const config::Config& config,
               std::shared_ptr<host::Generation> generation, const std::string& default_plugin_dir,
               const std::string& version);

}  // namespace spoa
