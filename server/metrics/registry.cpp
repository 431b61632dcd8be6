#include "metrics/registry.hpp"

#include <array>
#include <string_view>

namespace spoa::metrics {

namespace {

template <size_t N>
using Sums = std::array<uint64_t, N>;

template <size_t N>
void add(Sums<N>& sums, const std::array<Counter, N>& counters) {
  for (size_t i = 0; i < N; ++i)
    sums[i] += counters[i].value();
}

struct PluginTotals {
  Sums<static_cast<size_t>(PluginOutcome::count)> outcomes{};
  uint64_t actions_dropped = 0;
  uint64_t stalls = 0;
  HistogramSnapshot duration;
};

// Everything the built-in families show, summed over threads.
struct Totals {
  uint64_t accepted = 0;
  uint64_t opened = 0;
  Sums<static_cast<size_t>(CloseReason::count)> closed{};
  Sums<status_labels> closed_agent{};
  Sums<status_labels> closed_haproxy{};
  Sums<2> hellos{};
  Sums<3> capabilities{};
  uint64_t notify_frames = 0;
  uint64_t unclaimed = 0;
  Sums<2> actions{};
  int64_t in_flight = 0;
  uint64_t pauses = 0;
  uint64_t reassembled = 0;
  uint64_t aborted = 0;
  HistogramSnapshot notify_duration;
  std::vector<PluginTotals> plugins;
  std::vector<uint64_t> messages;

  void add_thread(const ThreadMetrics& t) {
    accepted += t.connections_accepted.value();
    opened += t.connections_opened.value();
    add(closed, t.connections_closed);
    add(closed_agent, t.closed_by_agent_disconnect);
    add(closed_haproxy, t.closed_by_haproxy_disconnect);
    add(hellos, t.hellos);
    add(capabilities, t.capabilities);
    notify_frames += t.notify_frames.value();
    unclaimed += t.messages_unclaimed.value();
    add(actions, t.actions);
    in_flight += t.notify_in_flight.value();
    pauses += t.backpressure_pauses.value();
    reassembled += t.fragmented_reassembled.value();
    aborted += t.fragmented_aborted.value();
    notify_duration.add(t.notify_duration);
    for (uint32_t id = 0; id < plugins.size(); ++id) {
      const PluginSeries* series = t.plugins.readable(id);
      if (series == nullptr) continue;
      add(plugins[id].outcomes, series->outcomes);
      plugins[id].actions_dropped += series->actions_dropped.value();
      plugins[id].stalls += series->stalls.value();
      plugins[id].duration.add(series->duration);
    }
    for (uint32_t id = 0; id < messages.size(); ++id) {
      if (const MessageSeries* series = t.messages.readable(id)) {
        messages[id] += series->messages.value();
      }
    }
  }

