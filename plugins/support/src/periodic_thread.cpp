#include "spoa/support/periodic_thread.hpp"

namespace spoa::support {

PeriodicThread::PeriodicThread(std::chrono::milliseconds interval, std::function<void()> task)
    : interval_(interval), task_(std::move(task)), thread_([this] { run(); }) {}

PeriodicThread::~PeriodicThread() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void PeriodicThread::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  cv_.notify_all();
}

void PeriodicThread::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    cv_.wait_for(lock, interval_, [this] { return stop_ || woken_; });
    if (stop_) return;
    woken_ = false;
    lock.unlock();
    task_();
    lock.lock();
  }
}

}  // namespace spoa::support
