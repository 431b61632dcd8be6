#include "host/execution_pool.hpp"

#include <pthread.h>

#include <memory>

#include "log/log.hpp"

namespace spoa::host {

ExecutionPool::ExecutionPool(std::string instance, unsigned threads, uint32_t queue_limit)
    : instance_(std::move(instance)), queue_limit_(queue_limit) {
  threads_.reserve(threads);
  for (unsigned i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { run(); });
    // "pool:NAME" in top -H and gdb (15 bytes at most).
    const std::string name = ("pool:" + instance_).substr(0, 15);
    pthread_setname_np(threads_.back().native_handle(), name.c_str());
  }
}

ExecutionPool::~ExecutionPool() {
  // The owner stops it first (and leaks it if a handler is stuck); this only joins.
  if (!stopped_) stop(std::chrono::hours(24 * 365));
  for (auto& thread : threads_)
    thread.join();
}

bool ExecutionPool::submit(Request& request) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= queue_limit_) return false;
    queue_.push_back(&request);
  }
  wake_.notify_one();
  return true;
}

void ExecutionPool::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    Request* request = queue_.front();
    queue_.pop_front();
    ++running_;
    lock.unlock();
    run_pool_job(*request);
    lock.lock();
    --running_;
    if (stopping_ && running_ == 0) idle_.notify_all();
  }
}

bool ExecutionPool::stop(std::chrono::milliseconds grace) {
  std::deque<Request*> dropped;
  bool all_idle = true;
  {
    std::unique_lock lock(mutex_);
    if (stopped_) return true;
    stopped_ = true;
    stopping_ = true;
    dropped.swap(queue_);
    wake_.notify_all();
    all_idle = idle_.wait_for(lock, grace, [this] { return running_ == 0; });
  }
  for (Request* request : dropped)
    drop_pool_job(*request);
  if (all_idle) {
    for (auto& thread : threads_)
      thread.join();
    threads_.clear();
    return true;
  }
  // A handler that ignores request_abandoned() and never returns: joining would hang the
  // daemon's stop or reload forever. Its thread keeps running the plugin's code and this
  // object, so the caller leaks both (never destroys this pool, keeps the library
  // mapped); the process exit ends the thread.
  log::error(
      "plugin {}: a pool handler is still running {} ms after its instance was asked to "
      "stop; leaving its thread behind and keeping the plugin loaded",
      instance_, grace.count());
  return false;
}

}  // namespace spoa::host
