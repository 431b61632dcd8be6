#include "metrics/http_endpoint.hpp"

#include <pthread.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <exception>

#include "agent/listener.hpp"
#include "log/log.hpp"
#include "metrics/http.hpp"
#include "metrics/text_writer.hpp"

namespace spoa::metrics {

namespace asio = boost::asio;

namespace {
// Accept errors such as EMFILE repeat while their cause lasts: retry later, not in a loop.
constexpr std::chrono::milliseconds accept_retry_delay{100};
}  // namespace

// One client: read the head, answer, close. Everything runs on the endpoint's thread.
class HttpEndpoint::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(HttpEndpoint& endpoint, agent::Listener::Socket socket)
      : endpoint_(endpoint), socket_(std::move(socket)), deadline_(endpoint.io_) {
    ++endpoint_.active_;
  }
  ~Session() { --endpoint_.active_; }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void start() {
    // One deadline for the whole exchange: a client that trickles its request or never
    // reads the response is cut off, whatever it does.
    deadline_.expires_after(endpoint_.limits_.timeout);
    deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (!error) self->close();
    });
    read();
  }

 private:
  void read() {
    socket_.async_read_some(
        asio::buffer(chunk_),
        [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
          self->on_read(error, bytes);
        });
  }

  void on_read(const boost::system::error_code& error, size_t bytes) {
    if (error) return close();
    request_.append(chunk_.data(), bytes);
    HttpRequest request;
    switch (parse_request_head(request_, endpoint_.limits_.max_request_bytes, request)) {
      case HeadStatus::incomplete:
        return read();
      case HeadStatus::too_large:
        return respond({431, "text/plain; charset=utf-8", "request head too large\n"}, false);
      case HeadStatus::malformed:
        return respond({400, "text/plain; charset=utf-8", "bad request\n"}, false);
      case HeadStatus::complete:
        break;
    }
    const bool head = request.method == "HEAD";
    try {
      respond(route(request, content_type, [this] { return endpoint_.render_(); }), head);
    } catch (const std::exception& e) {
      log::error("metrics: cannot render a scrape: {}", e.what());
      respond({500, "text/plain; charset=utf-8", "internal error\n"}, false);
    }
  }

  void respond(const HttpResponse& response, bool head_only) {
    response_ = serialize(response, head_only);
    request_.clear();
    asio::async_write(socket_, asio::buffer(response_),
                      [self = shared_from_this()](const boost::system::error_code& error, size_t) {
                        if (!error) {
                          // FIN after the response, so the client sees its end even if it
                          // ignores Content-Length.
                          boost::system::error_code ignored;
                          self->socket_.shutdown(asio::socket_base::shutdown_send, ignored);
                        }
                        self->close();
                      });
  }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    deadline_.cancel();
  }

  HttpEndpoint& endpoint_;
  agent::Listener::Socket socket_;
  asio::steady_timer deadline_;
  std::array<char, 1024> chunk_{};
  std::string request_;
  std::string response_;
};

HttpEndpoint::HttpEndpoint(Render render, Limits limits)
    : render_(std::move(render)), limits_(limits) {}

std::unique_ptr<HttpEndpoint> HttpEndpoint::bind(const config::ListenAddress& address,
                                                 Render render, std::string& error, Limits limits) {
  std::unique_ptr<HttpEndpoint> endpoint(new HttpEndpoint(std::move(render), limits));
  std::string reason;
  if (!agent::bind_listeners(endpoint->io_, address, endpoint->listeners_, reason)) {
    // bind_listeners says "listen ADDR: reason"; this listener is the metrics one.
    error = "metrics " + reason;
    return nullptr;
  }
  return endpoint;
}

HttpEndpoint::~HttpEndpoint() {
  stop();
  for (auto& listener : listeners_)
    listener->close();
}

void HttpEndpoint::start() {
  if (thread_.joinable()) return;
  for (size_t i = 0; i < listeners_.size(); ++i)
    accept(i);
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "spoa-metrics");
    // Handlers are ours; an exception escaping one is a bug, but a metrics bug must not
    // take the agent down: log it and go on serving.
    while (!io_.stopped()) {
      try {
        io_.run();
      } catch (const std::exception& e) {
        log::error("metrics: unexpected exception: {}", e.what());
      }
    }
  });
}

void HttpEndpoint::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

std::vector<std::string> HttpEndpoint::local_addresses() const {
  std::vector<std::string> addresses;
  for (const auto& listener : listeners_)
    addresses.push_back(listener->local_address());
  return addresses;
}

void HttpEndpoint::accept(size_t index) {
  agent::Listener& listener = *listeners_[index];
  listener.acceptor().async_accept(
      [this, index](const boost::system::error_code& error, agent::Listener::Socket socket) {
        if (error == asio::error::operation_aborted) return;
        if (error) {
          log::warn("metrics {}: accept failed, retrying: {}", listeners_[index]->local_address(),
                    error.message());
          retry_accept_later(index);
          return;
        }
        if (active_ < limits_.max_clients) {
          std::make_shared<Session>(*this, std::move(socket))->start();
        }  // else the socket closes here: scrapers retry, a flood gets nothing
        accept(index);
      });
}

void HttpEndpoint::retry_accept_later(size_t index) {
  auto timer = std::make_shared<asio::steady_timer>(io_, accept_retry_delay);
  timer->async_wait([this, index, timer](const boost::system::error_code& error) {
    if (!error) accept(index);
  });
}

}  // namespace spoa::metrics
