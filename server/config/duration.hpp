#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace spoa::config {

// The longest duration accepted anywhere: a year. Longer values are typing mistakes, and the
// bound keeps deadline arithmetic far from overflow.
inline constexpr std::chrono::milliseconds max_duration = std::chrono::hours(24 * 365);

// Parses a duration written as whole numbers with units: "500ms", "5s", "10m", "1h", or a
// sum of such parts, largest unit first or not: "1m30s". Units are ms, s, m and h; the
// resolution is a millisecond, so there is no "us". A bare number such as "5" is rejected
// because the unit it would default to is a guess. On failure returns nullopt and sets
// `error` to a sentence that quotes the text and says what was expected.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text, std::string& error);

// The shortest text that parse_duration reads back as `duration`: "5s", "1m30s", "250ms",
// "0s". For logs and --help. (A negative duration, which nothing here produces, gets a '-'.)
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace spoa::config
