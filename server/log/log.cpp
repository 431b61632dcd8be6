#include "log/log.hpp"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace spoa::log {
namespace detail {
std::atomic<int> current_level{static_cast<int>(Level::info)};
}  // namespace detail

namespace {
std::atomic<Target> current_target{Target::stderr_stream};
std::mutex stderr_mutex;

constexpr std::string_view level_name(Level level) {
  switch (level) {
    case Level::trace:
      return "trace";
    case Level::debug:
      return "debug";
    case Level::info:
      return "info";
    case Level::warn:
      return "warn";
    case Level::error:
      return "error";
  }
  return "?";
}

int syslog_priority(Level level) {
  switch (level) {
    case Level::trace:
    case Level::debug:
      return LOG_DEBUG;
    case Level::info:
      return LOG_INFO;
    case Level::warn:
      return LOG_WARNING;
    case Level::error:
      return LOG_ERR;
  }
  return LOG_INFO;
}
}  // namespace

void set_level(Level level) noexcept {
  detail::current_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

void set_target(Target target) noexcept {
  current_target.store(target);
}

bool stderr_is_journal() noexcept {
  // systemd sets JOURNAL_STREAM=<dev>:<inode> of the stream it connected stdout/stderr to.
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st {};
  if (fstat(STDERR_FILENO, &st) != 0) return false;
  return st.st_dev == dev && st.st_ino == ino;
}

namespace detail {
void write(Level level, std::string_view text) noexcept {
  try {
    if (current_target.load(std::memory_order_relaxed) == Target::journal) {
      sd_journal_send("MESSAGE=%.*s", static_cast<int>(text.size()), text.data(), "PRIORITY=%d",
                      syslog_priority(level), "SYSLOG_IDENTIFIER=spoa-host", nullptr);
      return;
    }
    const auto now = std::chrono::system_clock::now();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    std::string line = fmt::format(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z {:<5} {}\n", tm.tm_year + 1900, tm.tm_mon + 1,
        tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms.count() % 1000, level_name(level), text);
    std::lock_guard lock(stderr_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
  } catch (...) {
    // Logging must never take the process down (out of memory while formatting).
  }
}
}  // namespace detail
}  // namespace spoa::log
