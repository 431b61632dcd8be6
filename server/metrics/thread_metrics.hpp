#pragma once
// The counters one thread writes: each I/O thread owns one block (and the main thread one,
// for accepts). Nothing here is shared between writers, so nothing is locked; the scraper
// sums the blocks (registry.hpp).
#include <array>
#include <cstddef>
#include <cstdint>

#include "metrics/counter.hpp"
#include "metrics/histogram.hpp"
#include "metrics/names.hpp"
#include "metrics/series_array.hpp"

namespace spoa::metrics {

// Why a connection ended: the first cause wins (a protocol error that makes us send a
// DISCONNECT is `agent_disconnect`, whatever the peer does after it).
enum class CloseReason : uint8_t {
  normal,              // the peer closed the socket (EOF) without a DISCONNECT
  reset,               // the peer reset it (RST, EPIPE): HAProxy 3.x pool purges, health checks
  haproxy_disconnect,  // HAProxy sent a DISCONNECT (status: its code)
  agent_disconnect,    // we sent one: protocol error, draining (status: our code)
  timeout,             // no HELLO in time, idle timeout, or the peer never took our DISCONNECT
  error,               // a read or write error other than the peer going away
  shutdown,            // the server closed it while stopping
  write_timeout,       // a write made no progress for timeouts.write: the peer stopped reading
  count
};
inline constexpr std::array<const char*, static_cast<size_t>(CloseReason::count)>
    close_reason_names = {"normal",  "reset", "haproxy_disconnect", "agent_disconnect",
                          "timeout", "error", "shutdown",           "write_timeout"};

// SPOP status codes as label values: 0-99 as themselves (HAProxy's own table has 100
// entries, spop.md §7), anything a peer sends beyond that as "other": bounded either way.
inline constexpr size_t status_labels = 101;
inline constexpr size_t status_index(uint64_t status) {
  return status < status_labels - 1 ? static_cast<size_t>(status) : status_labels - 1;
}

enum class HelloKind : uint8_t { normal, healthcheck, count };
inline constexpr std::array<const char*, 2> hello_kind_names = {"normal", "healthcheck"};

enum class Capability : uint8_t { pipelining, async, fragmentation, count };
inline constexpr std::array<const char*, 3> capability_names = {"pipelining", "async",
                                                                "fragmentation"};

enum class ActionType : uint8_t { set_var, unset_var, count };
inline constexpr std::array<const char*, 2> action_type_names = {"set_var", "unset_var"};

// What became of a plugin handler call. `pending` counts calls that went asynchronous; each
// of them later also counts as done or failed (completed in time), deadline_missed
// (timeouts.processing passed first) or abandoned (its connection went away). So done +
// failed + exception + deadline_missed + abandoned is the number of calls.
enum class PluginOutcome : uint8_t {
  done,
  pending,
  failed,     // the handler (or its complete()) said FAILED, or returned no spoa_result
  exception,  // a C++ exception escaped the handler through the C ABI
  deadline_missed,
  abandoned,
  queue_full,  // execution = "pool" and its queue was full: answered FAILED at once
  count
};
inline constexpr std::array<const char*, static_cast<size_t>(PluginOutcome::count)>
    plugin_outcome_names = {"done",      "pending",   "failed", "exception", "deadline_missed",
                            "abandoned", "queue_full"};

struct PluginSeries {
  std::array<Counter, static_cast<size_t>(PluginOutcome::count)> outcomes{};
  Counter actions_dropped;  // actions that did not fit in the ACK
  Counter stalls;           // inline handler calls slower than the stall threshold
  Histogram duration;       // handler called -> DONE/FAILED known on the I/O thread

  void count(PluginOutcome outcome) noexcept { outcomes[static_cast<size_t>(outcome)].add(); }
};

struct MessageSeries {
  Counter messages;
};

struct alignas(64) ThreadMetrics {
  // Main thread's block: sockets accepted. I/O threads: connections started (the
  // difference is sockets dropped while the server stopped).
  Counter connections_accepted;
  Counter connections_opened;
  std::array<Counter, static_cast<size_t>(CloseReason::count)> connections_closed{};
  std::array<Counter, status_labels> closed_by_agent_disconnect{};
  std::array<Counter, status_labels> closed_by_haproxy_disconnect{};

  std::array<Counter, 2> hellos{};
  std::array<Counter, 3> capabilities{};  // negotiated, per successful HELLO

  Counter notify_frames;       // whole NOTIFYs (a reassembled one counts once)
  Counter messages_unclaimed;  // messages no plugin claims: no label from the wire
  std::array<Counter, 2> actions{};
  Gauge notify_in_flight;  // NOTIFYs waiting for a pending plugin
  Counter backpressure_pauses;
  Counter fragmented_reassembled;
  Counter fragmented_aborted;
  Histogram notify_duration;  // NOTIFY read -> its ACK written to the socket

  SeriesArray<PluginSeries, 16, max_plugin_series / 16> plugins;
  SeriesArray<MessageSeries, 256, max_message_series / 256> messages;

  void count_close(CloseReason reason, uint64_t status) noexcept {
    switch (reason) {
      case CloseReason::agent_disconnect:
        closed_by_agent_disconnect[status_index(status)].add();
        return;
      case CloseReason::haproxy_disconnect:
        closed_by_haproxy_disconnect[status_index(status)].add();
        return;
      default:
        connections_closed[static_cast<size_t>(reason)].add();
        return;
    }
  }
  void count_hello(HelloKind kind) noexcept { hellos[static_cast<size_t>(kind)].add(); }
  void count_capability(Capability capability) noexcept {
    capabilities[static_cast<size_t>(capability)].add();
  }
  void count_actions(ActionType type, uint64_t n) noexcept {
    if (n != 0) actions[static_cast<size_t>(type)].add(n);
  }
  PluginSeries* plugin(uint32_t id) noexcept { return plugins.writable(id); }
  void count_message(uint32_t id) noexcept {
    if (MessageSeries* series = messages.writable(id)) series->messages.add();
  }
};

}  // namespace spoa::metrics
