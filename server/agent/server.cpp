#include "agent/server.hpp"

#include <pthread.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <exception>

#include "agent/connection.hpp"
#include "agent/worker.hpp"
#include "log/log.hpp"

namespace spoa::agent {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::chrono::milliseconds min_drain_timeout = 10s;
// Beyond timeouts.processing, time for the last ACKs and DISCONNECTs to be written.
constexpr std::chrono::milliseconds drain_margin = 5s;
// After close_connections(), how long worker threads may take to run out of work before
// their io_context is stopped outright (a timer left armed must not hang the exit).
constexpr std::chrono::milliseconds worker_exit_grace = 2s;
// Accept errors such as EMFILE repeat at once while the cause lasts: back off instead of
// spinning on the main thread.
constexpr std::chrono::milliseconds accept_retry_delay = 100ms;
// How often replaced generations are checked for their last user.
constexpr std::chrono::milliseconds reap_interval = 1s;

unsigned resolve_thread_count(unsigned configured) {
  if (configured != 0) return configured;
  const unsigned cpus = std::thread::hardware_concurrency();
  return cpus == 0 ? 1 : cpus;
}

// Errors of one connection attempt (the peer gave up, or a transient shortage): the
// listener itself is fine and accepting continues.
bool is_transient_accept_error(const boost::system::error_code& error) {
  return error == asio::error::connection_aborted || error == asio::error::no_descriptors ||
         error == asio::error::no_buffer_space || error == asio::error::no_memory ||
         error.value() == ENFILE || error.value() == EPROTO || error.value() == EPERM;
}

}  // namespace

Server::Server(const config::Config& config, std::shared_ptr<const host::Generation> generation,
               ServerOptions options)
    : settings_(engine_settings(config)),
      listen_(config.server.listen),
      inherited_(std::move(options.inherited_listeners)),
      metrics_(options.metrics),
      main_metrics_(options.metrics != nullptr ? &options.metrics->add_thread() : nullptr),
      thread_count_(resolve_thread_count(config.server.threads)),
      max_connections_(std::max<size_t>(1, config.server.max_connections)),
      drain_timeout_(options.drain_timeout.value_or(
          std::max(min_drain_timeout, std::chrono::duration_cast<std::chrono::milliseconds>(
                                          config.timeouts.processing + drain_margin)))),
      generation_(std::move(generation)) {}

Server::~Server() {
  // run() normally leaves nothing to do here; this covers a run() that threw.
  if (!threads_.empty()) {
    for (auto& worker : workers_) {
      Worker* target = worker.get();
      asio::post(target->io(), [target] { target->close_connections(); });
    }
  }
  tear_down();
}

std::vector<std::string> Server::local_addresses() const {
  std::vector<std::string> addresses;
  addresses.reserve(listeners_.size());
  for (const auto& listener : listeners_)
    addresses.push_back(listener->local_address());
  return addresses;
}

int Server::run() {
  // Signals first, so that a SIGTERM from here on means a drain, not an abrupt death.
  signals_.add(SIGTERM);
  signals_.add(SIGINT);
  signals_.add(SIGHUP);
  wait_for_signal();

  if (!bind_all()) {
    close_listeners();
    signals_.cancel();
    return 1;
  }
  start_workers();
  state_ = State::running;
  sample_stalls();
  for (size_t i = 0; i < listeners_.size(); ++i)
    accept(i);
  if (on_ready_) on_ready_();

  // Only finish() stops the main context; exceptions from handlers are bugs, but a daemon
  // that serves thousands of connections should log one and go on rather than abort them all.
  while (!io_.stopped()) {
    try {
      io_.run();
    } catch (const std::exception& e) {
      log::error("unexpected exception on the main thread: {}", e.what());
    }
  }

  tear_down();
  state_ = State::stopped;
  log::info("stopped");
  return 0;
}

bool Server::bind_all() {
  std::string error;
  if (!inherited_.empty()) {
    for (const auto& inherited : inherited_) {
      auto listener = adopt_listener(io_, inherited.fd, error, inherited.name);
      if (!listener) {
        log::error("{}", error);
        return false;
      }
      listeners_.push_back(std::move(listener));
    }
  } else {
    for (const auto& address : listen_) {
      if (!bind_listeners(io_, address, listeners_, error)) {
        log::error("{}", error);
        return false;
      }
    }
  }
  accepting_.assign(listeners_.size(), false);
  return true;
}

