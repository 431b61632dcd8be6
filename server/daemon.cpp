#include "daemon.hpp"

#include <spoa/plugin.h>

#include <boost/asio/steady_timer.hpp>

#include <boost/asio/post.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "agent/engine_settings.hpp"
#include "agent/server.hpp"
#include "host/plugin_metrics.hpp"
#include "log/log.hpp"
#include "metrics/http_endpoint.hpp"
#include "metrics/process.hpp"
#include "metrics/registry.hpp"
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

// What a reload thread hands back to the main thread.
struct ReloadOutcome {
  std::optional<config::Config> config;
  std::shared_ptr<host::Generation> generation;
  std::vector<config::Diagnostic> errors;
  std::vector<std::string> override_errors;
};

class Daemon {
 public:
  Daemon(const config::CommandLine& command_line, const config::Config& config,
         std::string default_plugin_dir, std::string version)
      : command_line_(command_line),
        config_(config),
        default_plugin_dir_(std::move(default_plugin_dir)),
        version_(std::move(version)) {}
  ~Daemon() { wait_for_reload_thread(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

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
    generation_gauge_ = generation_number_;
    // Bound before the SPOP listeners: a metrics address that cannot be bound stops the
    // start the same way ("metrics listen ADDR: reason", exit 1).
    if (config_.metrics.listen && !start_metrics(*config_.metrics.listen)) return 1;
    options.metrics = metrics_.get();
    server_.emplace(config_, std::move(generation), std::move(options));
    agent::Server& server = *server_;
    io_threads_ = server.thread_count();

    std::vector<std::string> activated_names;
    for (const auto& socket : activated)
      activated_names.push_back(socket.name);
    const std::string origin =
        activated.empty() ? "" : fmt::format(" (socket activation: {})", join(activated_names));
    server.set_on_ready([this, &server, plugins, origin] {
      // Tests and operators read this line; the addresses are the bound ones.
      log::info("{} ready: listening on {}{}; {} I/O threads; plugins: {}", version_,
                join(server.local_addresses()), origin, server.thread_count(), plugins);
      notifier_.ready(status_line());
      start_watchdog();
      flush_suppressed_logs();
    });
    server.set_on_reload([this] { reload(); });
    server.set_on_stopping([this] { notifier_.stopping("draining connections"); });
    const int status = server.run();
    metrics_endpoint_.reset();  // its thread reads the registry: stop it first
    if (!wait_for_reload_thread()) {
      // A plugin's init() on the reload thread never returned: its code still runs, so no
      // destructor may unload it. Leave at once, as the stuck-worker path does.
      std::fflush(nullptr);
      std::_Exit(status);
    }
    if (server.stuck()) {
      // Not a clean stop: plugins were not shut down. Exit 1 so that systemd and scripts
      // see it; no destructor may run while that thread is inside a plugin.
      std::fflush(nullptr);
      std::_Exit(1);
    }
    return status;
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

  // The registry every thread counts into, the families only the daemon knows (build,
  // reloads, process, log), and the endpoint on its own thread.
  bool start_metrics(const config::ListenAddress& address) {
    metrics_ = std::make_unique<metrics::Registry>();
    metrics_->add_collector([this](metrics::TextWriter& w) { write_daemon_metrics(w); });
    // spoa_plugin_*: what plugins defined with define_metric (plugin.h).
    metrics_->add_collector([](metrics::TextWriter& w) { host::write_plugin_metrics(w); });
    std::string error;
    metrics_endpoint_ = metrics::HttpEndpoint::bind(
        address, [registry = metrics_.get()] { return registry->render(); }, error);
    if (!metrics_endpoint_) {
      log::error("{}", error);
      return false;
    }
    metrics_endpoint_->start();
    for (const auto& bound : metrics_endpoint_->local_addresses())
      log::info("metrics: serving Prometheus metrics on http://{}/metrics", bound);
    return true;
  }

  // Metrics thread. Reads only atomics and constants.
  void write_daemon_metrics(metrics::TextWriter& w) const {
    const std::string abi = fmt::format("{}.{}", SPOA_ABI_MAJOR, SPOA_ABI_MINOR);
    w.family("spoa_host_build_info", "gauge",
             "Always 1; the labels say which spoa-host and which plugin ABI version run.");
    w.sample("spoa_host_build_info", {{"version", SPOA_HOST_VERSION}, {"abi_version", abi}},
             uint64_t{1});
    w.family("spoa_host_io_threads", "gauge", "I/O threads serving SPOP connections.");
    w.sample("spoa_host_io_threads", {}, uint64_t{io_threads_.load(std::memory_order_relaxed)});
    w.family("spoa_host_reloads_total", "counter",
             "Reloads requested (SIGHUP), whatever their outcome.");
    w.sample("spoa_host_reloads_total", {}, reloads_.load(std::memory_order_relaxed));
    w.family("spoa_host_reload_failures_total", "counter",
             "Reloads that failed and left the previous configuration serving.");
    w.sample("spoa_host_reload_failures_total", {},
             reload_failures_.load(std::memory_order_relaxed));
    w.family("spoa_host_last_reload_success", "gauge",
             "1 if the last reload succeeded (or none was requested), 0 if it failed.");
    w.sample("spoa_host_last_reload_success", {},
             uint64_t{last_reload_ok_.load(std::memory_order_relaxed) ? 1u : 0u});
    w.family("spoa_host_last_reload_timestamp_seconds", "gauge",
             "When the last successful reload finished (Unix time); 0 before the first.");
    w.sample("spoa_host_last_reload_timestamp_seconds", {},
             last_reload_time_.load(std::memory_order_relaxed));
    w.family("spoa_host_plugin_generation", "gauge",
             "Number of the plugin generation new NOTIFYs are dispatched to (1 at start, +1 "
             "per successful reload).");
    w.sample("spoa_host_plugin_generation", {}, generation_gauge_.load(std::memory_order_relaxed));
    w.family("spoa_host_log_lines_suppressed_total", "counter",
             "Log lines dropped by the rate limit, by category.");
    for (const auto category :
         {log::Category::protocol, log::Category::plugin, log::Category::io}) {
      static constexpr std::array<std::string_view, log::category_count> labels = {"protocol",
                                                                                   "plugin", "io"};
      w.sample("spoa_host_log_lines_suppressed_total",
               {{"category", labels[static_cast<size_t>(category)]}},
               log::suppressed_total(category));
    }
    metrics::write_process_metrics(w, metrics::read_process_stats());
  }

  // "N similar messages suppressed" for a burst that stopped, instead of at the next line.
  void flush_suppressed_logs() {
    if (!log_flush_timer_) log_flush_timer_.emplace(server_->io());
    log::flush_suppressed();
    log_flush_timer_->expires_after(std::chrono::seconds(5));
    log_flush_timer_->async_wait([this](const boost::system::error_code& error) {
      if (!error) flush_suppressed_logs();
    });
  }

  // SIGHUP, main thread. The new generation (config parse, dlopen, every plugin's init())
  // is built on a thread of its own, so that accepts and the watchdog go on meanwhile; the
  // swap happens back here. A SIGHUP during a reload queues one more.
  void reload() {
    reloads_.fetch_add(1, std::memory_order_relaxed);
    if (reload_running_) {
      log::info("SIGHUP: a reload is already running; another follows it");
      reload_again_ = true;
      return;
    }
    start_reload();
  }

  void start_reload() {
    log::info("SIGHUP: reloading {}", command_line_.config_file);
    notifier_.reloading("reloading configuration");
    reload_running_ = true;
    if (reload_thread_.joinable()) reload_thread_.join();  // finished: it posted its outcome
    {
      std::lock_guard lock(reload_mutex_);
      reload_thread_done_ = false;
    }
    reload_thread_ = std::thread([this, number = generation_number_ + 1] {
      auto outcome = std::make_shared<ReloadOutcome>(build_generation(number));
      boost::asio::post(server_->io(), [this, outcome] { finish_reload(std::move(*outcome)); });
      std::lock_guard lock(reload_mutex_);
      reload_thread_done_ = true;
      reload_done_.notify_all();
    });
  }

  // Reload thread. Never throws: whatever goes wrong is a reload that failed.
  ReloadOutcome build_generation(uint64_t number) noexcept {
    ReloadOutcome outcome;
    try {
      config::LoadResult loaded =
          config::load_config(command_line_.config_file,
                              config::LoadOptions{default_plugin_dir_, command_line_.plugin_dir});
      if (!loaded.config) {
        outcome.errors = std::move(loaded.errors);
        return outcome;
      }
      outcome.override_errors = config::apply_overrides(command_line_, *loaded.config);
      if (!outcome.override_errors.empty()) return outcome;
      outcome.generation = host::Generation::load(*loaded.config, number, outcome.errors);
      if (outcome.generation) outcome.config = std::move(loaded.config);
    } catch (const std::exception& e) {
      outcome.generation.reset();
      outcome.errors.push_back({{command_line_.config_file, 0, 0},
                                std::string("internal error while reloading: ") + e.what()});
    } catch (...) {
      outcome.generation.reset();
      outcome.errors.push_back(
          {{command_line_.config_file, 0, 0}, "internal error while reloading"});
    }
    return outcome;
  }

  // Main thread, with what the reload thread built.
  void finish_reload(ReloadOutcome outcome) {
    try {
      if (!outcome.override_errors.empty()) {
        for (const auto& error : outcome.override_errors)
          log::error("reload: {}", error);
        reload_failed({});
      } else if (!outcome.generation || !outcome.config) {
        reload_failed(outcome.errors);
      } else {
        swap_in(std::move(*outcome.config), std::move(outcome.generation));
      }
    } catch (const std::exception& e) {
      log::error("reload: internal error: {}", e.what());
      reload_failed({});
    }
    reload_running_ = false;
    if (reload_again_) {
      reload_again_ = false;
      start_reload();
    }
  }

  void swap_in(config::Config next, std::shared_ptr<host::Generation> generation) {
    warn_restart_only_changes(next);
    generation_number_ = generation->number();
    const std::string plugins = describe_plugins(*generation);
    set_up_logging(next.log);
    server_->swap_settings(agent::engine_settings(next));
    server_->swap_generation(std::move(generation));
    config_ = std::move(next);
    generation_gauge_ = generation_number_;
    last_reload_ok_ = true;
    last_reload_time_ =
        std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
    log::info("reload done: plugin generation {}; plugins: {}", generation_number_, plugins);
    notifier_.ready(status_line());
  }

  // After the server stopped: the reload thread, if any, must be done before the daemon's
  // members go. False if it is still inside a plugin's init() after the grace period.
  bool wait_for_reload_thread() {
    if (!reload_thread_.joinable()) return true;
    std::unique_lock lock(reload_mutex_);
    if (!reload_done_.wait_for(lock, std::chrono::seconds(10),
                               [this] { return reload_thread_done_; })) {
      log::error(
          "a reload is still inside a plugin's init() 10 s after the server stopped; "
          "exiting without waiting for it");
      reload_thread_.detach();
      return false;
    }
    lock.unlock();
    reload_thread_.join();
    return true;
  }

  void reload_failed(const std::vector<config::Diagnostic>& errors) {
    reload_failures_.fetch_add(1, std::memory_order_relaxed);
    last_reload_ok_ = false;
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
  // Outlives the server: its worker threads write into the registry until they are joined.
  std::unique_ptr<metrics::Registry> metrics_;
  std::optional<agent::Server> server_;
  // Stopped before the server and the registry go (declared after them).
  std::unique_ptr<metrics::HttpEndpoint> metrics_endpoint_;
  std::optional<boost::asio::steady_timer> log_flush_timer_;
  // Read by the metrics thread.
  std::atomic<uint64_t> reloads_{0};
  std::atomic<uint64_t> reload_failures_{0};
  std::atomic<bool> last_reload_ok_{true};
  std::atomic<double> last_reload_time_{0};
  std::atomic<uint64_t> generation_gauge_{1};
  std::atomic<unsigned> io_threads_{0};
  std::optional<boost::asio::steady_timer> watchdog_timer_;
  bool probe_answered_ = true;
  uint64_t generation_number_ = 1;
  // Reloads (main thread, except the flag the reload thread sets under the mutex).
  bool reload_running_ = false;
  bool reload_again_ = false;
  std::thread reload_thread_;
  std::mutex reload_mutex_;
  std::condition_variable reload_done_;
  bool reload_thread_done_ = true;
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