  uint64_t closed_total() const {
    uint64_t total = 0;
    for (const auto* sums : {&closed_agent, &closed_haproxy})
      for (const uint64_t n : *sums)
        total += n;
    for (const uint64_t n : closed)
      total += n;
    return total;
  }
};

// The codes of SPOP's own table (spop.md §7) have a series from the start, so that rate()
// sees their first occurrence; any other code (a peer may send anything) once it is seen.
bool standard_status(size_t index) {
  return index <= 13 || index == 99;
}

std::string status_text(size_t index) {
  return index == status_labels - 1 ? "other" : std::to_string(index);
}

}  // namespace

ThreadMetrics& Registry::add_thread() {
  auto block = std::make_unique<ThreadMetrics>();
  ThreadMetrics& result = *block;
  std::lock_guard lock(mutex_);
  threads_.push_back(std::move(block));
  return result;
}

void Registry::add_collector(Collector collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::render() const {
  const std::vector<std::string> plugin_names = names_.plugins();
  const std::vector<SeriesNames::Message> message_names = names_.messages();
  Totals t;
  t.plugins.resize(plugin_names.size());
  t.messages.resize(message_names.size());
  std::vector<Collector> collectors;
  {
    std::lock_guard lock(mutex_);
    for (const auto& block : threads_)
      t.add_thread(*block);
    collectors = collectors_;
  }

  TextWriter w;
  w.family("spoa_host_connections_accepted_total", "counter",
           "Connections accepted on the SPOP listeners.");
  w.sample("spoa_host_connections_accepted_total", {}, t.accepted);

  w.family("spoa_host_connections_open", "gauge", "SPOP connections open now.");
  const uint64_t closed = t.closed_total();
  w.sample("spoa_host_connections_open", {},
           static_cast<int64_t>(t.opened > closed ? t.opened - closed : 0));

  w.family("spoa_host_connections_closed_total", "counter",
           "SPOP connections closed, by what ended them (status: the SPOP status code of the "
           "DISCONNECT that did).");
  for (size_t i = 0; i < t.closed.size(); ++i) {
    const auto reason = static_cast<CloseReason>(i);
    if (reason == CloseReason::agent_disconnect || reason == CloseReason::haproxy_disconnect) {
      continue;
    }
    w.sample("spoa_host_connections_closed_total", {{"reason", close_reason_names[i]}},
             t.closed[i]);
  }
  for (const auto& [reason, sums] :
       {std::pair{CloseReason::agent_disconnect, &t.closed_agent},
        std::pair{CloseReason::haproxy_disconnect, &t.closed_haproxy}}) {
    for (size_t status = 0; status < status_labels; ++status) {
      if ((*sums)[status] == 0 && !standard_status(status)) continue;
      const std::string code = status_text(status);
      w.sample("spoa_host_connections_closed_total",
               {{"reason", close_reason_names[static_cast<size_t>(reason)]}, {"status", code}},
               (*sums)[status]);
    }
  }

  w.family("spoa_host_hellos_total", "counter",
           "HAPROXY-HELLOs answered, by kind (normal, healthcheck).");
  for (size_t i = 0; i < t.hellos.size(); ++i)
    w.sample("spoa_host_hellos_total", {{"kind", hello_kind_names[i]}}, t.hellos[i]);

  w.family("spoa_host_hello_capabilities_total", "counter",
           "Capabilities negotiated in HELLOs, one count per HELLO that negotiated each.");
  for (size_t i = 0; i < t.capabilities.size(); ++i) {
    w.sample("spoa_host_hello_capabilities_total", {{"capability", capability_names[i]}},
             t.capabilities[i]);
  }

  w.family("spoa_host_notify_frames_total", "counter",
           "NOTIFY frames received (a fragmented NOTIFY counts once, when whole).");
  w.sample("spoa_host_notify_frames_total", {}, t.notify_frames);

  w.family("spoa_host_messages_total", "counter",
           "NOTIFY messages handed to a plugin, by plugin instance and message name (from the "
           "config).");
  for (size_t id = 0; id < message_names.size(); ++id) {
    const auto& message = message_names[id];
    w.sample("spoa_host_messages_total",
             {{"plugin", plugin_names[message.plugin]}, {"message", message.name}}, t.messages[id]);
  }

  w.family("spoa_host_messages_unclaimed_total", "counter",
           "NOTIFY messages that no plugin claims (answered with no actions).");
  w.sample("spoa_host_messages_unclaimed_total", {}, t.unclaimed);

  w.family("spoa_host_actions_total", "counter", "Actions sent in ACKs, by type.");
  for (size_t i = 0; i < t.actions.size(); ++i)
    w.sample("spoa_host_actions_total", {{"type", action_type_names[i]}}, t.actions[i]);

  w.family("spoa_host_notify_in_flight", "gauge",
           "NOTIFYs waiting for a pending plugin before their ACK.");
  w.sample("spoa_host_notify_in_flight", {}, t.in_flight > 0 ? t.in_flight : int64_t{0});

  w.family("spoa_host_backpressure_pauses_total", "counter",
           "Times a connection stopped reading because max_inflight_per_connection NOTIFYs "
           "were pending.");
  w.sample("spoa_host_backpressure_pauses_total", {}, t.pauses);

  w.family("spoa_host_notify_fragmented_total", "counter",
           "Fragmented NOTIFYs, by outcome: reassembled, or aborted by HAProxy.");
  w.sample("spoa_host_notify_fragmented_total", {{"outcome", "reassembled"}}, t.reassembled);
  w.sample("spoa_host_notify_fragmented_total", {{"outcome", "aborted"}}, t.aborted);

  w.family("spoa_host_notify_duration_seconds", "histogram",
           "Time from a NOTIFY read off the socket to its ACK written to it.");
  w.histogram("spoa_host_notify_duration_seconds", {}, t.notify_duration);

  w.family("spoa_host_plugin_outcomes_total", "counter",
           "Plugin handler calls by outcome. pending counts calls that went asynchronous; "
           "each of them later counts once more as done, failed, deadline_missed or "
           "abandoned.");
  for (size_t id = 0; id < plugin_names.size(); ++id) {
    for (size_t i = 0; i < plugin_outcome_names.size(); ++i) {
      w.sample("spoa_host_plugin_outcomes_total",
               {{"plugin", plugin_names[id]}, {"outcome", plugin_outcome_names[i]}},
               t.plugins[id].outcomes[i]);
    }
  }

  w.family("spoa_host_plugin_actions_dropped_total", "counter",
           "Plugin results whose actions did not fit in the ACK and were dropped.");
  for (size_t id = 0; id < plugin_names.size(); ++id) {
    w.sample("spoa_host_plugin_actions_dropped_total", {{"plugin", plugin_names[id]}},
             t.plugins[id].actions_dropped);
  }

  w.family("spoa_host_plugin_stalls_total", "counter",
           "Inline handler calls that held their I/O thread longer than the stall threshold "
           "(10 ms): move such a plugin to execution = \"pool\".");
  for (size_t id = 0; id < plugin_names.size(); ++id) {
    w.sample("spoa_host_plugin_stalls_total", {{"plugin", plugin_names[id]}}, t.plugins[id].stalls);
  }

  w.family("spoa_host_plugin_duration_seconds", "histogram",
           "Time from a plugin handler call to its result (return, or complete() delivered "
           "back to the I/O thread).");
  for (size_t id = 0; id < plugin_names.size(); ++id) {
    w.histogram("spoa_host_plugin_duration_seconds", {{"plugin", plugin_names[id]}},
                t.plugins[id].duration);
  }

  for (const auto& collector : collectors)
    collector(w);
  return w.take();
}

}  // namespace spoa::metrics
