#include "host/dispatcher.hpp"

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>

#include "host/execution_pool.hpp"
#include "host/legacy_abi.hpp"
#include "host/value_conversion.hpp"
#include "log/log.hpp"

namespace spoa::host {

namespace {
using metrics::PluginOutcome;

// "10.0.0.1:43210: " to start a line with the peer, as the connection's own lines do.
std::string peer_prefix(std::string_view peer) {
  return peer.empty() ? std::string() : std::string(peer) + ": ";
}

log::Fields fields(std::string_view peer, const RouteName& name) {
  return {peer, name.plugin, name.message, std::nullopt};
}

void log_failure(std::string_view peer, const RouteName& name) {
  // A plugin that fails every call would write a line per NOTIFY: rate limited.
  log::limited(log::Category::plugin, log::Level::warn, fields(peer, name),
               "{}plugin {}: message \"{}\" failed; it contributes no actions", peer_prefix(peer),
               name.plugin, name.message);
}

// Out of line: the hot path below keeps only the call.
[[gnu::cold, gnu::noinline]] void log_bad_result(std::string_view peer, const Route& route,
                                                 int32_t result) {
  log::limited(log::Category::plugin, log::Level::warn, fields(peer, *route.name),
               "{}plugin {}: handler for \"{}\" returned {}, which is not a spoa_result; "
               "treated as FAILED",
               peer_prefix(peer), route.name->plugin, route.message, result);
}

[[gnu::cold, gnu::noinline]] void log_threw(std::string_view peer, const Route& route,
                                            const char* what) {
  if (what != nullptr) {
    log::limited(log::Category::plugin, log::Level::error, fields(peer, *route.name),
                 "{}plugin {}: handler for \"{}\" threw through the C ABI: {}", peer_prefix(peer),
                 route.name->plugin, route.message, what);
  } else {
    log::limited(log::Category::plugin, log::Level::error, fields(peer, *route.name),
                 "{}plugin {}: handler for \"{}\" threw through the C ABI", peer_prefix(peer),
                 route.name->plugin, route.message);
  }
}

// The handler through the C ABI. A C++ plugin that lets an exception escape its handler
// (without the SDK wrapper, which catches) would otherwise unwind through the host's
// thread and leave this NOTIFY unanswered; it is a FAILED call instead, counted apart.
// Inlined into the per-message loop: it runs once per message.
[[gnu::always_inline]] inline int32_t call_handler(std::string_view peer, const Route& route,
                                                   Request& request, const spoa_arg* args,
                                                   size_t nargs) {
  try {
    const HandlerScope scope(request);
    const int32_t result =
        route.handler(route.user, request.handle(), {route.message.data(), route.message.size()},
                      nargs == 0 ? nullptr : args, nargs);
    if (result == SPOA_DONE || result == SPOA_FAILED || result == SPOA_PENDING) [[likely]] {
      return result;
    }
    log_bad_result(peer, route, result);
  } catch (const std::exception& e) {
    request.threw = true;
    log_threw(peer, route, e.what());
  } catch (...) {
    request.threw = true;
    log_threw(peer, route, nullptr);
  }
  return SPOA_FAILED;
}

void post_home(Request& request, uint64_t generation) {
  request.pool().home().post_completion(request, generation);
}
}  // namespace

Dispatcher::Dispatcher(RequestPool& pool) : pool_(pool), clock_(metrics::TickClock::instance()) {}

void Dispatcher::report_stall(std::string_view peer, const Route& route, const Request& request) {
  if (metrics_ != nullptr) {
    if (auto* series = metrics_->plugin(request.plugin_series)) series->stalls.add();
  }
  const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(
      InlineCallMarker::Clock::now() - inline_calls_.flagged_since());
  log::limited(log::Category::plugin, log::Level::warn, fields(peer, *route.name),
               "{}plugin {}: inline handler for message \"{}\" held its I/O thread for at "
               "least {} ms (over {} ms: every connection of that thread waited); set "
               "execution = \"pool\" in [plugins.{}] if it blocks",
               peer_prefix(peer), route.name->plugin, route.message,
               std::max(held, std::chrono::milliseconds(stall_threshold)).count(),
               stall_threshold.count(), route.name->plugin);
}

void Dispatcher::count(const Request& request, PluginOutcome outcome) {
  if (metrics_ == nullptr) return;
  if (auto* series = metrics_->plugin(request.plugin_series)) series->count(outcome);
}

void Dispatcher::count_result(const Request& request, PluginOutcome outcome, uint64_t now) {
  if (metrics_ == nullptr) return;
  metrics::PluginSeries* series = metrics_->plugin(request.plugin_series);
  if (series == nullptr) return;
  series->count(outcome);
  series->duration.observe_ns(clock_.elapsed_ns(request.dispatched, now));
}

inline void Dispatcher::dispatch_inline(const Route& route, const spop::NotifyDecoder& notify,
                                        const spop::Message& message, NotifyCall& call,
                                        Request& request) {
  // Filled in place: the reserved fields stay the zeros resize() wrote.
  const std::span<const spop::Arg> message_args = notify.args(message);
  const size_t nargs = message_args.size();
  if (args_.size() < nargs) args_.resize(nargs);
  for (size_t i = 0; i < nargs; ++i) {
    const spop::Arg& arg = message_args[i];
    args_[i].name = {arg.name.data(), arg.name.size()};
    args_[i].value = to_abi(arg.value);
  }
  const spoa_arg* args = args_.data();
  if (route.legacy_args) {
    legacy_args_.clear();
    for (size_t i = 0; i < nargs; ++i)
      legacy_args_.push_back(to_legacy(args_[i]));
    // The plugin reads the 1.0 layout through the 1.1 type: it was compiled against 1.0.
    args = reinterpret_cast<const spoa_arg*>(legacy_args_.data());
  }
  // request.facts stays null: request_context() reads the call itself during the handler.

  // The clock only for the latency histogram: stalls are found by the StallWatch.
  uint64_t end = 0;
  if (metrics_ != nullptr) request.dispatched = clock_.now();
  const uint64_t mark = inline_calls_.enter(route.name);
  const int32_t result = call_handler(call.peer, route, request, args, nargs);
  if (inline_calls_.leave(mark)) [[unlikely]] {
    report_stall(call.peer, route, request);
  }
  if (metrics_ != nullptr) end = clock_.now();

  const Request::State after = request.handler_returned(result);
  switch (after.phase()) {
    case Phase::pending:
      count(request, PluginOutcome::pending);
      ++call.pending;
      return;
    case Phase::done:
      // Done, or completed by another thread before the handler returned PENDING.
      request.delivered = true;
      if (after.returned_pending()) count(request, PluginOutcome::pending);
      count_result(request, PluginOutcome::done, end);
      return;
    default:
      request.delivered = true;
      if (after.returned_pending()) count(request, PluginOutcome::pending);
      log_failure(call.peer, *route.name);
      request.actions.clear();
      count_result(request, request.threw ? PluginOutcome::exception : PluginOutcome::failed, end);
      return;
  }
}

uint32_t Dispatcher::dispatch(const Generation& generation, const spop::NotifyDecoder& notify,
                              NotifyCall& call, CompletionSink* sink, uint32_t action_limit) {
  call.requests.clear();
  call.pending = 0;
  call.sink = sink;
  for (const spop::Message& message : notify.messages()) {
    const Route* route = generation.find(message.name);
    if (route == nullptr) {
      // unclaimed: no actions (design.md), and one series whatever the name on the wire
      if (metrics_ != nullptr) metrics_->messages_unclaimed.add();
      continue;
    }
    if (metrics_ != nullptr) metrics_->count_message(route->message_series);
    Request* request = pool_.acquire(route->name);
    if (request == nullptr) {
      log::limited(log::Category::plugin, log::Level::error, fields(call.peer, *route->name),
                   "{}plugin {}: message \"{}\" not handed to the plugin: over a million "
                   "requests are in flight; it contributes no actions",
                   peer_prefix(call.peer), route->name->plugin, route->message);
      continue;
    }
    request->instance = route->instance;
    request->call = &call;
    request->action_limit = action_limit;
    request->plugin_series = route->plugin_series;
    call.requests.push_back(request);

    if (route->pool != nullptr) {
      if (metrics_ != nullptr) request->dispatched = clock_.now();
      if (dispatch_to_pool(*route, notify, message, call, *request)) {
        count(*request, PluginOutcome::pending);
        ++call.pending;
        continue;
      }
      // The pool's queue is full: FAILED now rather than a NOTIFY waiting behind it.
      request->handler_returned(SPOA_FAILED);
      request->delivered = true;
      count(*request, PluginOutcome::queue_full);
      log::limited(log::Category::plugin, log::Level::warn, fields(call.peer, *route->name),
                   "{}plugin {}: message \"{}\" failed at once: the pool's queue is full "
                   "(pool_queue calls waiting for pool_threads threads)",
                   peer_prefix(call.peer), route->name->plugin, route->message);
      continue;
    }
    dispatch_inline(*route, notify, message, call, *request);
  }
  return call.pending;
}

bool Dispatcher::dispatch_to_pool(const Route& route, const spop::NotifyDecoder& notify,
                                  const spop::Message& message, NotifyCall& call,
                                  Request& request) {
  if (!request.job) request.job = std::make_unique<PoolJob>();
  PoolJob& job = *request.job;
  job.route = &route;
  job.generation = request.generation();
  // The receive buffer is reused as soon as this returns: the job copies what the handler
  // reads. Two passes, so that the views are taken once the byte buffer stops growing.
  job.bytes.clear();
  for (const spop::Arg& arg : notify.args(message)) {
    job.bytes.insert(job.bytes.end(), arg.name.begin(), arg.name.end());
    job.bytes.insert(job.bytes.end(), arg.value.bytes.begin(), arg.value.bytes.end());
  }
  job.args.clear();
  const char* base = reinterpret_cast<const char*>(job.bytes.data());
  size_t offset = 0;
  for (const spop::Arg& arg : notify.args(message)) {
    const spoa_str name{base + offset, arg.name.size()};
    offset += arg.name.size();
    spoa_value value = to_abi(arg.value);
    if (value.type == SPOA_TYPE_STRING || value.type == SPOA_TYPE_BINARY) {
      value.u.bytes = {base + offset, arg.value.bytes.size()};
    }
    offset += arg.value.bytes.size();
    job.args.push_back({name, value, 0, 0, 0});
  }
  job.legacy_args.clear();
  if (route.legacy_args) {
    job.legacy_args.resize(job.args.size() * sizeof(LegacyArg));
    for (size_t i = 0; i < job.args.size(); ++i) {
      const LegacyArg legacy = to_legacy(job.args[i]);
      std::memcpy(job.legacy_args.data() + i * sizeof(LegacyArg), &legacy, sizeof legacy);
    }
  }
  job.peer.assign(call.peer);
  job.engine_id.assign(call.engine_id);
  job.facts = {call.stream_id, call.frame_id, call.deadline, job.engine_id, job.peer, true};
  return route.pool->submit(request);
}

void run_pool_job(Request& request) {
  PoolJob& job = *request.job;
  const Route& route = *job.route;
  const uint64_t generation = job.generation;
  int32_t result = SPOA_FAILED;
  if (request.state().phase() == Phase::abandoned) {
    // The deadline passed while the call waited in the queue: nobody wants the answer.
    result = SPOA_FAILED;
  } else {
    request.facts = &job.facts;
    const spoa_arg* args = route.legacy_args
                               ? reinterpret_cast<const spoa_arg*>(job.legacy_args.data())
                               : job.args.data();
    result = call_handler(job.peer, route, request, args, job.args.size());
    request.facts = nullptr;
  }
  const Request::State after = request.handler_returned(result);
  if (after.phase() == Phase::done || after.phase() == Phase::failed ||
      (after.host_done() && after.plugin_done())) {
    post_home(request, generation);
  }
}

void drop_pool_job(Request& request) {
  const uint64_t generation = request.job->generation;
  const Request::State after = request.handler_returned(SPOA_FAILED);
  if (after.host_done() && after.plugin_done()) post_home(request, generation);
}

bool Dispatcher::complete(NotifyCall& call, Request& request) {
  const Request::State s = request.state();
  if (s.phase() == Phase::done) {
    count_result(request, PluginOutcome::done, clock_.now());
  } else {
    log_failure(call.peer, *request.name);
    request.actions.clear();
    count_result(request, request.threw ? PluginOutcome::exception : PluginOutcome::failed,
                 clock_.now());
  }
  --call.pending;
  return call.pending == 0;
}

void Dispatcher::finish(NotifyCall& call, spop::AckWriter& ack) {
  for (Request* request : call.requests) {
    if (!request->delivered) {
      // Still pending at the deadline: abandoned (its complete() will find it sealed).
      // (Or completed, with the completion still on its way to this thread.)
      const Request::State after = request->abandon();
      count(*request, PluginOutcome::deadline_missed);
      log::limited(log::Category::plugin, log::Level::warn, fields(call.peer, *request->name),
                   "{}plugin {}: message \"{}\" missed the processing deadline; ACK sent "
                   "without its actions",
                   peer_prefix(call.peer), request->name->plugin, request->name->message);
      request->call = nullptr;
      if (after.plugin_done()) pool_.release(*request);
      continue;
    }
    const Request::State s = request->state();
    if (s.phase() == Phase::done && !request->actions.empty()) {
      if (ack.append_actions(request->actions)) {
        if (metrics_ != nullptr) {
          metrics_->count_actions(metrics::ActionType::set_var, request->set_vars);
          metrics_->count_actions(metrics::ActionType::unset_var, request->unset_vars);
        }
      } else {
        if (metrics_ != nullptr) {
          if (auto* series = metrics_->plugin(request->plugin_series)) {
            series->actions_dropped.add();
          }
        }
        log::limited(log::Category::plugin, log::Level::warn, fields(call.peer, *request->name),
                     "{}plugin {}: actions for message \"{}\" ({} bytes) do not fit in the ACK "
                     "({} bytes left under the negotiated max-frame-size); dropped",
                     peer_prefix(call.peer), request->name->plugin, request->name->message,
                     request->actions.size(), ack.room());
      }
    }
    request->call = nullptr;
    // Sealed and the plugin done with it: no other thread writes its state any more, so
    // it goes back without another atomic step.
    if (s.plugin_done() || request->finish_host_side().plugin_done()) pool_.release(*request);
  }
  call.requests.clear();
  call.pending = 0;
  call.generation.reset();
}

void Dispatcher::abandon(NotifyCall& call) {
  for (Request* request : call.requests) {
    const Request::State after = request->abandon();
    if (!request->delivered) count(*request, PluginOutcome::abandoned);
    request->call = nullptr;
    if (after.plugin_done()) pool_.release(*request);
  }
  call.requests.clear();
  call.pending = 0;
  call.generation.reset();
}

}  // namespace spoa::host
