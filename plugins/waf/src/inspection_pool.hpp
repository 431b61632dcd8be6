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
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace spoa::waf {

class PoolJob {
 public:
  virtual ~PoolJob() = default;
  // `waited`: time spent in the queue, so a job can give up on a request whose deadline
  // has passed instead of spending the engine's time on an answer nobody waits for.
  virtual void run(std::chrono::steady_clock::duration waited) noexcept = 0;
};

class InspectionPool {
 public:
  InspectionPool(unsigned threads, std::size_t capacity);
  // Runs every job still queued (each answers its request), then joins the threads: a
  // reload or a stop loses no ACK.
  ~InspectionPool();
  InspectionPool(const InspectionPool&) = delete;
  InspectionPool& operator=(const InspectionPool&) = delete;

  // Queues `job`, or hands it back (returns it) when the queue is full.
  std::unique_ptr<PoolJob> submit(std::unique_ptr<PoolJob> job);

  std::size_t queued() const;
  std::uint64_t refused() const;

 private:
  struct Queued {
    std::unique_ptr<PoolJob> job;
    std::chrono::steady_clock::time_point since;
  };
  void work();

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Queued> queue_;
  bool stopping_ = false;
  std::uint64_t refused_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace spoa::waf
