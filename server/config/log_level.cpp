#include "config/log_level.hpp"

#include <array>
#include <utility>

namespace spoa::config {
namespace {

constexpr std::array<std::pair<std::string_view, LogLevel>, 5> level_names{{
    {"trace", LogLevel::trace},
    {"debug", LogLevel::debug},
    {"info", LogLevel::info},
    {"warn", LogLevel::warn},
    {"error", LogLevel::error},
}};

constexpr std::array<std::pair<std::string_view, LogTarget>, 3> target_names{{
    {"auto", LogTarget::automatic},
    {"stderr", LogTarget::stderr_stream},
    {"journal", LogTarget::journal},
}};

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (const auto& [name, level] : level_names) {
    if (name == text) return level;
  }
  return std::nullopt;
}

std::optional<LogTarget> parse_log_target(std::string_view text) {
  for (const auto& [name, target] : target_names) {
    if (name == text) return target;
  }
  return std::nullopt;
}

std::string_view to_string(LogLevel level) {
  for (const auto& [name, value] : level_names) {
    if (value == level) return name;
  }
  return "?";
}

std::string_view to_string(LogTarget target) {
  for (const auto& [name, value] : target_names) {
    if (value == target) return name;
  }
  return "?";
}

}  // namespace spoa::config
