#include "agent/engine.hpp"

#include <algorithm>
#include <cstring>

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
// Room asked for in the connection's own buffer beyond what the frame length says.
constexpr size_t own_read_chunk = 16 * 1024;
// Read-time vectors beyond this capacity are dropped once empty (after a burst).
constexpr size_t kept_read_times = 256;

std::string_view frame_type_name(uint8_t type) {
  return spop::name_of(static_cast<spop::FrameType>(type));
}

template <class Duration>
long long ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

Engine::Engine(const EngineSettings& settings, EngineScratch& scratch, EngineEvents& events,
               metrics::ThreadMetrics* metrics, std::string peer)
    : settings_(settings),
      scratch_(scratch),
      events_(events),
      metrics_(metrics),
      peer_(std::move(peer)),
      output_(scratch.buffers),
      writing_(scratch.buffers) {}

Engine::~Engine() {
  abandon_all();
}

void Engine::start(TimePoint now) {
  if (metrics_ != nullptr) metrics_->connections_opened.add();
  last_activity_ = now;
  hello_deadline_ = now + settings_.hello_timeout;
  log::debug("{}: connected", peer_);
  rearm();
}

uint32_t Engine::current_max_frame() const {
  // Before the HELLO only a HAPROXY-HELLO may come: refuse anything larger than one could
  // be rather than buffer max_frame_size bytes for a peer that has said nothing yet.
  return state_ == State::hello ? std::min(settings_.max_frame_size, settings_.pre_hello_max_frame)
                                : max_frame_size_;
}

size_t Engine::buffered_bytes() const {
  return own_capacity_ + fragments_.capacity() + output_.capacity() + writing_.capacity();
}

// ---------------------------------------------------------------------------------------
// Input

bool Engine::wants_read() const {
  if (state_ != State::hello && state_ != State::running) return false;
  if (draining_ || held_) return false;
  return in_flight_weight_ < settings_.max_inflight &&
         queued_output() <= settings_.max_queued_output;
}

