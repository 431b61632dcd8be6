#include "host/stall_watch.hpp"

#include "host/request.hpp"
#include "log/log.hpp"

namespace spoa::host {

void StallWatch::watch(const InlineCallMarker& marker, unsigned thread) {
  // The watch writes only the marker's flag fields, which exist for it.
  watched_.push_back({const_cast<InlineCallMarker*>(&marker), thread});
}

void StallWatch::sample(Clock::time_point now) {
  for (Watched& w : watched_) {
    InlineCallMarker& marker = *w.marker;
    const uint64_t call = marker.sequence_.load(std::memory_order_acquire);
    if ((call & 1) == 0) {
      w.call = 0;
      continue;
    }
    if (call != w.call) {
      w = {w.marker, w.thread, call, now};
      continue;
    }
    const auto running = now - w.first_seen;
    if (!w.flagged && running >= threshold_) {
      marker.flagged_since_.store(w.first_seen.time_since_epoch().count(),
                                  std::memory_order_relaxed);
      marker.flagged_.store(call, std::memory_order_release);
      w.flagged = true;
    }
    if (!w.reported && running >= still_running_) {
      w.reported = true;
      const RouteName* name = marker.name_.load(std::memory_order_relaxed);
      const std::string_view plugin = name != nullptr ? std::string_view(name->plugin) : "?";
      const std::string_view message = name != nullptr ? std::string_view(name->message) : "?";
      log::limited(log::Category::plugin, log::Level::warn, {{}, plugin, message, std::nullopt},
                   "plugin {}: inline handler for message \"{}\" has held I/O thread {} for "
                   "over {} ms and has not returned; every connection of that thread waits",
                   plugin, message, w.thread,
                   std::chrono::duration_cast<std::chrono::milliseconds>(running).count());
    }
  }
}

}  // namespace spoa::host
