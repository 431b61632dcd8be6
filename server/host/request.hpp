#pragma once
// One message being answered by a plugin, and the per-thread pool that recycles them.
//
// The plugin sees a Request only through an opaque spoa_request* handle that carries a
// 16-bit generation next to the address. Requests are never freed while their pool lives,
// so a stale handle (double complete(), set_var after complete) always points at valid
// memory and is recognised by its generation instead of crashing.
#include <spoa/plugin.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "metrics/names.hpp"

namespace spoa::host {

class PluginInstance;
class Request;
class RequestPool;

// The thread a request belongs to. complete() may run on any thread; it hands the request
// back here, and deliver_completion() then runs on the home thread.
class CompletionQueue {
 public:
  virtual ~CompletionQueue() = default;
  virtual void post_completion(Request* request, uint16_t generation) = 0;
};

// Whoever waits for a pending request (a connection). Called on the home thread.
class CompletionSink {
 public:
  virtual ~CompletionSink() = default;
  virtual void request_completed(Request& request) = 0;
};

enum class Phase : uint8_t { idle, running, pending, done, failed };

class Request {
 public:
  // Identity of the call, set by the dispatcher when the request is handed out.
  PluginInstance* instance = nullptr;
  std::string_view message;        // the route's copy of the name; lives as long as the generation
  CompletionSink* sink = nullptr;  // home thread only; nullptr once abandoned
  void* call = nullptr;            // the sink's bookkeeping
  uint32_t index = 0;

  // Metrics, home thread (the dispatcher): the instance's series and when its handler was
  // called, for the latency of a PENDING call that completes later.
  uint32_t plugin_series = metrics::no_series;
  uint64_t dispatched = 0;  // metrics::TickClock ticks
  // Actions appended by set_var/unset_var, counted once the ACK carries them. Written by
  // whoever holds the request (the plugin, until complete()), read on the home thread
  // after the completion is delivered.
  uint32_t set_vars = 0;
  uint32_t unset_vars = 0;

  // Encoded SPOP actions (spop.md §4), appended by set_var/unset_var.
  std::vector<uint8_t> actions;
  uint32_t action_limit = 0;

  RequestPool& pool() const { return *pool_; }
  CompletionQueue& home() const { return *home_; }

  uint16_t generation() const { return unpack_generation(state_.load(std::memory_order_acquire)); }
  Phase phase() const { return unpack_phase(state_.load(std::memory_order_acquire)); }

  spoa_request* handle() const;
  // Resolves a handle; nullptr for a value that cannot be a request. The generation of the
  // handle is returned so callers can compare it with the request's current one.
  static Request* from_handle(spoa_request* handle, uint16_t& generation);

  // Handler returned: running -> pending. False if complete() already ran (then a
  // completion is already on its way to the home thread).
  bool mark_pending();
  // complete(): running|pending -> done|failed, only for the handle's generation.
  bool try_complete(uint16_t generation, int32_t result);
  // set_var/unset_var may only add actions while running or pending.
  bool accepts_actions(uint16_t generation) const;

 private:
  friend class RequestPool;
  Request(RequestPool& pool, CompletionQueue& home) : pool_(&pool), home_(&home) {}

  static constexpr uint32_t pack(uint16_t generation, Phase phase) {
    return (static_cast<uint32_t>(generation) << 8) | static_cast<uint32_t>(phase);
  }
  static constexpr uint16_t unpack_generation(uint32_t state) {
    return static_cast<uint16_t>(state >> 8);
  }
  static constexpr Phase unpack_phase(uint32_t state) { return static_cast<Phase>(state & 0xff); }

  RequestPool* pool_;
  CompletionQueue* home_;
  std::atomic<uint32_t> state_{pack(0, Phase::idle)};
};

// Owned by one I/O thread; acquire() and release() run only there. It must outlive every
// plugin that could still call complete(), i.e. plugin generations are shut down first.
class RequestPool {
 public:
  explicit RequestPool(CompletionQueue& home) : home_(home) {}
  RequestPool(const RequestPool&) = delete;
  RequestPool& operator=(const RequestPool&) = delete;

  Request* acquire();
  void release(Request* request);
  size_t leased() const { return all_.size() - free_.size(); }

 private:
  CompletionQueue& home_;
  std::vector<std::unique_ptr<Request>> all_;
  std::vector<Request*> free_;
};

}  // namespace spoa::host
