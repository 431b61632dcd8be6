#pragma once
// One message being answered by a plugin: its single state machine, its handle, and the
// per-thread pool that recycles requests first-in first-out.
//
// A plugin sees a request only as an opaque spoa_request* whose value is a slot number and
// a 44-bit generation (never an address), resolved through the process-wide RequestTable.
// Slots are never freed, so a stale handle always resolves to valid memory and is told
// apart by its generation.
//
// Every fact about a request's progress is in one atomic word (State): the phase
// (running, pending, done, failed, abandoned), whether the plugin is finished with it
// (handler returned, complete() called) and whether the host is (ACK built, call
// abandoned). The thread whose transition makes both sides finished releases it, on the
// home thread. Set_var from a thread other than the handler's takes the word's writer bit,
// and every sealing transition waits for that bit, so no action is appended after a
// request is sealed and none races the ACK being built.
#include <spoa/plugin.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/names.hpp"

namespace spoa::host {

class PluginInstance;
struct PoolJob;
class Request;
class RequestPool;
struct NotifyCall;

namespace detail {
// The request the calling thread is running the handler of (HandlerScope).
inline thread_local Request* handler_request = nullptr;

// Every request of the process, in chunks that never move and are never freed: a handle
// resolves without a lock, and a stale one still lands on a Request.
inline constexpr uint32_t chunk_bits = 10;
inline constexpr uint32_t chunk_size = 1u << chunk_bits;
inline constexpr uint32_t max_chunks = 1023;  // slot + 1 fits the handle's 20 bits
inline constexpr uint32_t table_capacity = chunk_size * max_chunks;
extern std::array<std::atomic<Request*>, max_chunks> request_chunks;
}  // namespace detail

// The (instance, message) names of a route, interned for the life of the process: a log
// line about a late call can name them even after the generation that had the route is
// gone. Bounded by the names configs have used.
struct RouteName {
  std::string plugin;
  std::string message;
};
const RouteName* intern_route_name(std::string_view plugin, std::string_view message);

// The thread a request belongs to. Transitions on other threads (complete(), a pool
// handler returning) hand the request back here; deliver() then runs on the home thread.
class CompletionQueue {
 public:
  virtual ~CompletionQueue() = default;
  virtual void post_completion(Request& request, uint64_t generation) = 0;
};

// Whoever waits for a NotifyCall's pending requests (a connection). Home thread only.
class CompletionSink {
 public:
  virtual ~CompletionSink() = default;
  virtual void request_completed(NotifyCall& call, Request& request) = 0;
};

enum class Phase : uint8_t { idle, running, pending, done, failed, abandoned };

// The per-request facts request_context() hands a handler (plugin.h). For an inline
// handler they point into the NotifyCall; a pool job owns its copies.
struct RequestFacts {
  uint64_t stream_id = 0;
  uint64_t frame_id = 0;
  std::chrono::steady_clock::time_point deadline;
  std::string_view engine_id;
  std::string_view peer;
  bool pool = false;
};

class Request {
 public:
  static constexpr int generation_bits = 44;
  static constexpr uint64_t generation_mask = (uint64_t{1} << generation_bits) - 1;

  // The decoded state word.
  struct State {
    uint64_t word;
    uint64_t generation() const { return word >> 20; }
    Phase phase() const { return static_cast<Phase>(word & 7); }
    bool writer() const { return (word & writer_bit) != 0; }
    bool has_callback() const { return (word & callback_bit) != 0; }
    bool returned() const { return (word & returned_bit) != 0; }
    bool returned_pending() const { return (word & returned_pending_bit) != 0; }
    bool completed() const { return (word & completed_bit) != 0; }
    bool host_done() const { return (word & host_done_bit) != 0; }
    // The plugin will not legitimately touch the request again.
    bool plugin_done() const { return returned() && (!returned_pending() || completed()); }
    bool sealed() const { return phase() != Phase::running && phase() != Phase::pending; }
  };

  // ---- home thread only (the dispatcher and the connection) -----------------------------
  PluginInstance* instance = nullptr;
  const RouteName* name = nullptr;  // the route's names, for log lines
  NotifyCall* call = nullptr;       // nullptr once the host is done with the request
  uint32_t plugin_series = metrics::no_series;
  uint64_t dispatched = 0;  // metrics::TickClock ticks
  bool delivered = false;   // the completion reached the call
  bool threw = false;       // the handler threw through the C ABI (counted apart)

  // ---- whoever holds the request: the handler thread, or after PENDING one plugin
  // thread at a time (under the writer bit when it is not the handler's thread) ----------
  std::vector<uint8_t> actions;  // encoded SPOP actions (spop.md §4)
  uint32_t action_limit = 0;
  uint32_t set_vars = 0;
  uint32_t unset_vars = 0;
  const RequestFacts* facts = nullptr;  // valid while the handler runs
  std::unique_ptr<PoolJob> job;         // execution = "pool": the call's own copies, reused

