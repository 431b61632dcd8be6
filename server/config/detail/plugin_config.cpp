#include "config/detail/plugin_config.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
#include <tuple>

namespace spoa::config::detail {
namespace {

struct Entry {
  size_t line;
  size_t column;
  std::string key;       // flattened, as the plugin sees it
  std::string key_path;  // as the operator wrote it, for messages
  std::string text;
};

bool is_date_or_time(const toml::value& value) {
  return value.is_offset_datetime() || value.is_local_datetime() || value.is_local_date() ||
         value.is_local_time();
}

std::string float_text(double number) {
  // Shortest text that reads back as the same double; TOML spells the specials inf/nan.
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, number);
  return std::string(buffer, result.ptr);
}

std::optional<std::string> scalar_text(const toml::value& value) {
  if (value.is_string()) return value.as_string().str;
  if (value.is_integer()) return std::to_string(value.as_integer());
  if (value.is_floating()) return float_text(value.as_floating());
  if (value.is_boolean()) return value.as_boolean() ? "true" : "false";
  if (is_date_or_time(value)) return toml::format(value);
  return std::nullopt;
}

void collect(const toml::value& table, const std::string& key_prefix,
             const std::string& path_prefix, TomlReader& reader, std::vector<Entry>& entries) {
  for (const auto& [name, value] : table.as_table()) {
    const std::string key = key_prefix.empty() ? name : key_prefix + '.' + name;
    const std::string key_path = join_key(path_prefix, name);
    if (value.is_table()) {
      collect(value, key, key_path, reader, entries);
      continue;
    }
    const toml::source_location where = value.location();
    Entry entry{where.line(), where.column(), key, key_path, {}};
    if (auto text = scalar_text(value)) {
      entry.text = std::move(*text);
    } else if (value.is_array()) {
      bool joinable = true;
      // Arrays of tables or arrays, and elements holding the ',' that joins them, have no
      // faithful flat form: they are left out of the flat view (a 1.0 plugin never sees
      // them) and reach a 1.1 plugin through the typed tree.
      for (size_t i = 0; i < value.as_array().size() && joinable; ++i) {
        const auto element_text = scalar_text(value.as_array()[i]);
        joinable = element_text && element_text->find(',') == std::string::npos;
        if (!joinable) break;
        if (i != 0) entry.text += ',';
        entry.text += *element_text;
      }
      if (!joinable) continue;
    } else {
      reader.error_at(value, key_path +
                                 ": expected a string, number, boolean, date, table or array, "
                                 "got " +
                                 describe_type(value));
      continue;
    }
    entries.push_back(std::move(entry));
  }
}

ConfigNode tree_of(const toml::value& value) {
  ConfigNode node;
  const toml::source_location where = value.location();
  node.line = where.line();
  node.column = where.column();
  if (value.is_table()) {
    node.type = ConfigNode::Type::table;
    for (const auto& [key, member] : value.as_table())
      node.members.push_back({key, tree_of(member)});
    // toml11 3.7 keeps tables unordered: restore the order they were written in.
    std::sort(node.members.begin(), node.members.end(), [](const auto& a, const auto& b) {
      return std::tie(a.value.line, a.value.column) < std::tie(b.value.line, b.value.column);
    });
  } else if (value.is_array()) {
    node.type = ConfigNode::Type::array;
    for (const toml::value& element : value.as_array())
      node.items.push_back(tree_of(element));
  } else if (value.is_integer()) {
    node.type = ConfigNode::Type::integer;
    node.integer = value.as_integer();
  } else if (value.is_floating()) {
    node.type = ConfigNode::Type::floating;
    node.floating = value.as_floating();
  } else if (value.is_boolean()) {
    node.type = ConfigNode::Type::boolean;
    node.boolean = value.as_boolean();
  } else {
    node.type = ConfigNode::Type::string;
    node.text = scalar_text(value).value_or(std::string());
  }
  return node;
}

}  // namespace

ConfigNode plugin_config_tree(const toml::value& table) {
  return tree_of(table);
}

std::vector<std::pair<std::string, std::string>> flatten_plugin_config(const toml::value& table,
                                                                       std::string_view key_path,
                                                                       TomlReader& reader) {
  std::vector<Entry> entries;
  collect(table, {}, std::string(key_path), reader, entries);
  // toml11 3.7 stores tables in unordered maps and has no ordered variant, so the order the
  // operator wrote is recovered from where each value was written.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });

  std::vector<std::pair<std::string, std::string>> settings;
  std::map<std::string, const Entry*> seen;
  for (const Entry& entry : entries) {
    // A quoted key with a dot ("a.b" = 1) flattens to the same name as a nested a.b.
    const auto [first, inserted] = seen.emplace(entry.key, &entry);
    if (!inserted) {
      reader.error(Location{reader.file(), entry.line, entry.column},
                   entry.key_path + ": flattens to the key \"" + entry.key + "\", as " +
                       first->second->key_path + " on line " + std::to_string(first->second->line) +
                       " does");
      continue;
    }
    settings.emplace_back(entry.key, entry.text);
  }
  return settings;
}

}  // namespace spoa::config::detail
