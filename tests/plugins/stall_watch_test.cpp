// The StallWatch with a driven clock: which inline calls it flags, exactly at the
// threshold, and that a call the watch never saw twice is not flagged.
#include "host/stall_watch.hpp"

#include <gtest/gtest.h>

#include "host/request.hpp"

namespace spoa::host {
namespace {

using namespace std::chrono_literals;
using Clock = StallWatch::Clock;

const RouteName* probe_route() {
  return intern_route_name("probe", "block");
}

struct Watched {
  InlineCallMarker marker;
  StallWatch watch{10ms};
  Clock::time_point t0 = Clock::time_point(1h);
  Watched() { watch.watch(marker, 0); }
  void at(std::chrono::nanoseconds offset) { watch.sample(t0 + offset); }
};

TEST(StallWatch, ACallSeenRunningForTheThresholdIsFlagged) {
  Watched w;
  const uint64_t call = w.marker.enter(probe_route());
  w.at(0ms);
  w.at(5ms);
  w.at(10ms);
  ASSERT_TRUE(w.marker.leave(call));
  EXPECT_EQ(w.marker.flagged_since(), w.t0) << "the first look that saw it running";
}

TEST(StallWatch, OneNanosecondShortOfTheThresholdIsNotFlagged) {
  Watched w;
  const uint64_t call = w.marker.enter(probe_route());
  w.at(0ms);
  w.at(10ms - 1ns);
  EXPECT_FALSE(w.marker.leave(call));
}

TEST(StallWatch, FastCallsBetweenLooksAreNeverFlagged) {
  Watched w;
  for (int i = 0; i < 100; ++i) {
    const uint64_t call = w.marker.enter(probe_route());
    EXPECT_FALSE(w.marker.leave(call));
    w.at(i * 20ms);
  }
}

TEST(StallWatch, ANewCallIsTimedFromWhenTheWatchFirstSeesIt) {
  Watched w;
  const uint64_t first = w.marker.enter(probe_route());
  w.at(0ms);
  EXPECT_FALSE(w.marker.leave(first));
  // Another call in progress at the next look: a different number, so its time starts here.
  const uint64_t second = w.marker.enter(probe_route());
  w.at(8ms);
  w.at(16ms);
  EXPECT_FALSE(w.marker.leave(second)) << "seen for 8 ms only";
  const uint64_t third = w.marker.enter(probe_route());
  w.at(20ms);
  w.at(30ms);
  EXPECT_TRUE(w.marker.leave(third));
  EXPECT_EQ(w.marker.flagged_since(), w.t0 + 20ms);
}

TEST(StallWatch, AFlagIsForItsCallOnly) {
  Watched w;
  const uint64_t slow = w.marker.enter(probe_route());
  w.at(0ms);
  w.at(10ms);
  EXPECT_TRUE(w.marker.leave(slow));
  const uint64_t next = w.marker.enter(probe_route());
  EXPECT_FALSE(w.marker.leave(next)) << "the next call is not the flagged one";
}

TEST(StallWatch, EveryThreadIsWatchedApart) {
  InlineCallMarker a, b;
  StallWatch watch(10ms);
  watch.watch(a, 0);
  watch.watch(b, 1);
  const Clock::time_point t0 = Clock::time_point(1h);
  const uint64_t slow = a.enter(probe_route());
  watch.sample(t0);
  const uint64_t quick = b.enter(probe_route());
  watch.sample(t0 + 10ms);
  EXPECT_TRUE(a.leave(slow));
  EXPECT_FALSE(b.leave(quick)) << "b's call was seen once, at 10 ms";
}

TEST(StallWatch, SamplesAtHalfTheThreshold) {
  EXPECT_EQ(StallWatch(10ms).period(), 5ms);
}

}  // namespace
}  // namespace spoa::host
