#pragma once
// A child process for black-box tests: started with posix_spawn, its stdout and stderr
// captured in files (no pipe to drain, so a chatty child never blocks), killed and reaped
// when the test ends, whatever happens in between.
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "support/temp_dir.hpp"

namespace spoa::test {

struct ProcessOptions {
  // Added to (or replacing) the parent's environment, "NAME=VALUE". JOURNAL_STREAM is
  // always removed, so that the child logs to stderr even when the tests run under systemd.
  std::vector<std::string> env;
  // Open fds of the parent to hand down: {parent fd, child fd} (socket activation tests).
  std::vector<std::pair<int, int>> fds;
};

class Process {
 public:
  // argv[0] is `program`; `args` follow it. Throws if the program cannot be started.
  Process(const std::string& program, const std::vector<std::string>& args,
          const ProcessOptions& options = {});
  // SIGKILLs and reaps the child if it still runs.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void send_signal(int number) const;

  // The exit status once the child has ended: its exit code, or 128 + the signal number if
  // a signal ended it (as a shell reports it). nullopt if it still runs after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool exited() const { return status_.has_value(); }

  std::string stdout_text() const;
  std::string stderr_text() const;

  // Waits until stderr holds a match of `pattern` and returns the match and its groups.
  // nullopt if the child ends or `timeout` passes first.
  std::optional<std::vector<std::string>> wait_for_stderr(const std::regex& pattern,
                                                          std::chrono::milliseconds timeout);

 private:
  bool poll_exit();

  TempDir output_;
  pid_t pid_ = -1;
  std::optional<int> status_;
};

struct RunResult {
  std::optional<int> status;  // as Process::wait; nullopt: killed after the timeout
  std::string out;
  std::string err;
};

// Runs a program to completion (or kills it after `timeout`).
RunResult run(const std::string& program, const std::vector<std::string>& args,
              std::chrono::milliseconds timeout);

}  // namespace spoa::test
