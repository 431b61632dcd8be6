#pragma once
// The load side: one ClientThread per --threads, each with its own epoll loop and its own
// connections (nothing shared on the per-frame path but the --count budget).
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "address.hpp"
#include "histogram.hpp"
#include "options.hpp"
#include "workload.hpp"

namespace bench {

// Set up by main, read by every thread.
struct Shared {
  const Options& options;
  const Workload& workload;
  Address address;
  std::atomic<int64_t> start_ns{0};      // 0 until every thread is ready; then the start
  std::atomic<int64_t> count_left{0};    // --count budget of measured NOTIFYs / checks
  std::atomic<unsigned> ready{0};        // threads whose connections are all up (or dead)
  std::atomic<unsigned> window_done{0};  // threads whose measured frames are all answered
  std::atomic<unsigned> finished{0};     // threads out of their loop
  std::atomic<bool> stop{false};         // SIGINT/SIGTERM: stop sending, report
};

// What one thread saw; merged by main.
struct ThreadResult {
  Histogram latency;      // ns, measured frames only
  uint64_t measured = 0;  // frames sent in the window and answered
  uint64_t answered = 0;  // all answered frames, warm-up included
  uint64_t sent = 0;
  int64_t last_measured_ns = 0;
  uint64_t connections_up = 0;      // HELLO done (health checks: checks done)
  uint64_t disconnect_replies = 0;  // AGENT-DISCONNECT answers to our DISCONNECT
  uint64_t closed_without_reply = 0;
  uint64_t errors = 0;
  std::map<std::string, uint64_t> error_kinds;
  std::vector<std::string> error_samples;  // the first few, with ids
  std::string agent_capabilities;
  uint32_t agent_max_frame_size = 0;
  std::string agent_version;
};

class ClientThread {
 public:
  ClientThread(Shared& shared, unsigned index, std::vector<unsigned> connection_ids);
  ~ClientThread();
  ClientThread(const ClientThread&) = delete;
  ClientThread& operator=(const ClientThread&) = delete;

  void run();
  const ThreadResult& result() const noexcept { return result_; }

 private:
  struct Conn;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  ThreadResult result_;
};

}  // namespace bench
