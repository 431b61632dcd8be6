#include "config/detail/syntax_error.hpp"

#include <charconv>
#include <optional>
#include <string_view>
#include <vector>

namespace spoa::config::detail {
namespace {

constexpr std::string_view gutter = " | ";

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::string_view trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(' ');
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(' ');
  return text.substr(begin, end - begin + 1);
}

// "[error] toml::parse_table: invalid line format" -> "invalid line format": the function
// name means nothing to an operator.
std::string_view headline(std::string_view first_line) {
  constexpr std::string_view tag = "[error]";
  if (first_line.starts_with(tag)) first_line.remove_prefix(tag.size());
  first_line = trim(first_line);
  const size_t colon = first_line.find(": ");
  if (colon != std::string_view::npos &&
      first_line.substr(0, colon).find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:") ==
          std::string_view::npos) {
    first_line.remove_prefix(colon + 2);
  }
  return first_line;
}

// A report line " 12 | source text" -> 12.
std::optional<size_t> source_line_number(std::string_view line) {
  const size_t bar = line.find(gutter);
  if (bar == std::string_view::npos) return std::nullopt;
  const std::string_view number = trim(line.substr(0, bar));
  size_t value = 0;
  const auto [end, code] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || code != std::errc() || end != number.data() + number.size()) {
    return std::nullopt;
  }
  return value;
}

struct Marker {
  size_t column;
  std::string_view comment;
};

// A report line "    |     ^--- comment" or "    | ~~~ comment" -> column and comment.
std::optional<Marker> marker(std::string_view line) {
  const size_t bar = line.find(gutter);
  if (bar == std::string_view::npos || !trim(line.substr(0, bar)).empty()) return std::nullopt;
  const std::string_view rest = line.substr(bar + gutter.size());
  const size_t mark = rest.find_first_not_of(' ');
  if (mark == std::string_view::npos || (rest[mark] != '^' && rest[mark] != '~')) {
    return std::nullopt;
  }
  const size_t comment = rest.find(' ', mark);
  return Marker{mark + 1, comment == std::string_view::npos ? std::string_view{}
                                                            : trim(rest.substr(comment))};
}

}  // namespace

Diagnostic diagnostic_from_syntax_error(const toml::syntax_error& error, const std::string& file) {
  const std::vector<std::string_view> lines = split_lines(error.what());
  Diagnostic diagnostic;
  diagnostic.where = Location{file, error.location().line(), error.location().column()};
  std::string_view comment;
  // With two places (e.g. "defined here" ... "defined twice") the last one is the fault.
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    const auto line_number = source_line_number(lines[i]);
    const auto mark = line_number ? marker(lines[i + 1]) : std::nullopt;
    if (line_number && mark) {
      diagnostic.where.line = *line_number;
      diagnostic.where.column = mark->column;
      comment = mark->comment;
    }
  }
  diagnostic.message = "TOML syntax error: ";
  diagnostic.message += lines.empty() ? std::string_view("unreadable file") : headline(lines[0]);
  if (!comment.empty() && comment != "here") {
    diagnostic.message += " (";
    diagnostic.message += comment;
    diagnostic.message += ')';
  }
  return diagnostic;
}

}  // namespace spoa::config::detail
