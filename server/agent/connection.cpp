#include "agent/connection.hpp"

#include <boost/asio/write.hpp>

#include <algorithm>
#include <cstring>
#include <optional>

#include "agent/worker.hpp"
#include "log/log.hpp"
#include "spop/ack.hpp"
#include "spop/disconnect.hpp"
#include "spop/hello.hpp"
#include "spop/list.hpp"

namespace spoa::agent {

namespace {

constexpr std::string_view spop_version = "2.0";
// HAProxy 2.6 treats a DISCONNECT message over 255 bytes as invalid (spop.md §7).
constexpr size_t max_disconnect_message = 255;
// Room asked of the socket per read when no frame length says more.
constexpr size_t read_chunk = 4096;
// How long we wait for HAProxy to take our DISCONNECT before closing anyway.
constexpr std::chrono::seconds closing_grace{5};

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

std::string_view frame_type_name(uint8_t type) {
  return spop::name_of(static_cast<spop::FrameType>(type));
}

}  // namespace

Connection::Connection(Worker& worker, Socket socket, std::string peer)
    : worker_(worker),
      socket_(std::move(socket)),
      peer_(std::move(peer)),
      max_frame_size_(worker.settings().max_frame_size),
      idle_timer_(worker.io()),
      deadline_timer_(worker.io()),
      metrics_(worker.metrics()) {}

Connection::~Connection() {
  abandon_all();
}

void Connection::start() {
  attached_ = true;
  worker_.attach(shared_from_this());
  if (metrics_ != nullptr) metrics_->connections_opened.add();
  last_activity_ = Clock::now();
  log::debug("{}: connected", peer_);
  arm_idle_timer(worker_.settings().hello_timeout);
  read();
}

void Connection::shutdown_gracefully() {
  draining_ = true;
  if (phase_ == Phase::hello) {
    set_close_reason(metrics::CloseReason::shutdown);
    close_socket();  // nothing to answer, and nothing may be sent before the HELLO
    return;
  }
  maybe_finish_draining();
  flush();
}

void Connection::close_now() {
  set_close_reason(metrics::CloseReason::shutdown);  // unless a cause came first
  abandon_all();
  close_socket();
}

// ---------------------------------------------------------------------------------------
// Reading

void Connection::read() {
  if (reading_ || phase_ == Phase::closing || phase_ == Phase::closed) return;
  if (in_flight_count_ >= worker_.settings().max_inflight) {  // resumed by ACKs
    if (metrics_ != nullptr && !read_paused_) metrics_->backpressure_pauses.add();
    read_paused_ = true;
    return;
  }
  read_paused_ = false;

  if (read_begin_ == read_end_) read_begin_ = read_end_ = 0;
  // If the buffered bytes start a frame whose length is known, make room for all of it, so
  // a frame is never read in more pieces than the socket forces.
  size_t want = read_chunk;
  const size_t buffered = read_end_ - read_begin_;
  if (buffered >= 4) {
    const uint8_t* p = read_buffer_.data() + read_begin_;
    const size_t frame =
        4 + ((size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | size_t{p[3]});
    want = std::max(want, frame - std::min(frame, buffered));
  }
  if (read_buffer_.size() - read_end_ < want && read_begin_ > 0) {
    std::memmove(read_buffer_.data(), read_buffer_.data() + read_begin_, buffered);
    read_begin_ = 0;
    read_end_ = buffered;
  }
  if (read_buffer_.size() - read_end_ < want) read_buffer_.resize(read_end_ + want);

  reading_ = true;
  socket_.async_read_some(
      boost::asio::buffer(read_buffer_.data() + read_end_, read_buffer_.size() - read_end_),
      [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
        self->on_read(error, bytes);
      });
}

void Connection::on_read(const boost::system::error_code& error, size_t bytes) {
  reading_ = false;
  if (phase_ == Phase::closed) return;
  if (error) {
    if (const auto reason = close_reason_of(error)) set_close_reason(*reason);
    // HAProxy 3.x ends idle pooled connections with a bare RST (spop.md §7): a normal end.
    if (is_normal_end(error)) {
      log::debug("{}: closed by peer ({})", peer_, error.message());
    } else {
      log::limited(log::Category::io, log::Level::warn, {.peer = peer_}, "{}: read error: {}",
                   peer_, error.message());
    }
    close_now();
    return;
  }
  read_end_ += bytes;
  last_activity_ = Clock::now();
  process_frames();
  flush();
  read();
}

void Connection::process_frames() {
  // Every frame already buffered is handled before the next read, so one read of many
  // pipelined NOTIFYs becomes one batch of ACKs and one write.
  while (phase_ == Phase::hello || phase_ == Phase::running) {
    if (in_flight_count_ >= worker_.settings().max_inflight) break;  // backpressure
    const std::span<const uint8_t> buffered(read_buffer_.data() + read_begin_,
                                            read_end_ - read_begin_);
    const spop::FrameResult result = spop::decode_frame(buffered, max_frame_size_);
    if (result.error == spop::Error::need_more) break;
    if (result.error != spop::Error::none) {
      fail(spop::status_of(result.error),
           fmt::format("bad frame: {} (max-frame-size {})", spop::describe(result.error),
                       max_frame_size_));
      return;
    }
    handle_frame(result.frame);
    read_begin_ += result.consumed;
  }
  if (read_begin_ == read_end_) read_begin_ = read_end_ = 0;
  maybe_finish_draining();
}

void Connection::handle_frame(const spop::Frame& frame) {
  using spop::FrameType;
  const auto type = static_cast<FrameType>(frame.raw_type);
  if (phase_ == Phase::hello) {
    if (frame.raw_type == static_cast<uint8_t>(FrameType::haproxy_hello)) {
      handle_hello(frame);
    } else if (frame.raw_type == static_cast<uint8_t>(FrameType::haproxy_disconnect)) {
      handle_haproxy_disconnect(frame);
    } else {
      fail(spop::Status::invalid_frame,
           fmt::format("expected HAPROXY-HELLO as the first frame, got {} (type {})",
                       frame_type_name(frame.raw_type), frame.raw_type));
    }
    return;
  }
  switch (type) {
    case FrameType::notify:
      handle_notify(frame);
      return;
    case FrameType::unset:
      handle_fragment(frame);
      return;
    case FrameType::haproxy_disconnect:
      handle_haproxy_disconnect(frame);
      return;
    case FrameType::haproxy_hello:
      fail(spop::Status::invalid_frame, "second HAPROXY-HELLO on an established connection");
      return;
    case FrameType::agent_hello:
    case FrameType::agent_disconnect:
    case FrameType::ack:
      fail(spop::Status::invalid_frame, fmt::format("{} is an agent frame; HAProxy never sends it",
                                                    frame_type_name(frame.raw_type)));
      return;
  }
  // The spec lets an agent ignore frame types it does not know (spop.md §8).
  log::debug("{}: ignoring frame of unknown type {}", peer_, frame.raw_type);
}

// ---------------------------------------------------------------------------------------
// HELLO (spop.md §5)

void Connection::handle_hello(const spop::Frame& frame) {
  if (spop::check_ids(frame) != spop::Error::none) {
    fail(spop::Status::invalid_frame, "HAPROXY-HELLO must carry stream-id 0 and frame-id 0");
    return;
  }
  if (!frame.fin()) {
    fail(spop::Status::fragmentation_not_supported,
         "HAPROXY-HELLO without FIN: HELLO is never fragmented");
    return;
  }
  spop::HaproxyHello hello;
  if (const spop::Error error = spop::decode_haproxy_hello(frame.payload, hello);
      error != spop::Error::none) {
    fail(spop::status_of(error), fmt::format("bad HAPROXY-HELLO: {}", spop::describe(error)));
    return;
  }
  if (!hello.has_versions) {
    fail(spop::Status::no_version, "HAPROXY-HELLO has no supported-versions");
    return;
  }
  if (!spop::list_contains(hello.supported_versions, spop_version)) {
    fail(spop::Status::unsupported_version,
         fmt::format("no common SPOP version: HAProxy offers \"{}\", this agent speaks {}",
                     hello.supported_versions, spop_version));
    return;
  }
  if (!hello.has_max_frame_size) {
    fail(spop::Status::no_max_frame_size, "HAPROXY-HELLO has no max-frame-size");
    return;
  }
  if (hello.max_frame_size < 256) {
    fail(spop::Status::bad_max_frame_size,
         fmt::format("HAProxy max-frame-size {} is below the SPOP minimum of 256",
                     hello.max_frame_size));
    return;
  }
  const EngineSettings& settings = worker_.settings();
  // Never announce more than HAProxy accepts: that value caps frames both ways (§1, §10.2).
  max_frame_size_ = std::min(settings.max_frame_size, hello.max_frame_size);
  healthcheck_ = hello.healthcheck;
  // pipelining and async are symmetric: only used if both sides list them (§6).
  pipelining_ = settings.pipelining && spop::list_contains(hello.capabilities, "pipelining");
  async_ = settings.async && spop::list_contains(hello.capabilities, "async");
  // fragmentation is asymmetric, "I can receive fragments": HAProxy <= 3.0 never lists it
  // yet fragments towards an agent that announces it (§6), so it is not intersected.
  fragmentation_ = settings.fragmentation;
  engine_id_.assign(hello.engine_id);

  std::string capabilities;
  for (const auto& [enabled, name] :
       {std::pair{pipelining_, "pipelining"}, std::pair{async_, "async"},
        std::pair{fragmentation_, "fragmentation"}}) {
    if (!enabled) continue;
    if (!capabilities.empty()) capabilities += ',';
    capabilities += name;
  }
  const spop::EncodeResult encoded =
      spop::encode_agent_hello(output_.prepare(max_frame_size_ + 4), max_frame_size_, spop_version,
                               max_frame_size_, capabilities);
  if (encoded.error != spop::Error::none) {
    fail(spop::Status::resource_allocation, "cannot encode AGENT-HELLO");
    return;
  }
  output_.commit(encoded.size);
  if (metrics_ != nullptr) {
    metrics_->count_hello(hello.healthcheck ? metrics::HelloKind::healthcheck
                                            : metrics::HelloKind::normal);
    if (pipelining_) metrics_->count_capability(metrics::Capability::pipelining);
    if (async_) metrics_->count_capability(metrics::Capability::async);
    if (fragmentation_) metrics_->count_capability(metrics::Capability::fragmentation);
  }
  log::debug(
      "{}: HELLO{}: versions \"{}\", max-frame-size {} -> {}, capabilities \"{}\" -> "
      "\"{}\", engine-id \"{}\"",
      peer_, healthcheck_ ? " (health check)" : "", hello.supported_versions, hello.max_frame_size,
      max_frame_size_, hello.capabilities, capabilities, engine_id_);
  if (healthcheck_) {
    // A health check wants the AGENT-HELLO and nothing else; HAProxy closes (3.x with an
    // RST) right after reading it (§5).
    phase_ = Phase::closing;
    arm_idle_timer(closing_grace);
    return;
  }
  phase_ = Phase::running;
  arm_idle_timer(settings.idle_timeout);
}

// ---------------------------------------------------------------------------------------
// NOTIFY, fragments, ACK

void Connection::handle_notify(const spop::Frame& frame) {
  if (spop::check_ids(frame) != spop::Error::none) {
    fail(spop::Status::invalid_frame, "NOTIFY with frame-id 0");
    return;
  }
  if (reassembling_) {
    // HAProxy sends nothing else on the connection until the last fragment (§6).
    fail(spop::Status::invalid_interlaced_frames,
         fmt::format("NOTIFY {}/{} while NOTIFY {}/{} is still being reassembled", frame.stream_id,
                     frame.frame_id, fragment_stream_id_, fragment_frame_id_));
    return;
  }
  if (!frame.fin()) {
    if (!fragmentation_) {
      fail(spop::Status::fragmentation_not_supported,
           "fragmented NOTIFY, but fragmentation was not negotiated");
      return;
    }
    if (frame.abort()) {  // given up before it started: nothing to answer
      if (metrics_ != nullptr) metrics_->fragmented_aborted.add();
      return;
    }
    reassembling_ = true;
    fragment_stream_id_ = frame.stream_id;
    fragment_frame_id_ = frame.frame_id;
    fragments_.assign(frame.payload.begin(), frame.payload.end());
    return;
  }
  answer(frame.payload, frame.stream_id, frame.frame_id);
}

void Connection::handle_fragment(const spop::Frame& frame) {
  if (!reassembling_) {
    fail(spop::Status::invalid_interlaced_frames,
         fmt::format("fragment for {}/{} but no fragmented NOTIFY is pending", frame.stream_id,
                     frame.frame_id));
    return;
  }
  if (frame.stream_id != fragment_stream_id_ || frame.frame_id != fragment_frame_id_) {
    fail(spop::Status::invalid_interlaced_frames,
         fmt::format("fragment for {}/{} while reassembling {}/{}", frame.stream_id, frame.frame_id,
                     fragment_stream_id_, fragment_frame_id_));
    return;
  }
  if (frame.abort()) {
    // HAProxy gave up on this NOTIFY: drop it and send no ACK (§6).
    log::debug("{}: fragmented NOTIFY {}/{} aborted by HAProxy", peer_, frame.stream_id,
               frame.frame_id);
    reassembling_ = false;
    fragments_.clear();
    if (metrics_ != nullptr) metrics_->fragmented_aborted.add();
    return;
  }
  if (fragments_.size() + frame.payload.size() > worker_.settings().max_reassembled_size) {
    fail(spop::Status::resource_allocation,
         fmt::format("fragmented NOTIFY {}/{} exceeds {} bytes", frame.stream_id, frame.frame_id,
                     worker_.settings().max_reassembled_size));
    return;
  }
  fragments_.insert(fragments_.end(), frame.payload.begin(), frame.payload.end());
  if (!frame.fin()) return;
  reassembling_ = false;
  if (metrics_ != nullptr) metrics_->fragmented_reassembled.add();
  answer(fragments_, fragment_stream_id_, fragment_frame_id_);
  fragments_.clear();
  if (fragments_.capacity() > 4 * size_t{max_frame_size_}) fragments_.shrink_to_fit();
}

void Connection::answer(std::span<const uint8_t> payload, uint64_t stream_id, uint64_t frame_id) {
  if (metrics_ != nullptr) metrics_->notify_frames.add();
  if (const spop::Error error = notify_.decode(payload); error != spop::Error::none) {
    fail(spop::status_of(error),
         fmt::format("bad NOTIFY {}/{}: {}", stream_id, frame_id, spop::describe(error)));
    return;
  }
  InFlight* in_flight = new_in_flight();
  host::NotifyCall& call = in_flight->call;
  call.stream_id = stream_id;
  call.frame_id = frame_id;
  call.owner = in_flight;
  call.peer = peer_;
  in_flight->received = last_activity_;
  const auto& generation = worker_.generation();
  const auto header = static_cast<uint32_t>(spop::frame_header_size(stream_id, frame_id) - 4);
  const uint32_t action_limit = max_frame_size_ > header ? max_frame_size_ - header : 0;
  const uint32_t pending =
      worker_.dispatcher().dispatch(*generation, notify_, call, this, action_limit);
  if (pending == 0) {
    send_ack(call);
    free_in_flight_.push_back(in_flight);
    return;
  }
  call.generation = generation;
  call.deadline = Clock::now() + worker_.settings().processing_timeout;
  link(in_flight);
  arm_deadline_timer();
}

void Connection::send_ack(host::NotifyCall& call) {
  // ACKs are never fragmented and never exceed the negotiated size (§6, §10.3): the
  // AckWriter refuses actions that do not fit and the dispatcher logs whose they were.
  spop::AckWriter ack(output_.prepare(max_frame_size_ + 4), max_frame_size_, call.stream_id,
                      call.frame_id);
  worker_.dispatcher().finish(call, ack);
  const spop::EncodeResult encoded = ack.finish();
  if (encoded.error != spop::Error::none) {
    log::error("{}: cannot encode ACK {}/{}: {}", peer_, call.stream_id, call.frame_id,
               spop::describe(encoded.error));
    return;
  }
  output_.commit(encoded.size);
  if (metrics_ != nullptr) {
    ack_read_times_.push_back(static_cast<const InFlight*>(call.owner)->received);
  }
}

void Connection::request_completed(host::Request& request) {
  auto* call = static_cast<host::NotifyCall*>(request.call);
  if (!worker_.dispatcher().complete(*call, request)) return;
  finish_in_flight(static_cast<InFlight*>(call->owner));
  // Frames that waited for a free in-flight slot can go now.
  process_frames();
  flush();
  read();
}

void Connection::finish_in_flight(InFlight* in_flight) {
  unlink(in_flight);
  send_ack(in_flight->call);
  free_in_flight_.push_back(in_flight);
}

Connection::InFlight* Connection::new_in_flight() {
  if (free_in_flight_.empty()) {
    in_flight_storage_.push_back(std::make_unique<InFlight>());
    return in_flight_storage_.back().get();
  }
  InFlight* in_flight = free_in_flight_.back();
  free_in_flight_.pop_back();
  return in_flight;
}

void Connection::link(InFlight* in_flight) {
  in_flight->prev = newest_;
  in_flight->next = nullptr;
  if (newest_ != nullptr) {
    newest_->next = in_flight;
  } else {
    oldest_ = in_flight;
  }
  newest_ = in_flight;
  ++in_flight_count_;
  if (metrics_ != nullptr) metrics_->notify_in_flight.add(1);
}

void Connection::unlink(InFlight* in_flight) {
  (in_flight->prev != nullptr ? in_flight->prev->next : oldest_) = in_flight->next;
  (in_flight->next != nullptr ? in_flight->next->prev : newest_) = in_flight->prev;
  in_flight->prev = in_flight->next = nullptr;
  --in_flight_count_;
  if (metrics_ != nullptr) metrics_->notify_in_flight.add(-1);
}

// ---------------------------------------------------------------------------------------
// HAProxy's DISCONNECT

void Connection::handle_haproxy_disconnect(const spop::Frame& frame) {
  spop::Disconnect received;
  const spop::Error error = spop::decode_disconnect(frame.payload, received);
  if (error != spop::Error::none) {
    // No code to label it with: "other", as for a code outside SPOP's table.
    set_close_reason(metrics::CloseReason::haproxy_disconnect, UINT32_MAX);
    log::limited(log::Category::protocol, log::Level::info, {.peer = peer_},
                 "{}: HAProxy disconnected (undecodable DISCONNECT: {})", peer_,
                 spop::describe(error));
  } else if (received.status_code == 0) {
    set_close_reason(metrics::CloseReason::haproxy_disconnect, 0);
    log::debug("{}: HAProxy disconnected: {}", peer_, received.message);
  } else {
    set_close_reason(metrics::CloseReason::haproxy_disconnect, received.status_code);
    log::limited(log::Category::protocol, log::Level::info,
                 {.peer = peer_, .status = received.status_code},
                 "{}: HAProxy disconnected with status {} ({}): {}", peer_, received.status_code,
                 spop::describe(static_cast<spop::Status>(received.status_code)), received.message);
  }
  // After its DISCONNECT HAProxy ignores every other frame (§7): pending ACKs are moot.
  abandon_all();
  disconnect(spop::Status::normal, "");
}

// ---------------------------------------------------------------------------------------
// Timers

void Connection::arm_idle_timer(std::chrono::milliseconds after) {
  idle_timer_.expires_after(after);
  idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (!error) self->on_idle_timer();
  });
}

