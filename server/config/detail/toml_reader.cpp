#include "config/detail/toml_reader.hpp"

#include <algorithm>
#include <limits>
#include <tuple>
#include <utility>

namespace spoa::config::detail {
namespace {

bool is_bare_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

// Optimal string alignment distance: edits plus swaps of neighbours, the usual typos.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string_view closest_key(std::string_view key, std::span<const std::string_view> known) {
  std::string_view best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  for (const std::string_view candidate : known) {
    // Two edits turn "top" into "log": only long words are still recognisable after two.
    const size_t allowed = candidate.size() >= 8 ? 2 : 1;
    const size_t distance = edit_distance(key, candidate);
    if (distance <= allowed && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace

std::string describe_type(const toml::value& value) {
  switch (value.type()) {
    case toml::value_t::boolean:
      return "a boolean";
    case toml::value_t::integer:
      return "an integer";
    case toml::value_t::floating:
      return "a float";
    case toml::value_t::string:
      return "a string";
    case toml::value_t::offset_datetime:
    case toml::value_t::local_datetime:
      return "a date-time";
    case toml::value_t::local_date:
      return "a date";
    case toml::value_t::local_time:
      return "a time";
    case toml::value_t::array:
      if (!value.as_array().empty() &&
          std::all_of(value.as_array().begin(), value.as_array().end(),
                      [](const toml::value& element) { return element.is_table(); })) {
        return "an array of tables";
      }
      return "an array";
    case toml::value_t::table:
      return "a table";
    case toml::value_t::empty:
      break;
  }
  return "nothing";
}

std::string join_key(std::string_view parent, std::string_view key) {
  std::string name(parent);
  if (!name.empty()) name += '.';
  if (is_bare_key(key)) {
    name += key;
  } else {
    name += '"';
    name += key;
    name += '"';
  }
  return name;
}

std::pair<size_t, size_t> first_appearance(const toml::value& value) {
  const toml::source_location where = value.location();
  std::pair<size_t, size_t> first{where.line(), where.column()};
  if (value.is_table()) {
    for (const auto& [key, child] : value.as_table()) {
      first = std::min(first, first_appearance(child));
    }
  } else if (value.is_array()) {
    for (const auto& child : value.as_array())
      first = std::min(first, first_appearance(child));
  }
  return first;
}

Location TomlReader::location_of(const toml::value& value) const {
  const toml::source_location where = value.location();
  return Location{file_, where.line(), where.column()};
}

Location TomlReader::key_location(const toml::value& value, std::string_view key) const {
  const toml::source_location where = value.location();
  const std::string& line = where.line_str();
  const size_t start = std::min<size_t>(where.column() - 1, line.size());
  const std::string_view text(line);
  if (const size_t before = text.substr(0, start).rfind(key); before != std::string_view::npos) {
    return Location{file_, where.line(), before + 1};
  }
  if (const size_t inside = text.substr(start, where.region()).rfind(key);
      inside != std::string_view::npos) {
    return Location{file_, where.line(), start + inside + 1};
  }
  return location_of(value);
}

void TomlReader::error(Location where, std::string message) {
  errors_.push_back(Diagnostic{std::move(where), std::move(message)});
}

void TomlReader::reject_unknown_keys(const toml::value& table, std::string_view path,
                                     std::span<const std::string_view> known) {
  if (!table.is_table()) return;
  for (const auto& [key, value] : table.as_table()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string message = join_key(path, key) + ": unknown key; ";
    if (const std::string_view suggestion = closest_key(key, known); !suggestion.empty()) {
      message += "did you mean " + join_key(path, suggestion) + "?";
    } else {
      message += "expected one of ";
      for (size_t i = 0; i < known.size(); ++i) {
        if (i != 0) message += ", ";
        message += known[i];
      }
    }
    error(key_location(value, key), std::move(message));
  }
}

const toml::value* TomlReader::find(const toml::value& table, std::string_view key) {
  if (!table.is_table()) return nullptr;
  const auto& entries = table.as_table();
  const auto found = entries.find(std::string(key));
  return found == entries.end() ? nullptr : &found->second;
}

bool TomlReader::expect_table(const toml::value& value, std::string_view key_path) {
  if (value.is_table()) return true;
  error_at(value, std::string(key_path) + ": expected a table, got " + describe_type(value));
  return false;
}

std::optional<std::string> TomlReader::string(const toml::value& value, std::string_view key_path) {
  if (value.is_string()) return value.as_string().str;
  error_at(value, std::string(key_path) + ": expected a string, got " + describe_type(value));
  return std::nullopt;
}

std::optional<int64_t> TomlReader::integer(const toml::value& value, std::string_view key_path,
                                           int64_t min, int64_t max) {
  if (!value.is_integer()) {
    error_at(value, std::string(key_path) + ": expected an integer, got " + describe_type(value));
    return std::nullopt;
  }
  const int64_t number = value.as_integer();
  if (number < min || number > max) {
    error_at(value, std::string(key_path) + ": expected an integer from " + std::to_string(min) +
                        " to " + std::to_string(max) + ", got " + std::to_string(number));
    return std::nullopt;
  }
  return number;
}

std::optional<std::vector<StringElement>> TomlReader::string_array(const toml::value& value,
                                                                   std::string_view key_path) {
  if (!value.is_array()) {
    error_at(value,
             std::string(key_path) + ": expected an array of strings, got " + describe_type(value));
    return std::nullopt;
  }
  std::vector<StringElement> elements;
  bool all_strings = true;
  for (const toml::value& element : value.as_array()) {
    if (element.is_string()) {
      elements.push_back(StringElement{element.as_string().str, &element});
    } else {
      error_at(element, std::string(key_path) + ": expected an array of strings, found " +
                            describe_type(element) + " in it");
      all_strings = false;
    }
  }
  if (!all_strings) return std::nullopt;
  return elements;
}

std::vector<Diagnostic> TomlReader::take_errors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.where.line, a.where.column) < std::tie(b.where.line, b.where.column);
  });
  return std::exchange(errors_, {});
}

}  // namespace spoa::config::detail