std::span<uint8_t> Engine::read_space() {
  const size_t buffered = own_end_ - own_begin_;
  if (buffered == 0) {
    release_read_buffer();
    read_into_own_ = false;
    return scratch_.read_buffer;
  }
  // The start of a frame is kept: read the rest next to it, and room for all of it if its
  // length is known, so a frame is never read in more pieces than the socket forces.
  size_t want = own_read_chunk;
  if (buffered >= 4) {
    const uint8_t* p = own_.get() + own_begin_;
    const size_t frame =
        4 + ((size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | size_t{p[3]});
    want = std::max(want, frame - std::min(frame, buffered));
  }
  if (own_capacity_ - own_end_ < want) {
    if (own_begin_ > 0 && own_capacity_ - buffered >= want) {
      std::memmove(own_.get(), own_.get() + own_begin_, buffered);
    } else {
      auto bigger = std::make_unique_for_overwrite<uint8_t[]>(buffered + want);
      std::memcpy(bigger.get(), own_.get() + own_begin_, buffered);
      own_ = std::move(bigger);
      own_capacity_ = buffered + want;
    }
    own_begin_ = 0;
    own_end_ = buffered;
  }
  read_into_own_ = true;
  return {own_.get() + own_end_, own_capacity_ - own_end_};
}

void Engine::received(TimePoint now, size_t bytes) {
  if (state_ == State::closed) return;
  last_activity_ = now;
  read_at_ = now;
  if (read_into_own_) {
    own_end_ += bytes;
  } else if (bytes != 0) {
    // Frames are handled straight from the shared buffer; process() keeps what is left.
    const auto input = std::span<const uint8_t>(scratch_.read_buffer).first(bytes);
    size_t consumed = 0;
    // Same loop as process(), over the scratch bytes.
    while (may_process()) {
      const spop::FrameResult result =
          spop::decode_frame(input.subspan(consumed), current_max_frame());
      if (result.error == spop::Error::need_more) break;
      if (result.error != spop::Error::none) {
        fail(spop::status_of(result.error),
             fmt::format("bad frame: {} (max-frame-size {})", spop::describe(result.error),
                         current_max_frame()));
        rearm();
        return;
      }
      consumed += result.consumed;  // before handling: a handler may close and stop here
      handle_frame(now, result.frame);
    }
    if (state_ == State::hello || state_ == State::running) {
      const size_t left = bytes - consumed;
      if (left != 0) {
        // The start of a frame, or frames backpressure holds back: keep them.
        own_capacity_ = std::max(left + own_read_chunk, size_t{4096});
        own_ = std::make_unique_for_overwrite<uint8_t[]>(own_capacity_);
        std::memcpy(own_.get(), input.data() + consumed, left);
        own_begin_ = 0;
        own_end_ = left;
      }
    }
  }
  process();
  rearm();
}

bool Engine::may_process() const {
  if (state_ != State::hello && state_ != State::running) return false;
  // Backpressure: no new work while the in-flight weight or the unread output is at its
  // bound; what is buffered waits for a completion or a write.
  return in_flight_weight_ < settings_.max_inflight &&
         queued_output() <= settings_.max_queued_output;
}

void Engine::process() {
  // Every frame already buffered is handled before the next read, so one read of many
  // pipelined NOTIFYs becomes one batch of ACKs and one write. Its bytes came with the
  // last read at the latest: deadlines run from then.
  const TimePoint now = read_at_;
  while (own_begin_ != own_end_ && may_process()) {
    const std::span<const uint8_t> buffered(own_.get() + own_begin_, own_end_ - own_begin_);
    const spop::FrameResult result = spop::decode_frame(buffered, current_max_frame());
    if (result.error == spop::Error::need_more) break;
    if (result.error != spop::Error::none) {
      fail(spop::status_of(result.error),
           fmt::format("bad frame: {} (max-frame-size {})", spop::describe(result.error),
                       current_max_frame()));
      return;
    }
    own_begin_ += result.consumed;
    handle_frame(now, result.frame);
  }
  if (state_ == State::closed) return;
  if (own_begin_ == own_end_) {
    // Everything kept was a frame's start, now handled: an idle connection holds nothing.
    if (own_) release_read_buffer();
  } else {
    const std::span<const uint8_t> buffered(own_.get() + own_begin_, own_end_ - own_begin_);
    held_ = spop::decode_frame(buffered, current_max_frame()).error != spop::Error::need_more;
  }
  const bool paused = state_ == State::running && !draining_ && !wants_read();
  if (paused && !read_paused_ && metrics_ != nullptr) metrics_->backpressure_pauses.add();
  read_paused_ = paused;
  maybe_finish_draining();
}

void Engine::release_read_buffer() {
  own_.reset();
  own_capacity_ = own_begin_ = own_end_ = 0;
  held_ = false;
}

void Engine::transport_ended(metrics::CloseReason reason) {
  set_close_reason(reason);
  close(reason);
}

void Engine::handle_frame(TimePoint now, const spop::Frame& frame) {
  using spop::FrameType;
  const auto type = static_cast<FrameType>(frame.raw_type);
  if (state_ == State::hello) {
    if (type == FrameType::haproxy_hello) {
      handle_hello(frame);
    } else if (type == FrameType::haproxy_disconnect) {
      // HAProxy gave up before its HELLO went through: nothing may be sent yet (§5).
      set_close_reason(metrics::CloseReason::haproxy_disconnect, 0);
      log::debug("{}: HAProxy disconnected before the HELLO; closing", peer_);
      close(metrics::CloseReason::haproxy_disconnect);
    } else {
      fail(spop::Status::invalid_frame,
           fmt::format("expected HAPROXY-HELLO as the first frame, got {} (type {})",
                       frame_type_name(frame.raw_type), frame.raw_type));
    }
    return;
  }
  switch (type) {
    case FrameType::notify:
      handle_notify(now, frame);
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

void Engine::handle_hello(const spop::Frame& frame) {
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
  // Never announce more than HAProxy accepts: that value caps frames both ways (§1, §10.2).
  max_frame_size_ = std::min(settings_.max_frame_size, hello.max_frame_size);
  healthcheck_ = hello.healthcheck;
  // pipelining and async are symmetric: only used if both sides list them (§6).
  pipelining_ = settings_.pipelining && spop::list_contains(hello.capabilities, "pipelining");
  async_ = settings_.async && spop::list_contains(hello.capabilities, "async");
  // fragmentation is asymmetric, "I can receive fragments": HAProxy <= 3.0 never lists it
  // yet fragments towards an agent that announces it (§6), so it is not intersected.
  fragmentation_ = settings_.fragmentation;
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
    state_ = State::closing;
    closing_deadline_ = last_activity_ + settings_.closing_grace;
    return;
  }
  state_ = State::running;
  // A shutdown that came during the HELLO closed the connection, so none is pending here.
}

// ---------------------------------------------------------------------------------------
// NOTIFY, fragments, ACK

void Engine::handle_notify(TimePoint now, const spop::Frame& frame) {
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
    fragment_received_ = now;
    fragments_.assign(frame.payload.begin(), frame.payload.end());
    return;
  }
  answer(frame.payload, frame.stream_id, frame.frame_id, now);
}

void Engine::handle_fragment(const spop::Frame& frame) {
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
    std::vector<uint8_t>().swap(fragments_);
    if (metrics_ != nullptr) metrics_->fragmented_aborted.add();
    return;
  }
  if (fragments_.size() + frame.payload.size() > settings_.max_reassembled_size) {
    fail(spop::Status::resource_allocation,
         fmt::format("fragmented NOTIFY {}/{} exceeds {} bytes", frame.stream_id, frame.frame_id,
                     settings_.max_reassembled_size));
    return;
  }
  fragments_.insert(fragments_.end(), frame.payload.begin(), frame.payload.end());
  if (!frame.fin()) return;
  reassembling_ = false;
  if (metrics_ != nullptr) metrics_->fragmented_reassembled.add();
  answer(fragments_, fragment_stream_id_, fragment_frame_id_, fragment_received_);
  std::vector<uint8_t>().swap(fragments_);  // reassembly is rare: hold nothing after it
}

