#pragma once
// The SPOP state machine of one connection (spop.md §5-§8): HELLO negotiation, NOTIFY and
// fragments, the in-flight table, deadlines, idle and write timeouts, drain, DISCONNECT.
// It does no I/O and reads no clock: the adapter (Connection) hands it the bytes it read
// and the time they came, takes the bytes it queued, and arms the one timer it asks for.
// Plugin work goes out and comes back through EngineEvents. So the unit tests drive it
// with a fake clock and a fake dispatcher, exactly and instantly (tests/engine).
//
// Memory per connection is bounded whatever the peer does (README "Memory"): reading
// stops while the in-flight NOTIFYs (weighted by their pending plugin calls) reach
// max_inflight or the bytes waiting for the socket pass max_queued_output; before the
// HELLO a frame may be at most pre_hello_max_frame bytes; a NOTIFY may carry at most
// max_messages_per_notify messages; an idle connection holds no read or write buffer.
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/engine_settings.hpp"
#include "agent/output_buffer.hpp"
#include "host/dispatcher.hpp"
#include "metrics/thread_metrics.hpp"
#include "spop/ack.hpp"
#include "spop/errors.hpp"
#include "spop/frame.hpp"
#include "spop/notify.hpp"

namespace spoa::agent {

using EngineClock = std::chrono::steady_clock;
using TimePoint = EngineClock::time_point;

// What the engines of one I/O thread share: state a connection needs only while it handles
// one event. Reads land in `read_buffer`; only the bytes of an unfinished frame are copied
// into the connection's own buffer.
struct EngineScratch {
  static constexpr size_t read_size = 32 * 1024;
  std::vector<uint8_t> read_buffer = std::vector<uint8_t>(read_size);
  spop::NotifyDecoder notify;
  BufferPool buffers;
};

// The engine's way out. Called synchronously from inside the engine's own calls.
class EngineEvents {
 public:
  virtual ~EngineEvents() = default;
  // Hands the NOTIFY's messages to the plugins; returns how many are left pending (their
  // completions come back through Engine::completed()).
  virtual uint32_t dispatch(const spop::NotifyDecoder& notify, host::NotifyCall& call,
                            uint32_t action_limit) = 0;
  // Appends the finished messages' actions to `ack`, releases the call's requests.
  virtual void finish(host::NotifyCall& call, spop::AckWriter& ack) = 0;
  // No ACK will be sent: release or abandon everything of the call.
  virtual void abandon(host::NotifyCall& call) = 0;
  // Call Engine::on_timer() at `at` (or later); replaces any earlier request.
  virtual void arm_timer(TimePoint at) = 0;
  // `async` was negotiated and the connection closes with `call` pending: take it over, so
  // that its ACK can still go out on a sibling connection (orphanage.hpp). False: abandon.
  virtual bool adopt(host::NotifyCall& /*call*/, TimePoint /*deadline*/) { return false; }
};

class Engine {
 public:
  enum class State { hello, running, closing, closed };

  // `settings` may change (reload) while the engine lives; it is read as it goes.
  Engine(const EngineSettings& settings, EngineScratch& scratch, EngineEvents& events,
         metrics::ThreadMetrics* metrics, std::string peer);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The socket is connected: the HELLO timeout starts.
  void start(TimePoint now);

  // Input. read_space() is where the next read must land; received() says how many bytes
  // it brought and when the read returned (the NOTIFYs' deadlines run from then).
  bool wants_read() const;
  std::span<uint8_t> read_space();
  void received(TimePoint now, size_t bytes);
  // The peer closed or reset the socket, or a read or write failed: close, no DISCONNECT.
  void transport_ended(metrics::CloseReason reason);

  // Output. output() is what to write next (the rest of the current write, or everything
  // queued since); written() says how much the socket took. Empty: nothing to write.
  std::span<const uint8_t> output(TimePoint now);
  void written(TimePoint now, size_t bytes);

  // A pending NOTIFY has nothing pending any more (the dispatcher said so).
  void completed(host::NotifyCall& call);
  void on_timer(TimePoint now);
  // An ACK of a sibling connection that closed (async, same engine-id): sent as it is, if
  // this connection is established and the frame fits its negotiated size.
  bool send_rerouted(std::span<const uint8_t> frame);

  // Graceful stop: no more reads; buffered NOTIFYs and those in flight are answered, then
  // AGENT-DISCONNECT 0. Before the HELLO the connection just closes.
  void shutdown(TimePoint now);
  // Hard stop: pending work is abandoned, nothing more is sent.
  void close(metrics::CloseReason reason);

  State state() const { return state_; }
  bool closed() const { return state_ == State::closed; }
  const std::string& peer() const { return peer_; }
  const std::string& engine_id() const { return engine_id_; }
  bool async() const { return async_; }
  uint32_t max_frame_size() const { return max_frame_size_; }
  uint32_t in_flight() const { return in_flight_count_; }
  // Bytes queued or being written: what backpressure counts.
  size_t queued_output() const { return output_.size() + (writing_.size() - write_offset_); }
  // Bytes this connection holds in buffers of its own (tests, memory accounting).
  size_t buffered_bytes() const;
  metrics::CloseReason close_reason() const { return close_reason_; }
  uint32_t close_status() const { return close_status_; }