void Connection::on_idle_timer() {
  const EngineSettings& settings = worker_.settings();
  switch (phase_) {
    case Phase::hello:
      // Nothing may be sent before HAProxy's HELLO, not even a DISCONNECT (§5).
      set_close_reason(metrics::CloseReason::timeout);
      log::limited(log::Category::protocol, log::Level::info, {.peer = peer_},
                   "{}: no HAPROXY-HELLO within {} ms; closing", peer_,
                   settings.hello_timeout.count());
      close_now();
      return;
    case Phase::running: {
      const auto quiet =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_activity_);
      if (in_flight_count_ == 0 && !writing_ && quiet >= settings.idle_timeout) {
        log::debug("{}: idle for {} ms; closing", peer_, quiet.count());
        set_close_reason(metrics::CloseReason::timeout);
        disconnect(spop::Status::timeout, "idle timeout");
        return;
      }
      const auto remaining = settings.idle_timeout - quiet;
      arm_idle_timer(in_flight_count_ > 0 || remaining.count() <= 0 ? settings.idle_timeout
                                                                    : remaining);
      return;
    }
    case Phase::closing:
      log::debug("{}: peer did not take our DISCONNECT in time; closing", peer_);
      set_close_reason(metrics::CloseReason::timeout);
      close_now();
      return;
    case Phase::closed:
      return;
  }
}