void Server::start_workers() {
  workers_.reserve(thread_count_);
  for (unsigned i = 0; i < thread_count_; ++i) {
    auto worker = std::make_unique<Worker>(i, settings_, generation_);
    if (metrics_ != nullptr) worker->set_metrics(&metrics_->add_thread());
    if (settings_.async) worker->set_async_routes(&async_routes_);
    // Runs on the worker thread: the count and the accept state belong to the main thread.
    worker->set_on_connection_closed(
        [this] { asio::post(io_, [this] { on_connection_closed(); }); });
    stall_watch_.watch(worker->dispatcher().inline_calls(), i);
    guards_.push_back(asio::make_work_guard(worker->io()));
    workers_.push_back(std::move(worker));
  }
  for (unsigned i = 0; i < thread_count_; ++i) {
    Worker* worker = workers_[i].get();
    threads_.emplace_back([this, worker] {
      const std::string name = "spoa-io-" + std::to_string(worker->index());
      pthread_setname_np(pthread_self(), name.c_str());  // shows in top -H and gdb
      while (true) {
        try {
          worker->io().run();
          break;
        } catch (const std::exception& e) {
          log::error("unexpected exception on I/O thread {}: {}", worker->index(), e.what());
        }
      }
      std::lock_guard lock(exited_mutex_);
      ++exited_;
      exited_changed_.notify_all();
    });
  }
}

void Server::stop_workers() {
  if (threads_.empty()) return;
  // close_connections() was posted by finish(); with the guards gone each context runs out
  // of work once its connections' handlers have unwound.
  guards_.clear();
  {
    std::unique_lock lock(exited_mutex_);
    if (!exited_changed_.wait_for(lock, worker_exit_grace,
                                  [this] { return exited_ == threads_.size(); })) {
      log::warn("I/O threads still busy {} ms after closing their connections: stopping them",
                worker_exit_grace.count());
    }
  }
  for (auto& worker : workers_)
    worker->io().stop();
  {
    // A stopped context returns from run() once the handler it is in returns. One that does
    // not is inside a plugin (an inline handler that never returns): joining would hang.
    std::unique_lock lock(exited_mutex_);
    if (!exited_changed_.wait_for(lock, worker_exit_grace,
                                  [this] { return exited_ == threads_.size(); })) {
      stuck_ = true;
    }
  }
  if (stuck_) {
    log::error(
        "{} of {} I/O threads still inside plugin code {} ms after being stopped: exiting "
        "without joining them and without shutting the plugins down (their code still runs)",
        threads_.size() - exited_, threads_.size(), worker_exit_grace.count());
    for (auto& thread : threads_)
      thread.detach();
    threads_.clear();
    return;
  }
  for (auto& thread : threads_)
    thread.join();
  threads_.clear();
}

void Server::tear_down() {
  stop_workers();
  close_listeners();
  // An accept that close() aborted still holds a socket made on a worker's context, and its
  // handler waits in the main context: run it now, before that worker's context is gone.
  io_.restart();
  io_.poll();
  parked_.clear();
  if (stuck_) {
    // A detached thread still runs a worker's context and a generation's plugin code:
    // neither may be destroyed. The process exits next (the daemon does not return
    // through destructors in this case).
    for (auto& worker : workers_)
      (void)worker.release();
    workers_.clear();
    (void)new std::shared_ptr<const host::Generation>(generation_);
    (void)new std::vector<std::shared_ptr<const host::Generation>>(retired_);
    return;
  }
  release_generations();
  workers_.clear();
}

void Server::release_generations() {
  // Main thread, worker threads joined: the workers' references go first, so that the last
  // one (and the plugin shutdown it triggers) is the server's own, here.
  for (auto& worker : workers_)
    worker->set_generation(nullptr);
  retired_.clear();
  generation_.reset();
}

void Server::wait_for_signal() {
  signals_.async_wait([this](const boost::system::error_code& error, int number) {
    if (error) return;  // cancelled: shutting down
    // Re-armed before the signal is handled: a handler that throws (a reload gone wrong)
    // must not leave the daemon deaf to the next SIGHUP or SIGTERM.
    if (state_ != State::stopping && state_ != State::stopped) wait_for_signal();
    on_signal(number);
  });
}

void Server::on_signal(int number) {
  switch (number) {
    case SIGTERM:
    case SIGINT:
      log::info("{} received", number == SIGTERM ? "SIGTERM" : "SIGINT");
      begin_drain();
      break;
    case SIGHUP:
      if (state_ != State::running) {
        // Reloading plugins while connections drain would announce READY after STOPPING.
        log::info("SIGHUP ignored: shutting down");
      } else if (on_reload_) {
        on_reload_();
      } else {
        log::info("reload requested (not supported yet)");
      }
      break;
    default:
      break;
  }
}