 private:
  // A NOTIFY being answered, linked in deadline order while plugin work is pending.
  // The host's NotifyCall is its base: a completion comes back as the call and is turned
  // into this record by a static_cast, not through a void* owner.
  struct InFlight : host::NotifyCall {
    host::NotifyCall& call = *this;
    InFlight* prev = nullptr;
    InFlight* next = nullptr;
    TimePoint received;   // when the read that brought the NOTIFY in returned
    uint32_t weight = 1;  // what it counts in backpressure: max(1, pending plugin calls)
  };

  void process();
  bool may_process() const;
  void handle_frame(TimePoint now, const spop::Frame& frame);
  void handle_hello(const spop::Frame& frame);
  void handle_notify(TimePoint now, const spop::Frame& frame);
  void handle_fragment(const spop::Frame& frame);
  void handle_haproxy_disconnect(const spop::Frame& frame);
  void answer(std::span<const uint8_t> payload, uint64_t stream_id, uint64_t frame_id,
              TimePoint received);
  void send_ack(InFlight& in_flight);
  void finish_in_flight(InFlight* in_flight);

  // In-flight records kept for reuse once the NOTIFYs they served are answered.
  static constexpr size_t spare_in_flight = 8;
  // Once per NOTIFY each: the common case inline, growing and shrinking out of line.
  InFlight* new_in_flight() {
    if (free_in_flight_.empty()) [[unlikely]]
      return grow_in_flight();
    InFlight* in_flight = free_in_flight_.back();
    free_in_flight_.pop_back();
    return in_flight;
  }
  void free_in_flight(InFlight* in_flight) {
    in_flight->weight = 1;
    if (free_in_flight_.size() < spare_in_flight) [[likely]] {
      free_in_flight_.push_back(in_flight);
      return;
    }
    drop_in_flight(in_flight);
  }
  InFlight* grow_in_flight();
  void drop_in_flight(InFlight* in_flight);
  void link(InFlight* in_flight);
  void unlink(InFlight* in_flight);

  void expire(TimePoint now);
  TimePoint next_wakeup() const;
  void rearm();

  bool maybe_finish_draining();
  void fail(spop::Status status, std::string_view message);
  void disconnect(TimePoint now, spop::Status status, std::string_view message);
  void enter_closed();
  void abandon_all();
  void release_read_buffer();
  void set_close_reason(metrics::CloseReason reason, uint32_t status = 0);
  uint32_t current_max_frame() const;

  const EngineSettings& settings_;
  EngineScratch& scratch_;
  EngineEvents& events_;
  metrics::ThreadMetrics* metrics_;
  std::string peer_;
  State state_ = State::hello;
  bool healthcheck_ = false;
  bool draining_ = false;  // shutting down: no more reads

  // Negotiated in HELLO (spop.md §5).
  uint32_t max_frame_size_ = 0;
  bool pipelining_ = false;
  bool async_ = false;
  bool fragmentation_ = false;
  std::string engine_id_;

  // Unparsed bytes the connection keeps between reads, [own_begin_, own_end_): the start
  // of a frame, or frames held back by backpressure. Allocated only while non-empty.
  std::unique_ptr<uint8_t[]> own_;
  size_t own_capacity_ = 0;
  size_t own_begin_ = 0;
  size_t own_end_ = 0;
  bool read_into_own_ = false;  // the last read_space() was in own_, not the scratch
  bool held_ = false;           // a whole frame waits in own_: reading more is pointless
  TimePoint read_at_;           // when the last read returned

  // Fragmented NOTIFY being reassembled (spop.md §6).
  bool reassembling_ = false;
  uint64_t fragment_stream_id_ = 0;
  uint64_t fragment_frame_id_ = 0;
  TimePoint fragment_received_;
  std::vector<uint8_t> fragments_;

  // Frames waiting for the socket, and the ones the current write is sending.
  OutputBuffer output_;
  OutputBuffer writing_;
  size_t write_offset_ = 0;
  TimePoint write_progress_;  // the current write started or last moved

  std::vector<std::unique_ptr<InFlight>> in_flight_storage_;
  std::vector<InFlight*> free_in_flight_;
  InFlight* oldest_ = nullptr;  // deadline order: the head is due first
  InFlight* newest_ = nullptr;
  uint32_t in_flight_count_ = 0;
  uint32_t in_flight_weight_ = 0;

  TimePoint hello_deadline_;
  TimePoint closing_deadline_;
  TimePoint last_activity_;             // last read, or last write that completed
  TimePoint armed_ = TimePoint::max();  // what arm_timer() was last asked for

  // Metrics: read times of the ACKs queued in output_ and of those the current write
  // carries; they become latencies when the write completes.
  std::vector<TimePoint> ack_read_times_;
  std::vector<TimePoint> writing_ack_read_times_;
  metrics::CloseReason close_reason_ = metrics::CloseReason::count;  // count: not known yet
  uint32_t close_status_ = 0;
  bool read_paused_ = false;  // counted once per pause
};

}  // namespace spoa::agent
