// A thread that runs a task every `interval` until destroyed, for the loaders (file
// watchers, decision-stream pollers) that must never run on an I/O thread. Destruction
// wakes it at once and joins, so a plugin's shutdown() does not wait out an interval.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace spoa::support {

class PeriodicThread {
 public:
  // `task` runs first after one interval, then every interval after its previous run ended.
  PeriodicThread(std::chrono::milliseconds interval, std::function<void()> task);
  ~PeriodicThread();
  PeriodicThread(const PeriodicThread&) = delete;
  PeriodicThread& operator=(const PeriodicThread&) = delete;

  // Runs the task now instead of at the end of the current wait (tests, SIGHUP-like pokes).
  void wake();

 private:
  void run();

  std::chrono::milliseconds interval_;
  std::function<void()> task_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace spoa::support
