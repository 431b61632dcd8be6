// The inspection threads: a full queue refuses at once; stopping runs what is queued.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "inspection_pool.hpp"

namespace {

using spoa::waf::InspectionPool;
using spoa::waf::PoolJob;

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
  Job(Gate* g, std::atomic<int>* r) : gate(g), ran(r) {}
  void run(std::chrono::steady_clock::duration) noexcept override {
    if (gate) gate->wait();
    ++*ran;
  }
  Gate* gate;
  std::atomic<int>* ran;
};

TEST(InspectionPool, AFullQueueHandsTheJobBackAtOnce) {
  Gate gate;
  std::atomic<int> ran{0};
  {
    InspectionPool pool(1, 2);
    EXPECT_FALSE(pool.submit(std::make_unique<Job>(&gate, &ran)));  // running
    gate.wait_entered(1);
    EXPECT_FALSE(pool.submit(std::make_unique<Job>(nullptr, &ran)));  // queued 1
    EXPECT_FALSE(pool.submit(std::make_unique<Job>(nullptr, &ran)));  // queued 2
    auto refused = pool.submit(std::make_unique<Job>(nullptr, &ran));
    EXPECT_TRUE(refused);
    EXPECT_EQ(pool.refused(), 1u);
    EXPECT_EQ(pool.queued(), 2u);
    gate.release();
  }
  EXPECT_EQ(ran.load(), 3);
}

TEST(InspectionPool, StoppingRunsEveryQueuedJob) {
  Gate gate;
  std::atomic<int> ran{0};
  auto pool = std::make_unique<InspectionPool>(2, 100);
  pool->submit(std::make_unique<Job>(&gate, &ran));
  pool->submit(std::make_unique<Job>(&gate, &ran));
  gate.wait_entered(2);
  for (int i = 0; i < 50; ++i)
    pool->submit(std::make_unique<Job>(nullptr, &ran));
  gate.release();
  pool.reset();
  EXPECT_EQ(ran.load(), 52);
}

}  // namespace
