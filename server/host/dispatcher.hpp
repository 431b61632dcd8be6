#pragma once
// Hands the messages of one NOTIFY to the plugin instances that claim them and gathers
// their actions, in message order, into one ACK.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <spoa/plugin.h>

#include "host/generation.hpp"
#include "host/request.hpp"
#include "metrics/thread_metrics.hpp"
#include "metrics/tick_clock.hpp"
#include "spop/ack.hpp"
#include "spop/notify.hpp"

namespace spoa::host {

enum class Outcome : uint8_t { pending, done, failed };

// One NOTIFY being answered. Owned by the connection; reused across frames.
struct NotifyCall {
  struct Slot {
    Request* request;
    Outcome outcome;
  };
  uint64_t stream_id = 0;
  uint64_t frame_id = 0;
  std::vector<Slot> slots;  // claimed messages only, in message order
  uint32_t pending = 0;
  // Held while something is pending, so a reload cannot unload the plugins under it.
  std::shared_ptr<const Generation> generation;
  std::chrono::steady_clock::time_point deadline;
  void* owner = nullptr;  // the sink's own record of this call
  std::string_view peer;  // who sent the NOTIFY, for log lines; outlives the call
};

class Dispatcher {
 public:
  explicit Dispatcher(RequestPool& pool) : pool_(pool) {}

  // This thread's counters (nullptr: metrics off, nothing counted). Home thread only.
  void set_metrics(metrics::ThreadMetrics* metrics) {
    metrics_ = metrics;
    clock_ = metrics != nullptr ? &metrics::TickClock::instance() : nullptr;
  }

  // Calls the handler of every claimed message. Returns the number left pending; their
  // completions reach `sink` on this thread. action_limit caps one message's actions.
  uint32_t dispatch(const Generation& generation, const spop::NotifyDecoder& notify,
                    NotifyCall& call, CompletionSink* sink, uint32_t action_limit);

  // A completion delivered on the home thread (from CompletionSink::request_completed).
  // Returns true when nothing of the call is pending any more.
  bool complete(NotifyCall& call, Request& request);

  // Appends the actions of every finished message, in message order, to `ack`. Actions
  // that do not fit are dropped and logged with their plugin. Finished requests go back to
  // the pool; pending ones are abandoned: their late complete() is then a no-op.
  void finish(NotifyCall& call, spop::AckWriter& ack);

  // The connection is gone: no ACK; everything is released or abandoned.
  void abandon(NotifyCall& call);

 private:
  void release_all(NotifyCall& call);

  // Metrics of one finished request: outcome, latency since dispatch.
  void count_result(const Request& request, metrics::PluginOutcome outcome, uint64_t now);

  RequestPool& pool_;
  metrics::ThreadMetrics* metrics_ = nullptr;
  const metrics::TickClock* clock_ = nullptr;  // set with metrics_
  std::vector<spoa_arg> args_;                 // scratch, reused so the hot path does not allocate
};

// Runs on the home thread for every completion posted by complete().
void deliver_completion(Request* request, uint16_t generation);

}  // namespace spoa::host
