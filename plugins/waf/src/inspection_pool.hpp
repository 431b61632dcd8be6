// Threads that run inspections off spoa-host's I/O threads, with a bounded queue: when it
// is full, submit() says so at once and the caller answers error=overload, instead of
// requests piling up until HAProxy's `timeout processing` (coraza-spoa's HTTP 500s under
// stress, its issue #167). Stands in for the host-run execution pool of ABI 1.1
// (`execution = "pool"`) behind the same contract: run later, or refuse now.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace spoa::waf {

class PoolJob {
 public:
  virtual ~PoolJob() = default;
  virtual void run() noexcept = 0;
  // Waited in the queue for the pool's timeout or longer: answer without inspecting, as
  // nobody may still wait for a verdict that costs the engine's time.
  virtual void expire() noexcept = 0;
};

struct PoolStats {
  std::uint64_t refused = 0;  // the queue was full (or the pool stopping)
  std::uint64_t expired = 0;  // dequeued after the queue timeout
  std::size_t queued = 0;
};

class InspectionPool {
 public:
  using Clock = std::chrono::steady_clock;
  // The clock the queue timeout is measured on; tests pass a fake one.
  using Now = std::function<Clock::time_point()>;

  InspectionPool(unsigned threads, std::size_t capacity, Clock::duration queue_timeout,
                 Now now = &Clock::now);
  // Runs (or expires) every job still queued, each answers its request, then joins the
  // threads: a reload or a stop loses no ACK.
  ~InspectionPool();
  InspectionPool(const InspectionPool&) = delete;
  InspectionPool& operator=(const InspectionPool&) = delete;

  // Queues `job`, or hands it back (returns it) when the queue is full.
  std::unique_ptr<PoolJob> submit(std::unique_ptr<PoolJob> job);

  PoolStats stats() const;

 private:
  struct Queued {
    std::unique_ptr<PoolJob> job;
    Clock::time_point since;
  };
  void work();

  const std::size_t capacity_;
  const Clock::duration queue_timeout_;
  const Now now_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Queued> queue_;
  bool stopping_ = false;
  PoolStats stats_;
  std::vector<std::thread> threads_;
};

}  // namespace spoa::waf
