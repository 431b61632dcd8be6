#include "config/duration.hpp"

#include <array>
#include <cstdint>
#include <utility>

namespace spoa::config {
namespace {

using std::chrono::milliseconds;

constexpr std::array<std::pair<std::string_view, int64_t>, 4> units{{
    {"h", 3600000},
    {"m", 60000},
    {"s", 1000},
    {"ms", 1},
}};

constexpr std::string_view units_hint = "units: ms, s, m, h";

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string in_quotes(std::string_view text) {
  return '"' + std::string(text) + '"';
}

}  // namespace

std::optional<milliseconds> parse_duration(std::string_view text, std::string& error) {
  const std::string expected =
      "expected a duration such as \"500ms\", \"5s\", \"10m\" or \"1h\", got " + in_quotes(text);
  if (text.empty()) {
    error = "expected a duration such as \"500ms\", \"5s\", \"10m\" or \"1h\", got an empty string";
    return std::nullopt;
  }
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    const size_t number_begin = i;
    int64_t number = 0;
    while (i < text.size() && is_digit(text[i])) {
      // Any part above max_duration already fails below; stop counting before int64 wraps.
      if (number <= max_duration.count()) number = number * 10 + (text[i] - '0');
      ++i;
    }
    if (i == number_begin) {
      error = expected;
      return std::nullopt;
    }
    const size_t unit_begin = i;
    while (i < text.size() && is_letter(text[i]))
      ++i;
    const std::string_view unit = text.substr(unit_begin, i - unit_begin);
    if (unit.empty()) {
      if (i == text.size() && number_begin == 0) {
        error = "missing unit in " + in_quotes(text) + ": write \"" + std::string(text) +
                "s\" or \"" + std::string(text) + "ms\" (" + std::string(units_hint) + ")";
      } else {
        error = expected;
      }
      return std::nullopt;
    }
    int64_t scale = 0;
    for (const auto& [name, unit_scale] : units) {
      if (name == unit) scale = unit_scale;
    }
    if (scale == 0) {
      error = "unknown unit \"" + std::string(unit) + "\" in " + in_quotes(text) + " (" +
              std::string(units_hint) + ")";
      return std::nullopt;
    }
    if (number > max_duration.count() / scale || total + number * scale > max_duration.count()) {
      error = in_quotes(text) + " is longer than the maximum of " + format_duration(max_duration);
      return std::nullopt;
    }
    total += number * scale;
  }
  return milliseconds(total);
}

std::string format_duration(milliseconds duration) {
  if (duration.count() == 0) return "0s";
  std::string text;
  if (duration.count() < 0) {
    text = "-";
    duration = -duration;
  }
  int64_t rest = duration.count();
  for (const auto& [name, scale] : units) {
    if (rest >= scale) {
      text += std::to_string(rest / scale);
      text += name;
      rest %= scale;
    }
  }
  return text;
}

}  // namespace spoa::config
