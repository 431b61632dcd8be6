#pragma once

// Internal to spoa_config: the only header that exposes toml11.

#include <toml.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.hpp"

namespace spoa::config::detail {

// An element of a string array, with the value it came from so an error can point at it.
struct StringElement {
  std::string text;
  const toml::value* value;
};

// "a string", "an integer"…: the TOML type of a value as an error message names it.
std::string describe_type(const toml::value& value);

// `parent.key`, quoting `key` when it is not a bare TOML key, so that the name in a message
// is one the operator can search the file for.
std::string join_key(std::string_view parent, std::string_view key);

// The earliest place in the file where `value` or anything inside it was written. toml11
// keeps tables in unordered maps, so this is how file order is recovered.
std::pair<size_t, size_t> first_appearance(const toml::value& value);

// Reads typed values out of a parsed TOML document and records one Diagnostic, naming the
// key and what was expected, for each value that does not fit, so that a single run
// reports every problem.
class TomlReader {
 public:
  explicit TomlReader(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }

  Location location_of(const toml::value& value) const;
  // Where `key`, whose value is `value`, was written. toml11 3.7 records locations for
  // values only, so the key is looked for on the value's line: before the value
  // (`key = value`, `{ key = value }`), else inside it (`[key]`, `key.sub = value`).
  Location key_location(const toml::value& value, std::string_view key) const;

  void error(Location where, std::string message);
  void error_at(const toml::value& value, std::string message) {
    error(location_of(value), std::move(message));
  }

  // One error per key of `table` not in `known`, at the key; `path` is the table's dotted
  // name, empty for the document root. Suggests the nearest known key for a typo.
  void reject_unknown_keys(const toml::value& table, std::string_view path,
                           std::span<const std::string_view> known);

  // The child `key` of `table`, or nullptr when absent (or `table` is not a table).
  static const toml::value* find(const toml::value& table, std::string_view key);

  // Each returns nullopt, after recording an error, when the value is of the wrong kind.
  bool expect_table(const toml::value& value, std::string_view key_path);
  std::optional<std::string> string(const toml::value& value, std::string_view key_path);
  std::optional<int64_t> integer(const toml::value& value, std::string_view key_path, int64_t min,
                                 int64_t max);
  std::optional<std::vector<StringElement>> string_array(const toml::value& value,
                                                         std::string_view key_path);

  // The errors recorded so far, in file order.
  std::vector<Diagnostic> take_errors();

 private:
  std::string file_;
  std::vector<Diagnostic> errors_;
};

}  // namespace spoa::config::detail
