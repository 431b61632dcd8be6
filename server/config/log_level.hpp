#pragma once

#include <optional>
#include <string_view>

namespace spoa::config {

enum class LogLevel { trace, debug, info, warn, error };

// Where log lines go. `automatic` means the journal when systemd started us (JOURNAL_STREAM
// is set), stderr otherwise.
enum class LogTarget { automatic, stderr_stream, journal };

// "trace", "debug", "info", "warn", "error"; anything else (including other cases) is nullopt.
std::optional<LogLevel> parse_log_level(std::string_view text);
// "auto", "stderr", "journal".
std::optional<LogTarget> parse_log_target(std::string_view text);

// The config spelling, so that a value prints the way an operator writes it.
std::string_view to_string(LogLevel level);
std::string_view to_string(LogTarget target);

}  // namespace spoa::config
