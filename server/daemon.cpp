#include "daemon.hpp"

#include <boost/asio/steady_timer.hpp>

#include <optional>

#include "agent/engine_settings.hpp"
#include "agent/server.hpp"
#include "log/log.hpp"
#include "systemd/service_notifier.hpp"
#include "systemd/socket_activation.hpp"

namespace spoa {

namespace {

log::Level to_log_level(config::LogLevel level) {
  switch (level) {
    case config::LogLevel::trace:
      return log::Level::trace;
    case config::LogLevel::debug:
      return log::Level::debug;
    case config::LogLevel::info:
      return log::Level::info;
    case config::LogLevel::warn:
      return log::Level::warn;
    case config::LogLevel::error:
      return log::Level::error;
  }
  return log::Level::info;
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items)
    text += (text.empty() ? "" : ", ") + item;
  return text;
}

std::vector<std::string> listen_texts(const config::Config& config) {
  std::vector<std::string> texts;
  for (const auto& address : config.server.listen)
    texts.push_back(address.text);
  return texts;
}

class Daemon {
 public:
  Daemon(const config::CommandLine& command_line, const config::Config& config,
         std::string default_plugin_dir, std::string version)
      : command_line_(command_line),
        config_(config),
        default_plugin_dir_(std::move(default_plugin_dir)),
        version_(std::move(version)) {}

  int run(std::shared_ptr<host::Generation> generation) {
    std::vector<std::string> errors;
    const auto activated = systemd::take_activated_sockets(errors);
    for (const auto& error : errors)
      log::error("{}", error);
    if (!errors.empty()) return 1;

    agent::ServerOptions options;
    for (const auto& socket : activated)
      options.inherited_listeners.push_back({socket.fd, socket.name});
    const std::string plugins = describe_plugins(*generation);
    generation_number_ = generation->number();
    server_.emplace(config_, std::move(generation), std::move(options));
    agent::Server& server = *server_;

    server.set_on_ready([this, &server, plugins, activated = !activated.empty()] {
      // Tests and operators read this line; the addresses are the bound ones.
      log::info("{} ready: listening on {}{}; {} I/O threads; plugins: {}", version_,
                join(server.local_addresses()), activated ? " (socket activation)" : "",
                server.thread_count(), plugins);
      notifier_.ready(status_line());
      start_watchdog();
    });
    server.set_on_reload([this] { reload(); });
    server.set_on_stopping([this] { notifier_.stopping("draining connections"); });
    return server.run();
  }

 private:
  std::string status_line() const {
    return fmt::format("serving on {}; plugin generation {}", join(server_->local_addresses()),
                       generation_number_);
  }

  // WATCHDOG=1 only while every worker's event loop still turns: a probe goes round them
  // all each period, and a ping is sent only if the previous probe came back.
  void start_watchdog() {
    const auto period = notifier_.watchdog_period();
    if (!period) return;
    watchdog_timer_.emplace(server_->io());
    probe_answered_ = true;
    log::debug("systemd watchdog on: pinging every {} ms", period->count() / 1000);
    watchdog_tick(*period);
  }

  void watchdog_tick(std::chrono::microseconds period) {
    if (probe_answered_) {
      notifier_.watchdog();
      probe_answered_ = false;
      server_->probe_workers([this] { probe_answered_ = true; });
    } else {
      log::warn(
          "an I/O thread has not answered the watchdog probe for {} ms; withholding the "
          "systemd watchdog ping",
          period.count() / 1000);
    }
    watchdog_timer_->expires_after(period);
    watchdog_timer_->async_wait([this, period](const boost::system::error_code& error) {
      if (!error) watchdog_tick(period);
    });
  }

  void reload() {
    log::info("SIGHUP: reloading {}", command_line_.config_file);
    notifier_.reloading("reloading configuration");
    config::LoadResult loaded =
        config::load_config(command_line_.config_file,
                            config::LoadOptions{default_plugin_dir_, command_line_.plugin_dir});
    if (!loaded.config) return reload_failed(loaded.errors);
    config::Config& next = *loaded.config;
    if (const auto errors = config::apply_overrides(command_line_, next); !errors.empty()) {
      for (const auto& error : errors)
        log::error("reload: {}", error);
      return reload_failed({});
    }
    warn_restart_only_changes(next);

    std::vector<config::Diagnostic> errors;
    auto generation = host::Generation::load(next, generation_number_ + 1, errors);
    if (!generation) return reload_failed(errors);

    generation_number_ = generation->number();
    const std::string plugins = describe_plugins(*generation);
    set_up_logging(next.log);
    server_->swap_settings(agent::engine_settings(next));
    server_->swap_generation(std::move(generation));
    config_ = std::move(next);
    log::info("reload done: plugin generation {}; plugins: {}", generation_number_, plugins);
    notifier_.ready(status_line());
  }

  void reload_failed(const std::vector<config::Diagnostic>& errors) {
    for (const auto& error : errors)
      log::error("reload: {}", error.to_string());
    log::error("reload failed; still serving with plugin generation {}", generation_number_);
    // systemd waits for READY=1 after RELOADING=1 whatever the outcome.
    notifier_.ready(fmt::format("{}; last reload failed", status_line()));
  }

  // Listeners and threads belong to the running process; say so instead of ignoring it.
  void warn_restart_only_changes(const config::Config& next) const {
    if (listen_texts(next) != listen_texts(config_)) {
      log::warn("reload: server.listen changed; it takes effect after a restart");
    }
    if (next.server.threads != config_.server.threads) {
      log::warn("reload: server.threads changed; it takes effect after a restart");
    }
    if (next.server.max_connections != config_.server.max_connections) {
      log::warn("reload: server.max_connections changed; it takes effect after a restart");
    }
  }

  const config::CommandLine& command_line_;
  config::Config config_;
  std::string default_plugin_dir_;
  std::string version_;
  systemd::ServiceNotifier notifier_;
  std::optional<agent::Server> server_;
  std::optional<boost::asio::steady_timer> watchdog_timer_;
  bool probe_answered_ = true;
  uint64_t generation_number_ = 1;
};

}  // namespace

void set_up_logging(const config::LogSettings& settings) {
  log::set_level(to_log_level(settings.level));
  const bool journal =
      settings.target == config::LogTarget::journal ||
      (settings.target == config::LogTarget::automatic && log::stderr_is_journal());
  log::set_target(journal ? log::Target::journal : log::Target::stderr_stream);
}

std::string describe_plugins(const host::Generation& generation) {
  if (generation.instances().empty()) return "none";
  std::string text;
  for (const auto& instance : generation.instances()) {
    if (!text.empty()) text += "; ";
    text += instance->name() + " (" + instance->settings().path + ") →";
    const char* separator = " ";
    for (const auto& handler : instance->handlers()) {
      text += separator + handler.message;
      separator = ", ";
    }
  }
  return text;
}

int run_daemon(const config::CommandLine& command_line, const config::Config& config,
               std::shared_ptr<host::Generation> generation, const std::string& default_plugin_dir,
               const std::string& version) {
  Daemon daemon(command_line, config, default_plugin_dir, version);
  return daemon.run(std::move(generation));
}

}  // namespace spoa
