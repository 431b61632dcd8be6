// The inspection threads: a full queue refuses at once; a job queued for the timeout
// expires instead of running (on a fake clock, with the worker held on a gate so that the
// queue's state is known); stopping runs what is queued.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "inspection_pool.hpp"

namespace {

using namespace std::chrono_literals;
using spoa::waf::InspectionPool;
using spoa::waf::PoolJob;

// No job in these tests waits anywhere near this on the real clock.
constexpr auto never = std::chrono::hours(24);

// Blocks its worker until the gate opens, so the queue's state is known.
struct Gate {
  std::mutex mutex;
  std::condition_variable cv;
  bool open = false;
  int entered = 0;
  void wait() {
    std::unique_lock<std::mutex> lock(mutex);
    ++entered;
    cv.notify_all();
    cv.wait(lock, [this] { return open; });
  }
  void wait_entered(int n) {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [&] { return entered >= n; });
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex);
    open = true;
    cv.notify_all();
  }
};

struct Job : PoolJob {
  Job(Gate* g, std::atomic<int>* r, std::atomic<int>* e = nullptr) : gate(g), ran(r), expired(e) {}
  void run() noexcept override {
    if (gate) gate->wait();
    ++*ran;
  }
  void expire() noexcept override {
    if (expired) ++*expired;
  }
  Gate* gate;
  std::atomic<int>* ran;
  std::atomic<int>* expired;
};

// Read by the pool from the submitting thread and the worker.
struct FakeClock {
  std::atomic<std::chrono::steady_clock::rep> ticks{0};
  InspectionPool::Now now() {
    return [this] {
      return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ticks));
    };
  }
  void advance(std::chrono::steady_clock::duration d) { ticks += d.count(); }
};

TEST(InspectionPool, AFullQueueHandsTheJobBackAtOnce) {
  Gate gate;
  std::atomic<int> ran{0};
  {
    InspectionPool pool(1, 2, never);
    EXPECT_FALSE(pool.submit(std::make_unique<Job>(&gate, &ran)));  // running
    gate.wait_entered(1);
    EXPECT_FALSE(pool.submit(std::make_unique<Job>(nullptr, &ran)));  // queued 1
    EXPECT_FALSE(pool.submit(std::make_unique<Job>(nullptr, &ran)));  // queued 2
    auto refused = pool.submit(std::make_unique<Job>(nullptr, &ran));
    EXPECT_TRUE(refused);
    EXPECT_EQ(pool.stats().refused, 1u);
    EXPECT_EQ(pool.stats().queued, 2u);
    gate.release();
  }
  EXPECT_EQ(ran.load(), 3);
}

TEST(InspectionPool, StoppingRunsEveryQueuedJob) {
  Gate gate;
  std::atomic<int> ran{0};
  auto pool = std::make_unique<InspectionPool>(2, 100, never);
  pool->submit(std::make_unique<Job>(&gate, &ran));
  pool->submit(std::make_unique<Job>(&gate, &ran));
  gate.wait_entered(2);
  for (int i = 0; i < 50; ++i)
    pool->submit(std::make_unique<Job>(nullptr, &ran));
  gate.release();
  pool.reset();
  EXPECT_EQ(ran.load(), 52);
}

TEST(InspectionPool, AJobQueuedForTheTimeoutExpiresInsteadOfRunning) {
  Gate gate;
  FakeClock clock;
  std::atomic<int> ran{0};
  std::atomic<int> expired{0};
  {
    InspectionPool pool(1, 4, 10ms, clock.now());
    pool.submit(std::make_unique<Job>(&gate, &ran, &expired));  // holds the only worker
    gate.wait_entered(1);
    pool.submit(std::make_unique<Job>(nullptr, &ran, &expired));  // queued at 0 ms
    clock.advance(9ms);
    pool.submit(std::make_unique<Job>(nullptr, &ran, &expired));  // queued at 9 ms
    clock.advance(1ms);
    // Dequeued at 10 ms: the first waited its full timeout, the second 1 ms.
    gate.release();
  }
  EXPECT_EQ(expired.load(), 1);
  EXPECT_EQ(ran.load(), 2);
}

TEST(InspectionPool, AZeroTimeoutExpiresEveryJob) {
  FakeClock clock;
  std::atomic<int> ran{0};
  std::atomic<int> expired{0};
  {
    InspectionPool pool(1, 4, 0ms, clock.now());
    for (int i = 0; i < 3; ++i)
      pool.submit(std::make_unique<Job>(nullptr, &ran, &expired));
  }
  EXPECT_EQ(expired.load(), 3);
  EXPECT_EQ(ran.load(), 0);
}

TEST(InspectionPool, StatsCountRefusedAndExpiredJobs) {
  Gate gate;
  FakeClock clock;
  std::atomic<int> ran{0};
  std::atomic<int> expired{0};
  InspectionPool pool(1, 1, 5ms, clock.now());
  pool.submit(std::make_unique<Job>(&gate, &ran, &expired));
  gate.wait_entered(1);
  pool.submit(std::make_unique<Job>(nullptr, &ran, &expired));
  EXPECT_TRUE(pool.submit(std::make_unique<Job>(nullptr, &ran, &expired)));
  clock.advance(5ms);
  gate.release();
  // The worker counts the expiry before it runs the job: wait for the job's own event.
  while (expired.load() == 0)
    std::this_thread::yield();
  const auto stats = pool.stats();
  EXPECT_EQ(stats.refused, 1u);
  EXPECT_EQ(stats.expired, 1u);
}

}  // namespace
