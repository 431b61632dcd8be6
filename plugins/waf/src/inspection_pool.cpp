#include "inspection_pool.hpp"

#include <utility>

namespace spoa::waf {

InspectionPool::InspectionPool(unsigned threads, std::size_t capacity,
                               Clock::duration queue_timeout, Now now)
    : capacity_(capacity), queue_timeout_(queue_timeout), now_(std::move(now)) {
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i)
    threads_.emplace_back([this] { work(); });
}

InspectionPool::~InspectionPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& t : threads_)
    t.join();
}

std::unique_ptr<PoolJob> InspectionPool::submit(std::unique_ptr<PoolJob> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.size() >= capacity_ || stopping_) {
      ++stats_.refused;
      return job;
    }
    queue_.push_back(Queued{std::move(job), now_()});
  }
  wake_.notify_one();
  return nullptr;
}

PoolStats InspectionPool::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  PoolStats s = stats_;
  s.queued = queue_.size();
  return s;
}

void InspectionPool::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    // Stopping drains the queue first: every queued job answers its request.
    if (queue_.empty()) return;
    Queued next = std::move(queue_.front());
    queue_.pop_front();
    // At or past the timeout, so that a zero timeout expires every job: an operator can
    // rehearse HAProxy's handling of error=timeout with queue_timeout = "0ms".
    const bool expired = now_() - next.since >= queue_timeout_;
    if (expired) ++stats_.expired;
    lock.unlock();
    if (expired)
      next.job->expire();
    else
      next.job->run();
    next.job.reset();
    lock.lock();
  }
}

}  // namespace spoa::waf
