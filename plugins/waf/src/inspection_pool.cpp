#include "inspection_pool.hpp"

namespace spoa::waf {

InspectionPool::InspectionPool(unsigned threads, std::size_t capacity) : capacity_(capacity) {
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
      ++refused_;
      return job;
    }
    queue_.push_back(Queued{std::move(job), std::chrono::steady_clock::now()});
  }
  wake_.notify_one();
  return nullptr;
}

std::size_t InspectionPool::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

std::uint64_t InspectionPool::refused() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return refused_;
}

void InspectionPool::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    // Stopping drains the queue first: every queued job answers its request.
    if (queue_.empty()) return;
    Queued next = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    next.job->run(std::chrono::steady_clock::now() - next.since);
    next.job.reset();
    lock.lock();
  }
}

}  // namespace spoa::waf
