#pragma once
// Hands the messages of one NOTIFY to the plugin instances that claim them and gathers
// their actions, in message order, into one ACK.
//
// The API between the engine (server/agent) and the host:
//  * the connection fills a NotifyCall's identity (stream, frame, peer, engine id,
//    deadline) and calls dispatch(); what is not pending is answered by finish() at once;
//  * a pending request's completion reaches call.sink->request_completed(call, request)
//    on the home thread; the sink passes it to complete(), which says when nothing of the
//    call is pending any more, and then calls finish();
//  * at the deadline the sink calls finish() anyway (pending requests are abandoned: a
//    late complete() returns NOT_ALLOWED), and abandon() when the connection is gone.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <spoa/plugin.h>

#include "host/generation.hpp"
#include "host/legacy_abi.hpp"
#include "host/request.hpp"
#include "host/stall_watch.hpp"
#include "metrics/thread_metrics.hpp"
#include "metrics/tick_clock.hpp"
#include "spop/ack.hpp"
#include "spop/notify.hpp"

namespace spoa::host {

// One NOTIFY being answered. Owned by the connection (which may derive its own record of
// the call from it); reused across frames.
struct NotifyCall {
  uint64_t stream_id = 0;
  uint64_t frame_id = 0;
  std::string_view peer;       // who sent the NOTIFY, for log lines; outlives the call
  std::string_view engine_id;  // HAPROXY-HELLO's engine-id (may be empty); outlives the call
  // When the host answers without what is still pending: set before dispatch(), handlers
  // read it through request_context().
  std::chrono::steady_clock::time_point deadline;
  std::vector<Request*> requests;  // claimed messages only, in message order
  uint32_t pending = 0;
  // Held while something is pending, so a reload cannot unload the plugins under it.
  std::shared_ptr<const Generation> generation;
  CompletionSink* sink = nullptr;  // set by dispatch()
};

// An inline handler call slower than this held its I/O thread: logged and counted as a
// stall (spoa_host_plugin_stalls_total), so the operator sees which plugin needs a pool.
// Found by a StallWatch sampling every stall_threshold / 2: a call is caught once it has
// run for between stall_threshold and 1.5 x stall_threshold.
inline constexpr std::chrono::milliseconds stall_threshold{10};

class Dispatcher {
 public:
  explicit Dispatcher(RequestPool& pool);

  // This thread's counters (nullptr: metrics off, nothing counted). Home thread only.
  void set_metrics(metrics::ThreadMetrics* metrics) { metrics_ = metrics; }

  // Calls the handler of every claimed message (or queues it on its instance's pool).
  // Returns the number left pending; their completions reach `sink` on this thread.
  // action_limit caps one message's actions.
  uint32_t dispatch(const Generation& generation, const spop::NotifyDecoder& notify,
                    NotifyCall& call, CompletionSink* sink, uint32_t action_limit);

  // A completion delivered on the home thread (from CompletionSink::request_completed).
  // Returns true when nothing of the call is pending any more.
  bool complete(NotifyCall& call, Request& request);

  // Appends the actions of every finished message, in message order, to `ack`. Actions
  // that do not fit are dropped and logged with their plugin. Pending requests are
  // abandoned (deadline): their late complete() returns NOT_ALLOWED.
  void finish(NotifyCall& call, spop::AckWriter& ack);

  // The connection is gone: no ACK; everything is released or abandoned.
  void abandon(NotifyCall& call);

  // The inline call this thread runs now, for a StallWatch on another thread.
  const InlineCallMarker& inline_calls() const { return inline_calls_; }

 private:
  // Inlined into dispatch(), its only caller: once per message, the call overhead shows.
  [[gnu::always_inline]] inline void dispatch_inline(const Route& route,
                                                     const spop::NotifyDecoder& notify,
                                                     const spop::Message& message, NotifyCall& call,
                                                     Request& request);
  bool dispatch_to_pool(const Route& route, const spop::NotifyDecoder& notify,
                        const spop::Message& message, NotifyCall& call, Request& request);
  void count_result(const Request& request, metrics::PluginOutcome outcome, uint64_t now);
  void count(const Request& request, metrics::PluginOutcome outcome);

  void report_stall(std::string_view peer, const Route& route, const Request& request);

  RequestPool& pool_;
  metrics::ThreadMetrics* metrics_ = nullptr;
  const metrics::TickClock& clock_;
  InlineCallMarker inline_calls_;
  std::vector<spoa_arg> args_;          // scratch, reused so the hot path does not allocate
  std::vector<LegacyArg> legacy_args_;  // the same in the 1.0 layout, for 1.0-built plugins
};

}  // namespace spoa::host