  Request();
  ~Request();
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  RequestPool& pool() const { return *pool_.load(std::memory_order_relaxed); }
  uint32_t slot() const { return slot_; }
  State state() const { return {word_.load(std::memory_order_acquire)}; }
  uint64_t generation() const { return state().generation(); }

  spoa_request* handle() const { return handle_; }
  // nullptr for a value that is not a handle the table ever gave out.
  static Request* resolve(spoa_request* handle, uint64_t& generation) {
    const auto value = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(handle));
    const uint64_t slot = (value >> generation_bits) - 1;  // wraps for slot_plus_one == 0
    if (slot >= detail::table_capacity) return nullptr;
    generation = value & generation_mask;
    Request* base =
        detail::request_chunks[slot >> detail::chunk_bits].load(std::memory_order_acquire);
    if (base == nullptr) return nullptr;
    Request& request = base[slot & (detail::chunk_size - 1)];
    // A slot of an allocated chunk not handed to any pool yet was never a handle.
    return request.pool_.load(std::memory_order_acquire) != nullptr ? &request : nullptr;
  }

  // The names of the route that held generation `generation` of this slot, if the slot
  // still remembers them (it keeps the current and the previous generation's), else
  // nullptr. Any thread; never blocks.
  const RouteName* name_of(uint64_t generation) const;

  // ---- transitions ----------------------------------------------------------------------
  // The handler returned `result` (SPOA_DONE, SPOA_FAILED or SPOA_PENDING; anything else
  // counts as FAILED) on the thread that ran it. Returns the state after.
  State handler_returned(int32_t result) {
    // The common case, nothing else touched the request meanwhile: one CAS.
    uint64_t word = word_.load(std::memory_order_relaxed);
    if ((word & (7 | writer_bit)) == static_cast<uint64_t>(Phase::running)) {
      const Phase phase = result == SPOA_PENDING ? Phase::pending
                          : result == SPOA_DONE  ? Phase::done
                                                 : Phase::failed;
      const uint64_t target = with_phase(word, phase) | returned_bit |
                              (result == SPOA_PENDING ? returned_pending_bit : 0);
      if (word_.compare_exchange_strong(word, target, std::memory_order_acq_rel,
                                        std::memory_order_relaxed)) {
        return State{target};
      }
    }
    return handler_returned_slow(result);
  }
  // complete() from any thread, for the handle's generation. Returns the state before the
  // call in `before` and true if it made the request done/failed.
  bool try_complete(uint64_t generation, int32_t result, State& before);
  // complete() on an abandoned request: records that the plugin kept its side of the
  // contract. True if this call was the plugin's first complete() (so the request may be
  // released now); `after` is the state after.
  bool complete_abandoned(uint64_t generation, State& after);
  // The host gives up (deadline, connection gone): running|pending -> abandoned, or for a
  // finished request marks the host side done. Home thread. Returns the state after; the
  // abandonment callback, if any, has been called when the phase became abandoned.
  State abandon();
  // The host built the ACK from a done/failed request. Home thread. Returns the state after.
  State finish_host_side();

  // Actions: from the handler's own thread a check, from any other thread the writer bit.
  // begin_write() fails (and returns the state that refused it) for a sealed or stale
  // request.
  bool begin_write(uint64_t generation, State& refused) {
    if (on_handler_thread()) {
      // Only this thread moves the request out of running while its handler runs, except
      // complete() or an abandonment from elsewhere, after which nobody reads the actions
      // until the handler has returned.
      refused = state();
      return refused.generation() == generation && refused.phase() == Phase::running;
    }
    return begin_write_locked(generation, refused);
  }
  void end_write() {
    if (!on_handler_thread()) word_.fetch_and(~writer_bit, std::memory_order_release);
  }
  // True if the calling thread is running this request's handler now.
  bool on_handler_thread() const { return detail::handler_request == this; }

  // Abandonment callback (plugin.h on_abandon). False if the request is sealed or stale.
  bool set_abandon_callback(uint64_t generation, void (*callback)(void*, spoa_request*), void* user,
                            State& refused);

 private:
  friend class RequestPool;
  friend class RequestTable;
  friend class HandlerScope;

  static constexpr uint64_t writer_bit = 1u << 3;
  static constexpr uint64_t callback_bit = 1u << 4;
  static constexpr uint64_t returned_bit = 1u << 5;
  static constexpr uint64_t returned_pending_bit = 1u << 6;
  static constexpr uint64_t completed_bit = 1u << 7;
  static constexpr uint64_t host_done_bit = 1u << 8;

