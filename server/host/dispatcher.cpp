#include "host/dispatcher.hpp"

#include "host/value_conversion.hpp"
#include "log/log.hpp"

namespace spoa::host {

namespace {
void count_failure(Request& request) {
  request.instance->counters().failed.fetch_add(1, std::memory_order_relaxed);
  log::warn("plugin {}: message \"{}\" failed; it contributes no actions", request.instance->name(),
            request.message);
}
}  // namespace

uint32_t Dispatcher::dispatch(const Generation& generation, const spop::NotifyDecoder& notify,
                              NotifyCall& call, CompletionSink* sink, uint32_t action_limit) {
  call.slots.clear();
  call.pending = 0;
  for (const spop::Message& message : notify.messages()) {
    const Route* route = generation.find(message.name);
    if (route == nullptr) continue;  // unclaimed: no actions (design.md)

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

    const int32_t result =
        route->handler(route->user, request->handle(), {message.name.data(), message.name.size()},
                       args_.empty() ? nullptr : args_.data(), args_.size());
    Outcome outcome = Outcome::done;
    if (result == SPOA_PENDING) {
      // If complete() already ran (inline or on another thread), its completion is queued
      // behind us on this thread and will find the request pending here.
      request->mark_pending();
      route->instance->counters().pending.fetch_add(1, std::memory_order_relaxed);
      outcome = Outcome::pending;
      ++call.pending;
    } else if (result != SPOA_DONE) {
      if (result != SPOA_FAILED) {
        log::warn(
            "plugin {}: handler for \"{}\" returned {}, which is not a spoa_result; "
            "treated as FAILED",
            route->instance->name(), route->message, result);
      }
      count_failure(*request);
      request->actions.clear();
      outcome = Outcome::failed;
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
    count_failure(request);
    request.actions.clear();
    slot.outcome = Outcome::failed;
  }
  --call.pending;
  return call.pending == 0;
}

void Dispatcher::finish(NotifyCall& call, spop::AckWriter& ack) {
  for (auto& slot : call.slots) {
    Request& request = *slot.request;
    if (slot.outcome == Outcome::pending) {
      request.instance->counters().deadline_missed.fetch_add(1, std::memory_order_relaxed);
      log::warn(
          "plugin {}: message \"{}\" missed the processing deadline; ACK sent without "
          "its actions",
          request.instance->name(), request.message);
      continue;
    }
    if (slot.outcome == Outcome::done && !request.actions.empty() &&
        !ack.append_actions(request.actions)) {
      request.instance->counters().actions_dropped.fetch_add(1, std::memory_order_relaxed);
      log::warn(
          "plugin {}: actions for message \"{}\" ({} bytes) do not fit in the ACK "
          "({} bytes left under the negotiated max-frame-size); dropped",
          request.instance->name(), request.message, request.actions.size(), ack.room());
    }
  }
  release_all(call);
}

void Dispatcher::abandon(NotifyCall& call) {
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
