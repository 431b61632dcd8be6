#include "log/log.hpp"

#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#define SD_JOURNAL_SUPPRESS_LOCATION
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

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

namespace {
// One bucket per category, each behind its own lock: only lines of that category (error
// paths) take it, never the per-frame path.
struct Limiter {
  std::mutex mutex;
  TokenBucket bucket;
  uint64_t pending = 0;  // dropped since the last report
  std::atomic<uint64_t> total{0};
};
std::array<Limiter, category_count>& limiters() {
  static std::array<Limiter, category_count> all;
  return all;
}
Limiter& limiter(Category category) {
  return limiters()[static_cast<size_t>(category)];
}
}  // namespace

bool TokenBucket::take(Clock::time_point now) noexcept {
  if (last_) {
    const std::chrono::duration<double> elapsed = now - *last_;
    if (elapsed.count() > 0) {
      tokens_ = std::min(limit_.burst, tokens_ + elapsed.count() * limit_.per_second);
    }
  }
  last_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void set_rate_limit(RateLimit limit) noexcept {
  for (auto& l : limiters()) {
    std::lock_guard lock(l.mutex);
    l.bucket = TokenBucket(limit);
    l.pending = 0;
  }
}

void flush_suppressed() noexcept {
  for (size_t i = 0; i < category_count; ++i) {
    uint64_t pending = 0;
    {
      std::lock_guard lock(limiters()[i].mutex);
      pending = std::exchange(limiters()[i].pending, 0);
    }
    if (pending != 0 && enabled(Level::warn)) {
      detail::write_suppressed(static_cast<Category>(i), pending, Level::warn);
    }
  }
}

uint64_t suppressed_total(Category category) noexcept {
  return limiter(category).total.load(std::memory_order_relaxed);
}

namespace detail {
bool admit(Category category, uint64_t& suppressed) noexcept {
  Limiter& l = limiter(category);
  std::lock_guard lock(l.mutex);
  if (!l.bucket.take(TokenBucket::Clock::now())) {
    ++l.pending;
    l.total.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  suppressed = std::exchange(l.pending, 0);
  return true;
}

void write_suppressed(Category category, uint64_t suppressed, Level level) noexcept {
  try {
    write(level, fmt::format("{} similar {} messages suppressed (rate limit)", suppressed,
                             category_names[static_cast<size_t>(category)]));
  } catch (...) {
  }
}

std::vector<std::string> journal_fields(Level level, std::string_view text, const Fields& fields) {
  std::vector<std::string> out;
  out.reserve(7);
  out.push_back(fmt::format("MESSAGE={}", text));
  out.push_back(fmt::format("PRIORITY={}", syslog_priority(level)));
  out.emplace_back("SYSLOG_IDENTIFIER=spoa-host");
  if (!fields.peer.empty()) out.push_back(fmt::format("SPOA_PEER={}", fields.peer));
  if (!fields.plugin.empty()) out.push_back(fmt::format("SPOA_PLUGIN={}", fields.plugin));
  if (!fields.message.empty()) out.push_back(fmt::format("SPOA_MESSAGE={}", fields.message));
  if (fields.status) out.push_back(fmt::format("SPOA_STATUS={}", *fields.status));
  return out;
}

void write(Level level, std::string_view text) noexcept {
  write(level, Fields{}, text);
}

void write(Level level, const Fields& fields, std::string_view text) noexcept {
  try {
    if (current_target.load(std::memory_order_relaxed) == Target::journal) {
      // sd_journal_sendv copies the fields as given: values with newlines or '%' need no
      // escaping, unlike the printf-style sd_journal_send.
      const std::vector<std::string> entries = journal_fields(level, text, fields);
      std::vector<iovec> iov;
      iov.reserve(entries.size());
      for (const auto& entry : entries)
        iov.push_back({const_cast<char*>(entry.data()), entry.size()});
      sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
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
