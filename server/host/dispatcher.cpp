#include "host/dispatcher.hpp"

#include <exception>
#include <string>

#include "host/value_conversion.hpp"
#include "log/log.hpp"

namespace spoa::host {

namespace {
using metrics::PluginOutcome;

// "10.0.0.1:43210: " to start a line with the peer, as the connection's own lines do.
std::string peer_prefix(const NotifyCall& call) {
  return call.peer.empty() ? std::string() : std::string(call.peer) + ": ";
}

log::Fields fields(const NotifyCall& call, const Request& request) {
  return {call.peer, request.instance->name(), request.message, std::nullopt};
}

void count_failure(const NotifyCall& call, Request& request) {
  request.instance->counters().failed.fetch_add(1, std::memory_order_relaxed);
  // A plugin that fails every call would write a line per NOTIFY: rate limited.
  log::limited(log::Category::plugin, log::Level::warn, fields(call, request),
               "{}plugin {}: message \"{}\" failed; it contributes no actions", peer_prefix(call),
               request.instance->name(), request.message);
}

// The handler through the C ABI. A C++ plugin that lets an exception escape its handler
// (without the SDK wrapper, which catches) would otherwise unwind through the I/O thread
// and leave this NOTIFY unanswered; it is a FAILED call instead, counted apart.
int32_t call_handler(const NotifyCall& call, const Route& route, Request& request,
                     const spop::Message& message, const std::vector<spoa_arg>& args, bool& threw) {
  try {
    return route.handler(route.user, request.handle(), {message.name.data(), message.name.size()},
                         args.empty() ? nullptr : args.data(), args.size());
  } catch (const std::exception& e) {
    threw = true;
    log::limited(log::Category::plugin, log::Level::error, fields(call, request),
                 "{}plugin {}: handler for \"{}\" threw through the C ABI: {}", peer_prefix(call),
                 route.instance->name(), route.message, e.what());
  } catch (...) {
    threw = true;
    log::limited(log::Category::plugin, log::Level::error, fields(call, request),
                 "{}plugin {}: handler for \"{}\" threw through the C ABI", peer_prefix(call),
                 route.instance->name(), route.message);
  }
  return SPOA_FAILED;
}
}  // namespace

void Dispatcher::count_result(const Request& request, PluginOutcome outcome, uint64_t now) {
  metrics::PluginSeries* series = metrics_->plugin(request.plugin_series);
  if (series == nullptr) return;
  series->count(outcome);
  series->duration.observe_ns(clock_->elapsed_ns(request.dispatched, now));
}

uint32_t Dispatcher::dispatch(const Generation& generation, const spop::NotifyDecoder& notify,
                              NotifyCall& call, CompletionSink* sink, uint32_t action_limit) {
  call.slots.clear();
  call.pending = 0;
  for (const spop::Message& message : notify.messages()) {
    const Route* route = generation.find(message.name);
    if (route == nullptr) {
      // unclaimed: no actions (design.md), and one series whatever the name on the wire
      if (metrics_ != nullptr) metrics_->messages_unclaimed.add();
      continue;
    }

    args_.clear();
    for (const spop::Arg& arg : notify.args(message)) {
      args_.push_back({{arg.name.data(), arg.name.size()}, to_abi(arg.value)});
    }
    Request* request = pool_.acquire();
    request->instance = route->instance;
    request->message = route->message;
    request->sink = sink;
    request->call = &call;
    request->index = static_cast<uint32_t>(call.slots.size());
    request->action_limit = action_limit;
    if (metrics_ != nullptr) {
      metrics_->count_message(route->message_series);
      request->plugin_series = route->plugin_series;
      request->dispatched = clock_->now();
    }

    bool threw = false;
    const int32_t result = call_handler(call, *route, *request, message, args_, threw);
    Outcome outcome = Outcome::done;
    if (result == SPOA_PENDING) {
      // If complete() already ran (inline or on another thread), its completion is queued
      // behind us on this thread and will find the request pending here.
      request->mark_pending();
      route->instance->counters().pending.fetch_add(1, std::memory_order_relaxed);
      if (metrics_ != nullptr) {
        if (auto* series = metrics_->plugin(route->plugin_series)) {
          series->count(PluginOutcome::pending);
        }
      }
      outcome = Outcome::pending;
      ++call.pending;
    } else if (result != SPOA_DONE) {
      if (result != SPOA_FAILED) {
        log::limited(log::Category::plugin, log::Level::warn, fields(call, *request),
                     "{}plugin {}: handler for \"{}\" returned {}, which is not a spoa_result; "
                     "treated as FAILED",
                     peer_prefix(call), route->instance->name(), route->message, result);
      }
      count_failure(call, *request);
      request->actions.clear();
      outcome = Outcome::failed;
      if (metrics_ != nullptr) {
        count_result(*request, threw ? PluginOutcome::exception : PluginOutcome::failed,
                     clock_->now());
      }
    } else if (metrics_ != nullptr) {
      count_result(*request, PluginOutcome::done, clock_->now());
    }
    call.slots.push_back({request, outcome});
  }
  return call.pending;
}

bool Dispatcher::complete(NotifyCall& call, Request& request) {
  auto& slot = call.slots.at(request.index);
  if (slot.request != &request || slot.outcome != Outcome::pending) return call.pending == 0;
  if (request.phase() == Phase::done) {
    slot.outcome = Outcome::done;
  } else {
    count_failure(call, request);
    request.actions.clear();
    slot.outcome = Outcome::failed;
  }
  if (metrics_ != nullptr) {
    count_result(request,
                 slot.outcome == Outcome::done ? PluginOutcome::done : PluginOutcome::failed,
                 clock_->now());
  }
  --call.pending;
  return call.pending == 0;
}

void Dispatcher::finish(NotifyCall& call, spop::AckWriter& ack) {
  for (auto& slot : call.slots) {
    Request& request = *slot.request;
    if (slot.outcome == Outcome::pending) {
      request.instance->counters().deadline_missed.fetch_add(1, std::memory_order_relaxed);
      if (metrics_ != nullptr) {
        if (auto* series = metrics_->plugin(request.plugin_series)) {
          series->count(PluginOutcome::deadline_missed);
        }
      }
      log::limited(log::Category::plugin, log::Level::warn, fields(call, request),
                   "{}plugin {}: message \"{}\" missed the processing deadline; ACK sent without "
                   "its actions",
                   peer_prefix(call), request.instance->name(), request.message);
      continue;
    }
    if (slot.outcome != Outcome::done || request.actions.empty()) continue;
    if (ack.append_actions(request.actions)) {
      if (metrics_ != nullptr) {
        metrics_->count_actions(metrics::ActionType::set_var, request.set_vars);
        metrics_->count_actions(metrics::ActionType::unset_var, request.unset_vars);
      }
    } else {
      request.instance->counters().actions_dropped.fetch_add(1, std::memory_order_relaxed);
      if (metrics_ != nullptr) {
        if (auto* series = metrics_->plugin(request.plugin_series)) series->actions_dropped.add();
      }
      log::limited(log::Category::plugin, log::Level::warn, fields(call, request),
                   "{}plugin {}: actions for message \"{}\" ({} bytes) do not fit in the ACK "
                   "({} bytes left under the negotiated max-frame-size); dropped",
                   peer_prefix(call), request.instance->name(), request.message,
                   request.actions.size(), ack.room());
    }
  }
  release_all(call);
}

void Dispatcher::abandon(NotifyCall& call) {
  if (metrics_ != nullptr) {
    for (const auto& slot : call.slots) {
      if (slot.outcome != Outcome::pending) continue;
      if (auto* series = metrics_->plugin(slot.request->plugin_series)) {
        series->count(PluginOutcome::abandoned);
      }
    }
  }
  release_all(call);
}

void Dispatcher::release_all(NotifyCall& call) {
  for (auto& slot : call.slots) {
    if (slot.outcome == Outcome::pending) {
      slot.request->sink = nullptr;  // its completion, if it ever comes, just releases it
    } else {
      pool_.release(slot.request);
    }
  }
  call.slots.clear();
  call.pending = 0;
  call.generation.reset();
}

void deliver_completion(Request* request, uint16_t generation) {
  if (request->generation() != generation) return;  // finished and recycled meanwhile
  if (request->sink != nullptr) {
    request->sink->request_completed(*request);
  } else {
    request->pool().release(request);
  }
}

}  // namespace spoa::host