void Engine::answer(std::span<const uint8_t> payload, uint64_t stream_id, uint64_t frame_id,
                    TimePoint received) {
  if (metrics_ != nullptr) metrics_->notify_frames.add();
  spop::NotifyDecoder& notify = scratch_.notify;
  if (const spop::Error error = notify.decode(payload); error != spop::Error::none) {
    fail(spop::status_of(error),
         fmt::format("bad NOTIFY {}/{}: {}", stream_id, frame_id, spop::describe(error)));
    return;
  }
  InFlight* in_flight = new_in_flight();
  host::NotifyCall& call = *in_flight;
  call.stream_id = stream_id;
  call.frame_id = frame_id;
  call.peer = peer_;
  call.engine_id = engine_id_;
  // Known before dispatch: handlers read it (request_context), pool calls need it. It
  // runs from the read that brought the NOTIFY in, not from now: time spent behind other
  // frames of the same read counts, as it does for HAProxy.
  call.deadline = received + settings_.processing_timeout;
  in_flight->received = received;
  if (notify.messages().size() > settings_.max_messages_per_notify) {
    // Each message may become a plugin call holding a request and its actions: a bound
    // on them is a bound on memory. The ACK still goes, with no actions.
    log::limited(log::Category::protocol, log::Level::warn, {.peer = peer_},
                 "{}: NOTIFY {}/{} carries {} messages, more than the {} allowed; answered "
                 "without calling any plugin",
                 peer_, stream_id, frame_id, notify.messages().size(),
                 settings_.max_messages_per_notify);
    call.requests.clear();
    call.pending = 0;
    notify.shrink_to_fit();  // over max_messages_per_notify: surely above its high water
    send_ack(*in_flight);
    free_in_flight(in_flight);
    return;
  }
  const auto header = static_cast<uint32_t>(spop::frame_header_size(stream_id, frame_id) - 4);
  const uint32_t action_limit = max_frame_size_ > header ? max_frame_size_ - header : 0;
  const uint32_t pending = events_.dispatch(notify, call, action_limit);
  // The handlers are done with the decoded views (pool calls copied theirs): a burst of
  // huge NOTIFYs does not leave its vectors on this thread.
  if (notify.above_high_water()) [[unlikely]]
    notify.shrink_to_fit();
  if (pending == 0) {
    send_ack(*in_flight);
    free_in_flight(in_flight);
    return;
  }
  in_flight->weight = std::max<uint32_t>(1, pending);
  link(in_flight);
}

