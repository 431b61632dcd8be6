#pragma once
// Inline handlers that hold their I/O thread, found by sampling instead of by timing every
// call. Reading the TSC before and after each inline handler cost about a tenth of the
// host's whole per-frame CPU on this project's KVM machine, for an event (a handler
// blocking for milliseconds) that almost never happens. So each I/O thread only publishes
// which call it is in (two plain stores), and the main thread looks every few
// milliseconds: a call it sees running in two looks `threshold` apart has run for at least
// that long. The I/O thread learns so when the call returns and then logs and counts it.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

namespace spoa::host {

struct RouteName;

// One I/O thread's current inline call. enter()/leave() on that thread only.
class InlineCallMarker {
 public:
  using Clock = std::chrono::steady_clock;

  // Before the handler; returns the call's number (odd: a call is running).
  uint64_t enter(const RouteName* name) noexcept {
    const uint64_t call = sequence_.load(std::memory_order_relaxed) + 1;
    name_.store(name, std::memory_order_relaxed);
    sequence_.store(call, std::memory_order_release);
    return call;
  }
  // After the handler. True if the watch found this call running past its threshold.
  bool leave(uint64_t call) noexcept {
    sequence_.store(call + 1, std::memory_order_release);
    return flagged_.load(std::memory_order_acquire) == call;
  }
  // After leave() returned true: when the watch first saw the call running (the call began
  // before that, so now - flagged_since() is a lower bound of its duration).
  Clock::time_point flagged_since() const noexcept {
    return Clock::time_point(Clock::duration(flagged_since_.load(std::memory_order_relaxed)));
  }

 private:
  friend class StallWatch;
  // The I/O thread writes this line on every call; the watch only reads it.
  alignas(64) std::atomic<uint64_t> sequence_{0};
  std::atomic<const RouteName*> name_{nullptr};
  // Written by the watch, read by the I/O thread once per call.
  alignas(64) std::atomic<uint64_t> flagged_{0};
  std::atomic<Clock::rep> flagged_since_{0};
};

// Samples the markers of every I/O thread. sample() runs on one thread (the main thread's
// timer); time comes from the caller, so tests drive it.
class StallWatch {
 public:
  using Clock = InlineCallMarker::Clock;

  // A call seen running `threshold` after it was first seen is flagged; one still running
  // `still_running` after that is logged by the watch itself (the I/O thread cannot: it is
  // inside the handler, maybe for good).
  explicit StallWatch(std::chrono::nanoseconds threshold,
                      std::chrono::nanoseconds still_running = std::chrono::seconds(1))
      : threshold_(threshold), still_running_(still_running) {}

  // Before sampling starts; the marker outlives the watch's use of it. `thread` names the
  // I/O thread in log lines.
  void watch(const InlineCallMarker& marker, unsigned thread);
  void sample(Clock::time_point now);

  // How often sample() should run for a stall to be caught within threshold + period.
  std::chrono::nanoseconds period() const { return threshold_ / 2; }

 private:
  struct Watched {
    InlineCallMarker* marker;
    unsigned thread;
    uint64_t call = 0;  // the running call last seen, 0 if none
    Clock::time_point first_seen{};
    bool flagged = false;
    bool reported = false;
  };
  std::chrono::nanoseconds threshold_;
  std::chrono::nanoseconds still_running_;
  std::vector<Watched> watched_;
};

}  // namespace spoa::host