void Server::stop() {
  asio::post(io_, [this] { begin_drain(); });
}

void Server::swap_generation(std::shared_ptr<const host::Generation> generation) {
  if (!generation) return;
  asio::dispatch(io_, [this, generation = std::move(generation)] {
    if (generation_ == generation) return;
    if (generation_) retired_.push_back(generation_);
    generation_ = generation;
    for (auto& worker : workers_) {
      Worker* target = worker.get();
      asio::post(target->io(), [target, generation] { target->set_generation(generation); });
    }
    reap_retired_generations();
  });
}

void Server::swap_settings(const EngineSettings& settings) {
  asio::dispatch(io_, [this, settings] {
    settings_ = settings;
    for (auto& worker : workers_) {
      Worker* target = worker.get();
      asio::post(target->io(), [target, settings] { target->set_settings(settings); });
    }
  });
}

void Server::probe_workers(std::function<void()> done) {
  asio::dispatch(io_, [this, done = std::move(done)]() mutable {
    auto remaining = std::make_shared<std::atomic<size_t>>(workers_.size());
    auto shared_done = std::make_shared<std::function<void()>>(std::move(done));
    if (workers_.empty()) {
      (*shared_done)();
      return;
    }
    for (auto& worker : workers_) {
      asio::post(worker->io(), [this, remaining, shared_done] {
        if (remaining->fetch_sub(1) == 1) asio::post(io_, [shared_done] { (*shared_done)(); });
      });
    }
  });
}

void Server::reap_retired_generations() {
  // use_count() == 1 means only this list holds it: no worker dispatches into it and no
  // connection's request still points at it, and none can get a new reference from here.
  const auto unused = [](const std::shared_ptr<const host::Generation>& generation) {
    return generation.use_count() == 1;
  };
  for (const auto& generation : retired_) {
    if (unused(generation)) log::info("plugin generation {} shut down", generation->number());
  }
  std::erase_if(retired_, unused);
  if (retired_.empty() || state_ == State::stopping || state_ == State::stopped) return;
  reap_timer_.expires_after(reap_interval);
  reap_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) reap_retired_generations();
  });
}

void Server::sample_stalls() {
  stall_timer_.expires_after(stall_watch_.period());
  stall_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || state_ == State::stopping || state_ == State::stopped) return;
    stall_watch_.sample(host::StallWatch::Clock::now());
    sample_stalls();
  });
}

// --- accepting ---------------------------------------------------------------------------

void Server::accept(size_t index) {
  Listener& listener = *listeners_[index];
  if (state_ != State::running || accept_paused_ || accepting_[index] ||
      !listener.acceptor().is_open()) {
    return;
  }
  accepting_[index] = true;
  Worker& worker = *workers_[next_worker_];
  next_worker_ = (next_worker_ + 1) % workers_.size();
  // The socket is created on the worker's context: its Connection never changes thread.
  using WorkerSocket = Socket::rebind_executor<asio::io_context::executor_type>::other;
  listener.acceptor().async_accept(
      worker.io(),
      [this, index, &worker](const boost::system::error_code& error, WorkerSocket peer) {
        on_accept(index, worker, error, Socket(std::move(peer)));
      });
}

void Server::on_accept(size_t index, Worker& worker, const boost::system::error_code& error,
                       Socket socket) {
  accepting_[index] = false;
  if (error == asio::error::operation_aborted) {
    // Cancelled by pause_accepting(), or closed by the drain. A resume may have come
    // between the cancel and this handler and found this listener still busy.
    accept(index);
    return;
  }
  Listener& listener = *listeners_[index];
  if (error) {
    if (is_transient_accept_error(error)) {
      // Out of fds, typically: it repeats every retry while it lasts, so say it once.
      if (!accept_failing_) {
        log::warn("{}: accept failed, retrying: {}", listener.local_address(), error.message());
        accept_failing_ = true;
      }
      retry_accept_later(index);
    } else {
      log::error("{}: accept failed, no longer accepting here: {}", listener.local_address(),
                 error.message());
    }
    return;
  }
  if (accept_failing_) {
    log::info("{}: accepting again", listener.local_address());
    accept_failing_ = false;
  }
  if (state_ != State::running) return;  // the socket closes as it goes out of scope

  listener.configure_accepted(socket);
  if (main_metrics_ != nullptr) main_metrics_->connections_accepted.add();
  std::string peer = listener.describe_peer(socket);
  if (connections_ >= max_connections_) {
    parked_.push_back(Parked{std::move(socket), &worker, std::move(peer)});
  } else {
    start_connection(worker, std::move(socket), std::move(peer));
  }
  if (connections_ >= max_connections_) {
    pause_accepting();
  } else {
    accept(index);
  }
}