void Engine::send_ack(InFlight& in_flight) {
  host::NotifyCall& call = in_flight;
  // ACKs are never fragmented and never exceed the negotiated size (§6, §10.3): the
  // AckWriter refuses actions that do not fit and the dispatcher logs whose they were.
  spop::AckWriter ack(output_.prepare(max_frame_size_ + 4), max_frame_size_, call.stream_id,
                      call.frame_id);
  events_.finish(call, ack);
  const spop::EncodeResult encoded = ack.finish();
  if (encoded.error != spop::Error::none) {
    log::error("{}: cannot encode ACK {}/{}: {}", peer_, call.stream_id, call.frame_id,
               spop::describe(encoded.error));
    return;
  }
  output_.commit(encoded.size);
  if (metrics_ != nullptr) ack_read_times_.push_back(in_flight.received);
}

void Engine::completed(host::NotifyCall& call) {
  if (state_ != State::running) return;  // closing or closed: everything was abandoned
  finish_in_flight(&static_cast<InFlight&>(call));
  // Frames that waited for a free in-flight slot can go now.
  process();
  rearm();
}

void Engine::finish_in_flight(InFlight* in_flight) {
  unlink(in_flight);
  send_ack(*in_flight);
  free_in_flight(in_flight);
}

Engine::InFlight* Engine::grow_in_flight() {
  in_flight_storage_.push_back(std::make_unique<InFlight>());
  return in_flight_storage_.back().get();
}

void Engine::drop_in_flight(InFlight* in_flight) {
  // A burst is over: give its records back. Storage is small, a linear find is fine.
  const auto it = std::find_if(in_flight_storage_.begin(), in_flight_storage_.end(),
                               [&](const auto& owned) { return owned.get() == in_flight; });
  if (it != in_flight_storage_.end()) {
    std::swap(*it, in_flight_storage_.back());
    in_flight_storage_.pop_back();
  }
}

void Engine::link(InFlight* in_flight) {
  // Deadline order, not arrival order: a reload may shorten timeouts.processing, and then
  // a newer NOTIFY is due before older ones. Nearly always it goes last.
  InFlight* after = newest_;
  while (after != nullptr && after->call.deadline > in_flight->call.deadline)
    after = after->prev;
  in_flight->prev = after;
  in_flight->next = after != nullptr ? after->next : oldest_;
  (in_flight->next != nullptr ? in_flight->next->prev : newest_) = in_flight;
  (after != nullptr ? after->next : oldest_) = in_flight;
  ++in_flight_count_;
  in_flight_weight_ += in_flight->weight;
  if (metrics_ != nullptr) metrics_->notify_in_flight.add(1);
}

void Engine::unlink(InFlight* in_flight) {
  (in_flight->prev != nullptr ? in_flight->prev->next : oldest_) = in_flight->next;
  (in_flight->next != nullptr ? in_flight->next->prev : newest_) = in_flight->prev;
  in_flight->prev = in_flight->next = nullptr;
  --in_flight_count_;
  in_flight_weight_ -= in_flight->weight;
  if (metrics_ != nullptr) metrics_->notify_in_flight.add(-1);
}

// ---------------------------------------------------------------------------------------
// HAProxy's DISCONNECT

void Engine::handle_haproxy_disconnect(const spop::Frame& frame) {
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
  disconnect(last_activity_, spop::Status::normal, "");
}

// ---------------------------------------------------------------------------------------
// Time

TimePoint Engine::next_wakeup() const {
  TimePoint at = TimePoint::max();
  switch (state_) {
    case State::hello:
      at = hello_deadline_;
      break;
    case State::running:
      if (oldest_ != nullptr) at = oldest_->call.deadline;
      // Idle: nothing in flight, nothing being written, nothing read for idle_timeout.
      if (in_flight_count_ == 0 && queued_output() == 0) {
        at = std::min(at, last_activity_ + settings_.idle_timeout);
      }
      break;
    case State::closing:
      at = closing_deadline_;
      break;
    case State::closed:
      return TimePoint::max();
  }
  if (write_offset_ < writing_.size()) at = std::min(at, write_progress_ + settings_.write_timeout);
  return at;
}

void Engine::rearm() {
  const TimePoint at = next_wakeup();
  if (at >= armed_) return;  // the timer already wakes us earlier: it re-arms then
  armed_ = at;
  events_.arm_timer(at);
}