  static constexpr uint64_t pack(uint64_t generation, Phase phase, uint64_t flags) {
    return (generation << 20) | flags | static_cast<uint64_t>(phase);
  }
  static constexpr uint64_t with_phase(uint64_t word, Phase phase) {
    return (word & ~uint64_t{7}) | static_cast<uint64_t>(phase);
  }
  static spoa_request* handle_of(uint32_t slot, uint64_t generation) {
    const uint64_t value = (uint64_t{slot + 1} << generation_bits) | (generation & generation_mask);
    return reinterpret_cast<spoa_request*>(static_cast<uintptr_t>(value));
  }
  // Actions above this capacity are freed when the request goes back to its pool: a burst
  // of large answers does not stay allocated in every request it touched.
  static constexpr size_t kept_action_capacity = 4096;

  // RequestPool: the next generation, running, for route `route`.
  void start(const RouteName* route) {
    const uint64_t generation = (state().generation() + 1) & generation_mask;
    // The new generation first, then its name (see name_of), then running.
    word_.store(pack(generation, Phase::idle, 0), std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    names_[generation & 1].store(route, std::memory_order_relaxed);
    name = route;
    handle_ = handle_of(slot_, generation);
    word_.store(pack(generation, Phase::running, 0), std::memory_order_release);
  }
  // RequestPool: back to idle, holding nothing of the call.
  void reset() {
    word_.store(pack(state().generation(), Phase::idle, 0), std::memory_order_release);
    instance = nullptr;
    call = nullptr;
    facts = nullptr;
    delivered = false;
    threw = false;
    if (actions.capacity() > kept_action_capacity) [[unlikely]] {
      std::vector<uint8_t>().swap(actions);
    } else {
      actions.clear();
    }
    set_vars = unset_vars = 0;
    abandon_callback_.store(nullptr, std::memory_order_relaxed);
    if (job) trim_job();
  }
  void trim_job();
  State handler_returned_slow(int32_t result);
  bool begin_write_locked(uint64_t generation, State& refused);

  // CAS `word_` with `next(state)` until it succeeds; waits while another thread holds the
  // writer bit (its critical section is a few stores). `next` returns false to give up.
  template <class F>
  bool transition(State& before, State& after, F&& next);

  std::atomic<RequestPool*> pool_{nullptr};
  uint32_t slot_ = 0;
  spoa_request* handle_ = nullptr;  // of the current generation; home thread only
  std::atomic<uint64_t> word_{0};
  // Route names by generation parity, so a reader can check it got the right one.
  std::array<std::atomic<const RouteName*>, 2> names_{};
  std::atomic<void (*)(void*, spoa_request*)> abandon_callback_{nullptr};
  std::atomic<void*> abandon_user_{nullptr};
};

// Marks the calling thread as running `request`'s handler for the scope's lifetime, so
// that set_var from it needs no writer bit and request_context() is allowed.
class HandlerScope {
 public:
  explicit HandlerScope(Request& request) { detail::handler_request = &request; }
  ~HandlerScope() { detail::handler_request = nullptr; }
  HandlerScope(const HandlerScope&) = delete;
  HandlerScope& operator=(const HandlerScope&) = delete;
};

// Owned by one I/O thread; acquire() and release() run only there. Requests come from the
// process-wide table and stay this pool's; free ones are reused oldest first, so a slot
// comes back only after every other free slot of the pool was used.
class RequestPool {
 public:
  explicit RequestPool(CompletionQueue& home) : home_(home) {}
  ~RequestPool();
  RequestPool(const RequestPool&) = delete;
  RequestPool& operator=(const RequestPool&) = delete;

  // nullptr when the process-wide table is full (over a million requests in flight).
  // Once per message each: inline, with growth out of line.
  Request* acquire(const RouteName* name) {
    Request* request = nullptr;
    if (free_count_ != 0) [[likely]] {
      request = free_[head_];
      head_ = (head_ + 1) & (free_.size() - 1);
      --free_count_;
    } else {
      request = allocate();
      if (request == nullptr) return nullptr;
    }
    request->start(name);
    return request;
  }
  void release(Request& request) {
    request.reset();
    if (free_count_ == free_.size()) [[unlikely]]
      grow_ring();
    free_[(head_ + free_count_) & (free_.size() - 1)] = &request;
    ++free_count_;
  }
  size_t leased() const { return owned_ - free_count_; }
  CompletionQueue& home() const { return home_; }

 private:
  CompletionQueue& home_;
  // A ring of free requests (capacity a power of two): pop at head_, push at
  // head_ + free_count_.
  std::vector<Request*> free_;
  size_t head_ = 0;
  size_t free_count_ = 0;
  size_t owned_ = 0;
  std::vector<Request*> all_;

  Request* allocate();
  void grow_ring();
};

// Home thread: a transition elsewhere (complete(), a pool handler returning, a late
// complete() after abandonment) arrives here. Delivers a completion to the call still
// waiting for it, or releases a request both sides are done with.
void deliver(Request& request, uint64_t generation);

}  // namespace spoa::host
