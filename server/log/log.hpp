#pragma once
// Process-wide logging. Lines go to stderr or, when started by systemd, to the journal with
// the matching priority. Thread-safe: any thread may log, including plugin threads.
#include <fmt/format.h>

#include <atomic>
#include <string_view>

namespace spoa::log {

enum class Level { trace = 0, debug = 1, info = 2, warn = 3, error = 4 };
enum class Target { stderr_stream, journal };

void set_level(Level level) noexcept;
void set_target(Target target) noexcept;
// True when stderr is connected to the journal (JOURNAL_STREAM matches stderr), i.e. the
// process runs under systemd and log.target = "auto" should pick the journal.
bool stderr_is_journal() noexcept;

namespace detail {
extern std::atomic<int> current_level;
void write(Level level, std::string_view text) noexcept;
}  // namespace detail

inline bool enabled(Level level) noexcept {
  return static_cast<int>(level) >= detail::current_level.load(std::memory_order_relaxed);
}

// Formats only when the level is enabled, so debug lines cost a load and a branch.
template <typename... Args>
void write(Level level, fmt::format_string<Args...> format, Args&&... args) {
  if (!enabled(level)) return;
  detail::write(level, fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
void trace(fmt::format_string<Args...> f, Args&&... a) {
  write(Level::trace, f, std::forward<Args>(a)...);
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) {
  write(Level::debug, f, std::forward<Args>(a)...);
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... a) {
  write(Level::info, f, std::forward<Args>(a)...);
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... a) {
  write(Level::warn, f, std::forward<Args>(a)...);
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... a) {
  write(Level::error, f, std::forward<Args>(a)...);
}

}  // namespace spoa::log