bool Engine::send_rerouted(std::span<const uint8_t> frame) {
  if (state_ != State::running || frame.size() > size_t{max_frame_size_} + 4) return false;
  output_.append(frame);
  return true;
}

void Engine::on_timer(TimePoint now) {
  armed_ = TimePoint::max();
  expire(now);
  rearm();
}

void Engine::expire(TimePoint now) {
  if (state_ == State::closed) return;
  if (write_offset_ < writing_.size() && now >= write_progress_ + settings_.write_timeout) {
    // The peer stopped reading: its buffers, our buffers and a max_connections slot would
    // stay taken for ever. No DISCONNECT: it would not get through either.
    set_close_reason(metrics::CloseReason::write_timeout);
    log::limited(log::Category::io, log::Level::warn, {.peer = peer_},
                 "{}: write made no progress for {} ms ({} bytes waiting): the peer does not "
                 "read; closing",
                 peer_, ms(settings_.write_timeout), queued_output());
    close(metrics::CloseReason::write_timeout);
    return;
  }
  switch (state_) {
    case State::hello:
      if (now < hello_deadline_) return;
      // Nothing may be sent before HAProxy's HELLO, not even a DISCONNECT (§5).
      set_close_reason(metrics::CloseReason::timeout);
      log::limited(log::Category::protocol, log::Level::info, {.peer = peer_},
                   "{}: no HAPROXY-HELLO within {} ms; closing", peer_,
                   ms(settings_.hello_timeout));
      close(metrics::CloseReason::timeout);
      return;
    case State::running: {
      bool answered = false;
      while (oldest_ != nullptr && oldest_->call.deadline <= now) {
        // timeouts.processing: answer with what is ready rather than let HAProxy wait for
        // its own timeout; the late plugin's complete() then finds its request abandoned.
        finish_in_flight(oldest_);
        answered = true;
      }
      if (answered) {
        process();
        return;
      }
      if (in_flight_count_ == 0 && queued_output() == 0 &&
          now >= last_activity_ + settings_.idle_timeout) {
        log::debug("{}: idle for {} ms; closing", peer_, ms(now - last_activity_));
        set_close_reason(metrics::CloseReason::timeout);
        disconnect(now, spop::Status::timeout, "idle timeout");
      }
      return;
    }
    case State::closing:
      if (now < closing_deadline_) return;
      log::debug("{}: peer did not take our DISCONNECT in time; closing", peer_);
      set_close_reason(metrics::CloseReason::timeout);
      close(metrics::CloseReason::timeout);
      return;
    case State::closed:
      return;
  }
}

// ---------------------------------------------------------------------------------------
// Writing and closing

std::span<const uint8_t> Engine::output(TimePoint now) {
  if (state_ == State::closed) return {};
  if (write_offset_ < writing_.size()) {
    return {writing_.data() + write_offset_, writing_.size() - write_offset_};
  }
  if (output_.empty()) return {};
  writing_.swap(output_);
  write_offset_ = 0;
  write_progress_ = now;
  if (metrics_ != nullptr) writing_ack_read_times_.swap(ack_read_times_);
  rearm();  // the write timeout starts
  return {writing_.data(), writing_.size()};
}

void Engine::written(TimePoint now, size_t bytes) {
  if (state_ == State::closed) return;
  write_offset_ += bytes;
  if (bytes != 0) write_progress_ = now;
  if (write_offset_ < writing_.size()) return;  // partial: the adapter writes the rest

  // Whole frames only, every frame ready at once in one write (design.md "Writes").
  writing_.release();
  write_offset_ = 0;
  last_activity_ = now;
  if (metrics_ != nullptr) {
    // One clock read per write, however many ACKs it carried.
    for (const auto read_at : writing_ack_read_times_)
      metrics_->notify_duration.observe(now - read_at);
    writing_ack_read_times_.clear();
    if (writing_ack_read_times_.capacity() > kept_read_times) {
      std::vector<TimePoint>().swap(writing_ack_read_times_);
    }
  }
  if (state_ == State::closing && output_.empty()) {
    enter_closed();
    return;
  }
  // The unread-output bound may have been what held frames back.
  process();
  rearm();
}