void Connection::arm_deadline_timer() {
  if (deadline_armed_ || oldest_ == nullptr) return;
  deadline_armed_ = true;
  // The list is in deadline order, so the oldest entry's deadline is the next one due.
  deadline_timer_.expires_at(oldest_->call.deadline);
  deadline_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    self->deadline_armed_ = false;
    if (!error) self->on_deadline_timer();
  });
}

void Connection::on_deadline_timer() {
  if (phase_ != Phase::running) return;
  const auto now = Clock::now();
  while (oldest_ != nullptr && oldest_->call.deadline <= now) {
    // timeouts.processing: answer with what is ready rather than let HAProxy wait for its
    // own timeout; the late plugin's complete() then finds its request abandoned.
    finish_in_flight(oldest_);
  }
  arm_deadline_timer();
  process_frames();
  flush();
  read();
}

// ---------------------------------------------------------------------------------------
// Writing and closing

bool Connection::maybe_finish_draining() {
  if (!draining_ || phase_ != Phase::running || in_flight_count_ != 0 || reassembling_) {
    return false;
  }
  const std::span<const uint8_t> buffered(read_buffer_.data() + read_begin_,
                                          read_end_ - read_begin_);
  if (spop::decode_frame(buffered, max_frame_size_).error != spop::Error::need_more) {
    return false;  // a whole frame is still waiting: answer it first
  }
  set_close_reason(metrics::CloseReason::agent_disconnect, 0);
  disconnect(spop::Status::normal, "agent shutting down");
  return true;
}

