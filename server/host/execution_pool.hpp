#pragma once
// The threads of one execution = "pool" instance: its handlers run here, never on an I/O
// thread, so they may block. A bounded queue in front: when it is full the I/O thread
// answers FAILED at once instead of letting NOTIFYs pile up behind a slow backend.
#include <spoa/plugin.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "host/request.hpp"

namespace spoa::host {

struct Route;

// What a pool handler needs after the NOTIFY's buffer is gone: its own copy of the
// arguments and of the request's facts. Kept with the request's slot and reused.
struct PoolJob {
  const Route* route = nullptr;
  uint64_t generation = 0;
  std::vector<uint8_t> bytes;  // argument names and string/binary values
  std::vector<spoa_arg> args;
  std::vector<uint8_t> legacy_args;  // the 1.0 layout, for a plugin built against 1.0
  std::string peer;
  std::string engine_id;
  RequestFacts facts;
};

class ExecutionPool {
 public:
  ExecutionPool(std::string instance, unsigned threads, uint32_t queue_limit);
  // Joins the threads (the owner calls stop() first, and never destroys a stuck pool).
  ~ExecutionPool();
  ExecutionPool(const ExecutionPool&) = delete;
  ExecutionPool& operator=(const ExecutionPool&) = delete;

  // I/O thread: queues `request` (its job filled in). False when the queue is full or the
  // pool stopped; the caller then answers FAILED itself.
  bool submit(Request& request);

  // Stops taking work; queued calls that never started end as FAILED (their calls were
  // abandoned already: a generation stops only when nothing uses it). Waits up to `grace`
  // for running handlers; returns false if one is still running then: the caller must then
  // leak this pool and keep the plugin loaded (a thread still runs their code).
  bool stop(std::chrono::milliseconds grace);

  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }
  uint32_t queue_limit() const { return queue_limit_; }

 private:
  void run();

  std::string instance_;
  uint32_t queue_limit_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<Request*> queue_;
  unsigned running_ = 0;
  bool stopping_ = false;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
};

// Runs one queued call on the calling pool thread (dispatcher.cpp).
void run_pool_job(Request& request);
// Ends a queued call that never ran (the pool stopped first).
void drop_pool_job(Request& request);

}  // namespace spoa::host
