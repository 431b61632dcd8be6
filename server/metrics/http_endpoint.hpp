#pragma once
// The metrics endpoint: `GET /metrics` over HTTP/1.1 on `metrics.listen`, served by a
// thread of its own, so a scrape (or a slow scraper) never delays an I/O thread or the
// main thread's accepts and signals. It reads the counters through Registry::render().
//
// Robust to bad clients: a whole exchange (request in, response out) must end within
// `timeout`, a request head is at most `max_request_bytes`, and at most `max_clients` are
// served at once; a client past that is closed at once.
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "config/listen_address.hpp"

namespace spoa::agent {
class Listener;
}

namespace spoa::metrics {

class HttpEndpoint {
 public:
  struct Limits {
    std::chrono::milliseconds timeout{5000};
    size_t max_request_bytes = 8192;
    size_t max_clients = 16;
  };
  using Render = std::function<std::string()>;

  // Binds `address` (TCP or unix, like a server.listen) now, so that a bad address stops
  // the start like any listener. nullptr and "metrics listen ADDR: reason" in `error`.
  static std::unique_ptr<HttpEndpoint> bind(const config::ListenAddress& address, Render render,
                                            std::string& error, Limits limits);
  static std::unique_ptr<HttpEndpoint> bind(const config::ListenAddress& address, Render render,
                                            std::string& error) {
    return bind(address, std::move(render), error, Limits{});
  }

  // Stops and joins the thread; closes the listeners (removing a unix socket file).
  ~HttpEndpoint();
  HttpEndpoint(const HttpEndpoint&) = delete;
  HttpEndpoint& operator=(const HttpEndpoint&) = delete;

  // Starts serving on the endpoint's own thread ("spoa-metrics").
  void start();
  // Idempotent; any thread but the endpoint's own.
  void stop();

  // "127.0.0.1:9464" (the kernel's port for ":0"), "unix:/run/spoa-metrics.sock".
  std::vector<std::string> local_addresses() const;

 private:
  class Session;
  HttpEndpoint(Render render, Limits limits);

  void accept(size_t listener);
  void retry_accept_later(size_t listener);

  Render render_;
  Limits limits_;
  size_t active_ = 0;  // sessions alive; endpoint thread only
  // Sessions still queued in io_ when it is destroyed decrement active_: declared before.
  boost::asio::io_context io_{1};
  std::vector<std::unique_ptr<agent::Listener>> listeners_;
  std::thread thread_;
};

}  // namespace spoa::metrics