void Connection::flush() {
  if (writing_ || output_.empty() || phase_ == Phase::closed) return;
  writing_buffer_.swap(output_);
  if (metrics_ != nullptr) writing_ack_read_times_.swap(ack_read_times_);
  writing_ = true;
  // Whole frames only, and every frame ready now in one write (design.md "Writes").
  boost::asio::async_write(
      socket_, boost::asio::buffer(writing_buffer_.data(), writing_buffer_.size()),
      [self = shared_from_this()](const boost::system::error_code& error, size_t bytes) {
        self->on_written(error, bytes);
      });
}

void Connection::on_written(const boost::system::error_code& error, size_t /*bytes*/) {
  writing_ = false;
  writing_buffer_.clear();
  writing_buffer_.shrink_to(64 * 1024);
  if (metrics_ != nullptr) {
    // One clock read per write, however many ACKs it carried.
    if (!error && !writing_ack_read_times_.empty()) {
      const auto now = Clock::now();
      for (const auto read_at : writing_ack_read_times_)
        metrics_->notify_duration.observe(now - read_at);
    }
    writing_ack_read_times_.clear();
  }
  if (phase_ == Phase::closed) return;
  if (error) {
    if (const auto reason = close_reason_of(error)) set_close_reason(*reason);
    if (is_normal_end(error)) {
      log::debug("{}: peer went away while we wrote ({})", peer_, error.message());
    } else {
      log::limited(log::Category::io, log::Level::warn, {.peer = peer_}, "{}: write error: {}",
                   peer_, error.message());
    }
    close_now();
    return;
  }
  if (!output_.empty()) {
    flush();
  } else if (phase_ == Phase::closing) {
    close_socket();
  }
}

