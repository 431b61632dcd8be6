#pragma once
// The daemon's run loop: listeners, I/O threads, max_connections, signals and the
// graceful drain (design.md "Signals"; style.md "The Asio server").
//
// Threads: the thread that calls run() is the main thread. It owns the listeners, accepts,
// counts connections, handles signals and is the only thread that drops the last reference
// to a plugin generation (plugin shutdown must run there). Each Worker runs its own
// io_context on its own std::thread; an accepted socket is created on the chosen worker's
// io_context and its Connection lives there until it closes.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/async_routes.hpp"
#include "agent/engine_settings.hpp"
#include "agent/listener.hpp"
#include "config/config.hpp"
#include "host/dispatcher.hpp"
#include "host/generation.hpp"
#include "host/stall_watch.hpp"
#include "metrics/registry.hpp"

namespace spoa::agent {

class Worker;

struct ServerOptions {
  // How long a graceful shutdown waits for connections to finish before closing them.
  // Unset: the larger of 10 s and timeouts.processing + 5 s, so a NOTIFY that has just
  // arrived can still be answered. Keep it under systemd's TimeoutStopSec.
  std::optional<std::chrono::milliseconds> drain_timeout;
  // Listening sockets inherited from systemd (LISTEN_FDS). When not empty they replace
  // server.listen entirely, as design.md says socket activation does.
  struct InheritedListener {
    int fd;
    std::string name;  // FileDescriptorName=, for logs; empty: "fd N"
  };
  std::vector<InheritedListener> inherited_listeners;
  // Where each thread's counters go; nullptr: no metrics (nothing counted). Must outlive
  // the server.
  metrics::Registry* metrics = nullptr;
};

class Server {
 public:
  // `generation` must be the only reference left outside the server (move it in): the
  // server drops it on the main thread after its workers, before their request pools go.
  Server(const config::Config& config, std::shared_ptr<const host::Generation> generation,
         ServerOptions options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Main thread, once every listener is bound and every worker thread runs (before the
  // first connection is served). Issue 5 sends READY=1 here.
  void set_on_ready(std::function<void()> callback) { on_ready_ = std::move(callback); }
  // Main thread, on SIGHUP. Without one, SIGHUP is logged as not supported.
  void set_on_reload(std::function<void()> callback) { on_reload_ = std::move(callback); }
  // Main thread, once, when a graceful shutdown begins (systemd's STOPPING=1).
  void set_on_stopping(std::function<void()> callback) { on_stopping_ = std::move(callback); }

  // Binds, starts the workers and serves until SIGTERM/SIGINT (or stop()) and the drain
  // that follows are over. Returns the process exit code: 0 after a shutdown, 1 when a
  // listener cannot be bound (the reason is logged as "listen TEXT: reason"). Call once.
  int run();

  // Any thread: the same as SIGTERM. A second call during the drain closes every
  // connection at once, as a second SIGTERM does.
  void stop();

  // Any thread: new NOTIFYs dispatch into `generation` from now on. The previous one is
  // shut down on the main thread once no worker and no request refers to it any more.
  void swap_generation(std::shared_ptr<const host::Generation> generation);

  // After run(): an I/O thread was left inside plugin code. The caller must then leave the
  // process without running destructors (std::_Exit), since that code still runs.
  bool stuck() const { return stuck_; }
  // Any thread: new connections and new NOTIFYs use these limits and timeouts (a reload).
  void swap_settings(const EngineSettings& settings);
  // Any thread: `done` runs on the main thread once every worker has run an empty task,
  // i.e. no worker's event loop is stuck. Drives the systemd watchdog.
  void probe_workers(std::function<void()> done);

  // The main thread's context: signals, accepts, timers. Issue 5 hangs its watchdog here.
  boost::asio::io_context& io() { return io_; }
  // What the listeners are bound to ("127.0.0.1:41234", "unix:/run/x.sock"), valid from
  // on_ready on. A port 0 in the config shows here as the kernel's choice.
  std::vector<std::string> local_addresses() const;
  unsigned thread_count() const { return thread_count_; }
  std::chrono::milliseconds drain_timeout() const { return drain_timeout_; }

 private:
  enum class State { created, running, draining, stopping, stopped };
  using Socket = Listener::Socket;
  struct Parked {
    Socket socket;
    Worker* worker;
    std::string peer;
  };

  bool bind_all();
  void start_workers();
  void stop_workers();
  // After the main loop: workers joined, then the generations dropped, then the workers.
  void tear_down();
  void release_generations();

  void wait_for_signal();
  void on_signal(int number);

  void accept(size_t listener);
  void on_accept(size_t listener, Worker& worker, const boost::system::error_code& error,
                 Socket socket);
  void retry_accept_later(size_t listener);
  void start_connection(Worker& worker, Socket socket, std::string peer);
  void on_connection_closed();
  void pause_accepting();
  void resume_accepting();

  void begin_drain();
  void close_listeners();
  void finish();

  void reap_retired_generations();
  void sample_stalls();

  // Settings read once from the config.
  EngineSettings settings_;
  std::vector<config::ListenAddress> listen_;
  std::vector<ServerOptions::InheritedListener> inherited_;
  metrics::Registry* metrics_;
  metrics::ThreadMetrics* main_metrics_ = nullptr;  // accepts, main thread
  unsigned thread_count_;
  size_t max_connections_;
  std::chrono::milliseconds drain_timeout_;

  std::function<void()> on_ready_;
  std::function<void()> on_reload_;
  std::function<void()> on_stopping_;

  // Destroyed last: every object below may hold handlers or sockets of it.
  boost::asio::io_context io_{1};
  boost::asio::signal_set signals_{io_};
  boost::asio::steady_timer drain_timer_{io_};
  boost::asio::steady_timer reap_timer_{io_};
  boost::asio::steady_timer stall_timer_{io_};
  // Samples every worker's inline call (host/stall_watch.hpp); main thread only.
  host::StallWatch stall_watch_{host::stall_threshold};
  State state_ = State::created;

  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<bool> accepting_;  // per listener: an async_accept is outstanding

  // Async connections by engine-id, shared by the workers below (which it outlives).
  AsyncRoutes async_routes_;
  // Destroyed after the generations below: the request pools inside must outlive plugin
  // shutdown, since a plugin may still complete() into them while shutting down.
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::mutex exited_mutex_;
  std::condition_variable exited_changed_;
  size_t exited_ = 0;  // worker threads whose run() has returned
  // An I/O thread did not return from plugin code after being stopped: detached, and its
  // worker and the generations leaked on purpose (stop_workers, tear_down).
  bool stuck_ = false;

  // Main thread only.
  size_t connections_ = 0;  // accepted and not yet closed, process-wide
  size_t next_worker_ = 0;
  bool accept_paused_ = false;
  bool accept_failing_ = false;  // a transient accept error was logged, not its end yet
  // Sockets accepted while at max_connections (several listeners may each complete an
  // accept at once): served first when a slot frees. On the workers' contexts, so
  // declared after workers_.
  std::deque<Parked> parked_;

  std::shared_ptr<const host::Generation> generation_;
  // Replaced generations that some worker or request may still use.
  std::vector<std::shared_ptr<const host::Generation>> retired_;
};

}  // namespace spoa::agent
