#pragma once
// Process-wide logging. Lines go to stderr or, when started by systemd, to the journal with
// the matching priority. Thread-safe: any thread may log, including plugin threads.
#include <fmt/format.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spoa::log {

enum class Level { trace = 0, debug = 1, info = 2, warn = 3, error = 4 };
enum class Target { stderr_stream, journal };

void set_level(Level level) noexcept;
void set_target(Target target) noexcept;
// True when stderr is connected to the journal (JOURNAL_STREAM matches stderr), i.e. the
// process runs under systemd and log.target = "auto" should pick the journal.
bool stderr_is_journal() noexcept;

// What a line is about. The journal gets each as a field of its own (SPOA_PEER=,
// SPOA_PLUGIN=, SPOA_MESSAGE=, SPOA_STATUS=) so that `journalctl SPOA_PLUGIN=geoip` finds
// a plugin's lines; stderr gets one human line whose text already names them.
struct Fields {
  std::string_view peer = {};
  std::string_view plugin = {};
  std::string_view message = {};
  std::optional<uint32_t> status = std::nullopt;  // a SPOP status code
};

// Lines a peer or a plugin can make us repeat at will, one per bad frame or failed call.
// Each category has a token bucket (a burst, then a steady rate); lines past it are
// dropped and counted, and the next line that gets through, or flush_suppressed(), first
// says how many were.
enum class Category { protocol, plugin, io };
inline constexpr size_t category_count = 3;
inline constexpr std::array<std::string_view, category_count> category_names = {
    "protocol error", "plugin error", "I/O error"};

struct RateLimit {
  double burst = 10;      // lines let through at once
  double per_second = 1;  // refill
};
// Applies to every category; resets their buckets. The default suits production.
void set_rate_limit(RateLimit limit) noexcept;
// Writes the pending "N similar ... messages suppressed" lines now (a periodic timer calls
// it, so a burst that stops is still reported).
void flush_suppressed() noexcept;
// Lines dropped so far in `category`, over the life of the process (a metric).
uint64_t suppressed_total(Category category) noexcept;

// A token bucket: `take` succeeds while tokens are left; they come back at `per_second`
// up to `burst`. Not thread-safe (the log guards each bucket).
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  explicit TokenBucket(RateLimit limit = {}) : limit_(limit), tokens_(limit.burst) {}
  bool take(Clock::time_point now) noexcept;

 private:
  RateLimit limit_;
  double tokens_;
  std::optional<Clock::time_point> last_;
};

namespace detail {
extern std::atomic<int> current_level;
void write(Level level, std::string_view text) noexcept;
void write(Level level, const Fields& fields, std::string_view text) noexcept;
// true if a line of `category` may be written now; `suppressed` is then the number dropped
// since the last one that was, to be reported first.
bool admit(Category category, uint64_t& suppressed) noexcept;
// At `level`: the level of the lines that were dropped (the caller checked it is enabled).
void write_suppressed(Category category, uint64_t suppressed, Level level) noexcept;
// The journal entry for a line: "MESSAGE=...", "PRIORITY=N", "SYSLOG_IDENTIFIER=...",
// then one SPOA_* field per field that is set.
std::vector<std::string> journal_fields(Level level, std::string_view text, const Fields& fields);
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

// A line with fields for the journal.
template <typename... Args>
void event(Level level, const Fields& fields, fmt::format_string<Args...> format, Args&&... args) {
  if (!enabled(level)) return;
  detail::write(level, fields, fmt::format(format, std::forward<Args>(args)...));
}

// As event(), rate limited by `category`; a dropped line is not even formatted.
template <typename... Args>
void limited(Category category, Level level, const Fields& fields,
             fmt::format_string<Args...> format, Args&&... args) {
  if (!enabled(level)) return;
  uint64_t suppressed = 0;
  if (!detail::admit(category, suppressed)) return;
  if (suppressed != 0) detail::write_suppressed(category, suppressed, level);
  detail::write(level, fields, fmt::format(format, std::forward<Args>(args)...));
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