void Connection::fail(spop::Status status, std::string_view message) {
  const auto code = static_cast<uint32_t>(status);
  set_close_reason(metrics::CloseReason::agent_disconnect, code);
  // A peer can send bad frames as fast as it can connect: rate limited.
  log::limited(log::Category::protocol, log::Level::warn, {.peer = peer_, .status = code},
               "{}: protocol error, sending DISCONNECT {} ({}): {}", peer_, code,
               spop::describe(status), message);
  abandon_all();
  disconnect(status, message);
}

void Connection::disconnect(spop::Status status, std::string_view message) {
  if (phase_ == Phase::closing || phase_ == Phase::closed) return;
  message = message.substr(0, max_disconnect_message);
  const spop::EncodeResult encoded = spop::encode_agent_disconnect(
      output_.prepare(max_frame_size_ + 4), max_frame_size_, status, message);
  if (encoded.error == spop::Error::none) output_.commit(encoded.size);
  phase_ = Phase::closing;
  arm_idle_timer(closing_grace);
  flush();
  if (!writing_) close_socket();
}

void Connection::close_socket() {
  if (phase_ == Phase::closed) return;
  phase_ = Phase::closed;
  boost::system::error_code ignored;
  socket_.close(ignored);
  idle_timer_.cancel();
  deadline_timer_.cancel();
  abandon_all();
  if (attached_) {
    attached_ = false;
    if (close_reason_ == metrics::CloseReason::count) close_reason_ = metrics::CloseReason::normal;
    if (metrics_ != nullptr) metrics_->count_close(close_reason_, close_status_);
    if (log::enabled(log::Level::debug)) {
      const bool with_status = close_reason_ == metrics::CloseReason::agent_disconnect ||
                               close_reason_ == metrics::CloseReason::haproxy_disconnect;
      log::debug("{}: connection closed ({}{})", peer_,
                 metrics::close_reason_names[static_cast<size_t>(close_reason_)],
                 with_status ? fmt::format(", status {}", close_status_) : std::string());
    }
    worker_.detach(this);
  }
}

void Connection::set_close_reason(metrics::CloseReason reason, uint32_t status) {
  if (close_reason_ != metrics::CloseReason::count) return;
  close_reason_ = reason;
  close_status_ = status;
}

void Connection::abandon_all() {
  while (oldest_ != nullptr) {
    InFlight* in_flight = oldest_;
    unlink(in_flight);
    worker_.dispatcher().abandon(in_flight->call);
    free_in_flight_.push_back(in_flight);
  }
  reassembling_ = false;
  fragments_.clear();
}

}  // namespace spoa::agent