void Server::retry_accept_later(size_t index) {
  auto timer = std::make_shared<asio::steady_timer>(io_, accept_retry_delay);
  timer->async_wait([this, index, timer](const boost::system::error_code& error) {
    if (!error) accept(index);
  });
}

void Server::start_connection(Worker& worker, Socket socket, std::string peer) {
  ++connections_;
  log::debug("connection from {} on I/O thread {}", peer, worker.index());
  asio::post(worker.io(),
             [this, &worker, socket = std::move(socket), peer = std::move(peer)]() mutable {
               try {
                 std::make_shared<Connection>(worker, std::move(socket), std::move(peer))->start();
               } catch (const std::exception& e) {
                 // It never attached, so no close callback will release its slot: release it here.
                 log::error("cannot start a connection: {}", e.what());
                 asio::post(io_, [this] { on_connection_closed(); });
               }
             });
}

void Server::on_connection_closed() {
  if (connections_ > 0) --connections_;
  if (state_ == State::running) {
    resume_accepting();
  } else if (state_ == State::draining && connections_ == 0) {
    log::info("every connection closed");
    finish();
  }
}

void Server::pause_accepting() {
  if (!accept_paused_) {
    accept_paused_ = true;
    log::warn("max_connections ({}) reached: not accepting until a connection closes",
              max_connections_);
  }
  // Other listeners' accepts may be outstanding; one that completes anyway is parked.
  for (size_t i = 0; i < listeners_.size(); ++i) {
    if (accepting_[i]) {
      boost::system::error_code ignored;
      listeners_[i]->acceptor().cancel(ignored);
    }
  }
}

void Server::resume_accepting() {
  while (connections_ < max_connections_ && !parked_.empty()) {
    Parked parked = std::move(parked_.front());
    parked_.pop_front();
    start_connection(*parked.worker, std::move(parked.socket), std::move(parked.peer));
  }
  if (!accept_paused_ || connections_ >= max_connections_) return;
  accept_paused_ = false;
  log::info("accepting connections again ({} open, max_connections {})", connections_,
            max_connections_);
  for (size_t i = 0; i < listeners_.size(); ++i)
    accept(i);
}

// --- shutdown ----------------------------------------------------------------------------

void Server::begin_drain() {
  if (state_ == State::draining) {
    log::warn("second stop request: closing {} connections now", connections_);
    finish();
    return;
  }
  if (state_ != State::running) return;
  state_ = State::draining;
  if (on_stopping_) on_stopping_();
  close_listeners();
  // Parked sockets never saw a HELLO reply; HAProxy retries them elsewhere.
  parked_.clear();
  log::info("shutting down: stopped accepting, draining {} connections (at most {} ms)",
            connections_, drain_timeout_.count());
  for (auto& worker : workers_) {
    Worker* target = worker.get();
    asio::post(target->io(), [target] { target->shutdown_connections(); });
  }
  if (connections_ == 0) {
    finish();
    return;
  }
  drain_timer_.expires_after(drain_timeout_);
  drain_timer_.async_wait([this](const boost::system::error_code& error) {
    if (error || state_ != State::draining) return;
    log::warn("drain deadline of {} ms passed with {} connections open: closing them",
              drain_timeout_.count(), connections_);
    finish();
  });
}

void Server::close_listeners() {
  // Also removes the unix socket files, so nothing connects to a server that is leaving.
  for (auto& listener : listeners_)
    listener->close();
}

void Server::finish() {
  if (state_ == State::stopping || state_ == State::stopped) return;
  state_ = State::stopping;
  close_listeners();
  parked_.clear();
  boost::system::error_code ignored;
  drain_timer_.cancel();
  reap_timer_.cancel();
  stall_timer_.cancel();
  signals_.cancel(ignored);
  for (auto& worker : workers_) {
    Worker* target = worker.get();
    asio::post(target->io(), [target] { target->close_connections(); });
  }
  io_.stop();
}

}  // namespace spoa::agent
