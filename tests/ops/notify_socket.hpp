#pragma once
// The systemd side of sd_notify(3) for tests: an AF_UNIX datagram socket that a child gets
// as NOTIFY_SOCKET. A thread receives every datagram as it comes and stamps it with the
// steady clock; the kernel also stamps each one when the sender's sendmsg() queued it
// (SO_TIMESTAMPNS), which no scheduling delay of the receiving thread can shift.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace spoa::ops {

using Clock = std::chrono::steady_clock;

struct NotifyMessage {
  std::string text;  // the whole datagram, "READY=1\nSTATUS=..."
  Clock::time_point received;
  // CLOCK_REALTIME when the sender queued it (the kernel's stamp); zero if none came.
  std::chrono::nanoseconds sent{0};

  // The value of `NAME=` on one of the lines, or nullopt.
  std::optional<std::string> field(std::string_view name) const;
  bool has(std::string_view assignment) const;  // a line that is exactly "NAME=VALUE"
};

class NotifySocket {
 public:
  // Binds `path` (must not exist; under 108 bytes) and starts receiving.
  explicit NotifySocket(std::string path);
  ~NotifySocket();
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  const std::string& path() const { return path_; }
  // "NOTIFY_SOCKET=PATH", for the child's environment.
  std::string env() const { return "NOTIFY_SOCKET=" + path_; }

  // Every message so far, in arrival order.
  std::vector<NotifyMessage> messages() const;
  // Waits until a message at index >= `from` satisfies `match`; returns its index, or
  // nullopt after `timeout`.
  std::optional<size_t> wait_for(const std::function<bool(const NotifyMessage&)>& match,
                                 size_t from, std::chrono::milliseconds timeout) const;
  // Shorthand: a message with a line exactly `assignment` ("READY=1").
  std::optional<size_t> wait_for(std::string_view assignment, size_t from,
                                 std::chrono::milliseconds timeout) const;
  size_t size() const;

 private:
  void run();

  std::string path_;
  int fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<NotifyMessage> messages_;
  std::thread thread_;
};

// A short text of every message, one per line, for failure messages.
std::string describe(const std::vector<NotifyMessage>& messages);

}  // namespace spoa::ops