bool Engine::maybe_finish_draining() {
  if (!draining_ || state_ != State::running || in_flight_count_ != 0) return false;
  if (own_begin_ != own_end_) {
    const std::span<const uint8_t> buffered(own_.get() + own_begin_, own_end_ - own_begin_);
    if (spop::decode_frame(buffered, current_max_frame()).error != spop::Error::need_more) {
      return false;  // a whole frame is still waiting: answer it first
    }
  }
  // A fragmented NOTIFY still being reassembled was never received whole: HAProxy learns
  // from the DISCONNECT that it will get no ACK.
  set_close_reason(metrics::CloseReason::agent_disconnect, 0);
  disconnect(last_activity_, spop::Status::normal, "agent shutting down");
  return true;
}

void Engine::shutdown(TimePoint now) {
  if (state_ == State::closed || state_ == State::closing) return;
  draining_ = true;
  if (state_ == State::hello) {
    // Nothing to answer, and nothing may be sent before the HELLO.
    set_close_reason(metrics::CloseReason::shutdown);
    close(metrics::CloseReason::shutdown);
    return;
  }
  last_activity_ = std::max(last_activity_, now);
  process();
  rearm();
}

void Engine::fail(spop::Status status, std::string_view message) {
  const auto code = static_cast<uint32_t>(status);
  set_close_reason(metrics::CloseReason::agent_disconnect, code);
  // A peer can send bad frames as fast as it can connect: rate limited.
  log::limited(log::Category::protocol, log::Level::warn, {.peer = peer_, .status = code},
               "{}: protocol error, sending DISCONNECT {} ({}): {}", peer_, code,
               spop::describe(status), message);
  abandon_all();
  disconnect(last_activity_, status, message);
}

void Engine::disconnect(TimePoint now, spop::Status status, std::string_view message) {
  if (state_ == State::closing || state_ == State::closed) return;
  message = message.substr(0, max_disconnect_message);
  const uint32_t frame_size = max_frame_size_ != 0 ? max_frame_size_ : current_max_frame();
  const spop::EncodeResult encoded =
      spop::encode_agent_disconnect(output_.prepare(frame_size + 4), frame_size, status, message);
  if (encoded.error == spop::Error::none) output_.commit(encoded.size);
  state_ = State::closing;
  closing_deadline_ = now + settings_.closing_grace;
  release_read_buffer();  // nothing more is read
  if (output_.empty() && write_offset_ >= writing_.size()) enter_closed();
}

void Engine::close(metrics::CloseReason reason) {
  if (state_ == State::closed) return;
  set_close_reason(reason);
  enter_closed();
}

void Engine::enter_closed() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  abandon_all();
  release_read_buffer();
  output_.release();
  writing_.release();
  write_offset_ = 0;
  ack_read_times_.clear();
  writing_ack_read_times_.clear();
  if (close_reason_ == metrics::CloseReason::count) close_reason_ = metrics::CloseReason::normal;
  if (metrics_ != nullptr) metrics_->count_close(close_reason_, close_status_);
  if (log::enabled(log::Level::debug)) {
    const bool with_status = close_reason_ == metrics::CloseReason::agent_disconnect ||
                             close_reason_ == metrics::CloseReason::haproxy_disconnect;
    log::debug("{}: connection closed ({}{})", peer_,
               metrics::close_reason_names[static_cast<size_t>(close_reason_)],
               with_status ? fmt::format(", status {}", close_status_) : std::string());
  }
}

void Engine::set_close_reason(metrics::CloseReason reason, uint32_t status) {
  if (close_reason_ != metrics::CloseReason::count) return;
  close_reason_ = reason;
  close_status_ = status;
}

void Engine::abandon_all() {
  // With async, HAProxy keeps waiting for these on its other connections of this
  // engine-id (spop.md §6): hand them over rather than drop them.
  const bool reroute = async_ && !engine_id_.empty();
  while (oldest_ != nullptr) {
    InFlight* in_flight = oldest_;
    unlink(in_flight);
    if (!reroute || !events_.adopt(in_flight->call, in_flight->call.deadline)) {
      events_.abandon(in_flight->call);
    }
    free_in_flight(in_flight);
  }
  reassembling_ = false;
  std::vector<uint8_t>().swap(fragments_);
}

}  // namespace spoa::agent
