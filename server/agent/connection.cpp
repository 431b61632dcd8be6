#include "agent/connection.hpp"

#include <boost/asio/post.hpp>

#include <optional>

#include "agent/async_routes.hpp"
#include "agent/orphanage.hpp"
#include "agent/worker.hpp"
#include "log/log.hpp"

namespace spoa::agent {

namespace {

// Reads per turn of one connection before it yields to the others on its thread.
constexpr int reads_per_turn = 4;

// Metrics: what a failed read or write says about how the connection ended. Our own close
// (operation_aborted, bad_descriptor) gives no reason: whoever closed has set one.
std::optional<metrics::CloseReason> close_reason_of(const boost::system::error_code& error) {
  namespace errc = boost::asio::error;
  if (error == errc::eof) return metrics::CloseReason::normal;
  if (error == errc::connection_reset || error == errc::connection_aborted ||
      error == errc::broken_pipe) {
    return metrics::CloseReason::reset;
  }
  if (error == errc::operation_aborted || error == errc::bad_descriptor) return std::nullopt;
  return metrics::CloseReason::error;
}

bool is_normal_end(const boost::system::error_code& error) {
  namespace errc = boost::asio::error;
  return error == errc::eof || error == errc::connection_reset ||
         error == errc::connection_aborted || error == errc::broken_pipe ||
         error == errc::operation_aborted || error == errc::bad_descriptor;
}

}  // namespace

Connection::Connection(Worker& worker, Socket socket, std::string peer)
    : worker_(worker),
      socket_(std::move(socket)),
      engine_(worker.settings(), worker.scratch(), *this, worker.metrics(), std::move(peer)),
      timer_(worker.io()) {}

Connection::~Connection() {
  // Pending work is handed over or abandoned while this object is still whole.
  engine_.close(metrics::CloseReason::shutdown);
}

void Connection::start() {
  attached_ = true;
  worker_.attach(shared_from_this());
  boost::system::error_code ignored;
  socket_.non_blocking(true, ignored);
  engine_.start(EngineClock::now());
  pump();
}

void Connection::shutdown_gracefully() {
  engine_.shutdown(EngineClock::now());
  pump();
}

void Connection::close_now() {
  engine_.close(metrics::CloseReason::shutdown);  // unless a cause came first
  pump();
}

// ---------------------------------------------------------------------------------------
// The engine's events

uint32_t Connection::dispatch(const spop::NotifyDecoder& notify, host::NotifyCall& call,
                              uint32_t action_limit) {
  const auto& generation = worker_.generation();
  const uint32_t pending =
      worker_.dispatcher().dispatch(*generation, notify, call, this, action_limit);
  // Held while something is pending, so a reload cannot unload the plugins under it.
  if (pending != 0) call.generation = generation;
  return pending;
}

void Connection::finish(host::NotifyCall& call, spop::AckWriter& ack) {
  worker_.dispatcher().finish(call, ack);
}

void Connection::abandon(host::NotifyCall& call) {
  worker_.dispatcher().abandon(call);
}

void Connection::arm_timer(TimePoint at) {
  if (socket_closed_) return;
  timer_.expires_at(at);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (error || self->socket_closed_) return;
    self->engine_.on_timer(EngineClock::now());
    self->pump();
  });
}

bool Connection::adopt(host::NotifyCall& call, TimePoint deadline) {
  if (worker_.async_routes() == nullptr) return false;
  worker_.orphanage().adopt(call, engine_.engine_id(), engine_.max_frame_size(), deadline);
  return true;
}

void Connection::send_rerouted_ack(const std::vector<uint8_t>& frame) {
  if (socket_closed_ || !engine_.send_rerouted(frame)) {
    log::debug("{}: rerouted ACK dropped: this connection is closing too", peer());
    return;
  }
  pump();
}

void Connection::request_completed(host::NotifyCall& call, host::Request& request) {
  if (!worker_.dispatcher().complete(call, request)) return;
  engine_.completed(call);
  pump();
}

// ---------------------------------------------------------------------------------------
// I/O

void Connection::pump() {
  if (socket_closed_) return;
  if (!writing_ && !engine_.closed()) write();
  if (engine_.closed()) {
    close_socket();
    return;
  }
  if (!routed_ && engine_.async() && engine_.state() == Engine::State::running &&
      !engine_.engine_id().empty() && worker_.async_routes() != nullptr) {
    routed_ = true;
    worker_.async_routes()->add(engine_.engine_id(), worker_, shared_from_this());
  }
  if (reading_) return;
  if (!engine_.wants_read()) {
    // No readiness wait is queued while paused, so an event now would be missed.
    may_have_data_ = true;
    return;
  }
  if (may_have_data_) {
    reading_ = true;
    boost::asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->reading_ = false;
      self->read_now();
    });
  } else {
    wait_readable();
  }
}

void Connection::wait_readable() {
  reading_ = true;
  socket_.async_wait(Socket::wait_read,
                     [self = shared_from_this()](const boost::system::error_code& error) {
                       self->reading_ = false;
                       if (self->socket_closed_) return;
                       if (error) {
                         self->transport_error(error, "read");
                         return;
                       }
                       self->read_now();
                     });
}

void Connection::read_now() {
  if (socket_closed_) return;
  for (int i = 0; i < reads_per_turn && engine_.wants_read(); ++i) {
    const std::span<uint8_t> space = engine_.read_space();
    boost::system::error_code error;
    const size_t bytes = socket_.read_some(boost::asio::buffer(space.data(), space.size()), error);
    if (error == boost::asio::error::would_block || error == boost::asio::error::try_again) {
      may_have_data_ = false;
      break;
    }
    if (error) {
      transport_error(error, "read");
      return;
    }
    engine_.received(EngineClock::now(), bytes);
    // A short read emptied the socket: what comes next raises a new readiness event.
    may_have_data_ = bytes == space.size();
    if (!may_have_data_) break;
  }
  pump();
}

void Connection::write() {
  const std::span<const uint8_t> bytes = engine_.output(EngineClock::now());
  if (bytes.empty()) return;
  writing_ = true;
  // async_write_some, not async_write: each partial write is progress the engine sees,
  // and a write without progress for timeouts.write ends the connection.
  socket_.async_write_some(
      boost::asio::buffer(bytes.data(), bytes.size()),
      [self = shared_from_this()](const boost::system::error_code& error, size_t written) {
        self->on_written(error, written);
      });
}

void Connection::on_written(const boost::system::error_code& error, size_t bytes) {
  writing_ = false;
  if (socket_closed_) return;
  if (error) {
    transport_error(error, "write");
    return;
  }
  engine_.written(EngineClock::now(), bytes);
  pump();
}

void Connection::transport_error(const boost::system::error_code& error, std::string_view during) {
  const auto reason = close_reason_of(error);
  // HAProxy 3.x ends idle pooled connections with a bare RST (spop.md §7): a normal end.
  if (is_normal_end(error)) {
    log::debug("{}: closed by peer during {} ({})", peer(), during, error.message());
  } else {
    log::limited(log::Category::io, log::Level::warn, {.peer = peer()}, "{}: {} error: {}", peer(),
                 during, error.message());
  }
  engine_.transport_ended(reason.value_or(metrics::CloseReason::normal));
  pump();
}

void Connection::close_socket() {
  if (socket_closed_) return;
  socket_closed_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
  if (routed_) {
    routed_ = false;
    worker_.async_routes()->remove(engine_.engine_id(), this);
  }
  if (attached_) {
    attached_ = false;
    worker_.detach(this);
  }
}

}  // namespace spoa::agent
