#include "geoip_config.hpp"

#include <algorithm>
#include <charconv>
#include <map>

namespace spoa::geoip {

namespace {

bool is_name(std::string_view s, bool allow_dash) {
  if (s.empty() || s.size() > 63) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (allow_dash && c == '-');
  });
}

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    start = comma + 1;
  }
  return out;
}

std::chrono::milliseconds parse_interval(const std::string& key, std::string_view text) {
  std::uint64_t count = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), count);
  const std::string_view unit(r.ptr, static_cast<std::size_t>(text.data() + text.size() - r.ptr));
  if (r.ec != std::errc() || r.ptr == text.data())
    throw ConfigError("config key '" + key + "': '" + std::string(text) +
                      "' is not a duration (e.g. \"500ms\", \"5s\", \"1m\")");
  std::uint64_t ms = 0;
  if (unit == "ms") {
    ms = count;
  } else if (unit == "s") {
    ms = count * 1000;
  } else if (unit == "m") {
    ms = count * 60000;
  } else if (unit == "h") {
    ms = count * 3600000;
  } else if (unit.empty() && count == 0) {
    ms = 0;
  } else {
    throw ConfigError("config key '" + key + "': '" + std::string(text) +
                      "' needs a unit: ms, s, m or h");
  }
  return std::chrono::milliseconds(ms);
}

struct VariableDraft {
  std::optional<std::string> path;
  std::optional<std::string> default_text;
  std::optional<std::string> type;
  std::string key;
};

struct DatabaseDraft {
  std::optional<std::string> file, load, check_records;
  std::map<std::string, VariableDraft> variables;
};

}  // namespace

GeoipConfig parse_config(const ConfigEntries& entries,
                         const std::vector<std::string_view>& passthrough_prefixes) {
  GeoipConfig config;
  std::map<std::string, DatabaseDraft> drafts;
  for (const auto& [key, value] : entries) {
    const std::string_view k = key;
    if (std::any_of(passthrough_prefixes.begin(), passthrough_prefixes.end(),
                    [&](std::string_view p) { return k.substr(0, p.size()) == p; })) {
      config.other.emplace_back(key, value);
      continue;
    }
    if (k == "scope") {
      config.scope = value;
      continue;
    }
    if (k == "messages") {
      config.messages = split_list(value);
      if (config.messages.empty()) throw ConfigError("config key 'messages': no message name");
      continue;
    }
    if (k == "reload_interval") {
      config.reload_interval = parse_interval(key, value);
      continue;
    }
    constexpr std::string_view databases = "databases.";
    if (k.substr(0, databases.size()) != databases)
      throw ConfigError("unknown config key '" + key + "'");
    std::string_view rest = k.substr(databases.size());
    const std::size_t dot = rest.find('.');
    if (dot == std::string_view::npos)
      throw ConfigError("config key '" + key + "': expected databases.NAME.file or " +
                        "databases.NAME.variables.VARIABLE");
    const std::string name(rest.substr(0, dot));
    if (!is_name(name, true))
      throw ConfigError("config key '" + key + "': database name '" + name +
                        "' must be 1-63 of [A-Za-z0-9_-]");
    DatabaseDraft& db = drafts[name];
    const std::string_view field = rest.substr(dot + 1);
    if (field == "file") {
      db.file = value;
    } else if (field == "load") {
      db.load = value;
    } else if (field == "check_records") {
      db.check_records = value;
    } else if (field.substr(0, 10) == "variables.") {
      const std::string_view var = field.substr(10);
      const std::size_t vdot = var.find('.');
      const std::string var_name(var.substr(0, vdot));
      if (!is_name(var_name, false))
        throw ConfigError("config key '" + key + "': variable name '" + var_name +
                          "' must be 1-63 of [A-Za-z0-9_]");
      VariableDraft& v = db.variables[var_name];
      v.key = "databases." + name + ".variables." + var_name;
      const std::string_view sub = vdot == std::string_view::npos ? "" : var.substr(vdot + 1);
      if (sub.empty() || sub == "path") {
        if (v.path)
          throw ConfigError("config key '" + key + "': the data path of '" + var_name +
                            "' is given twice");
        v.path = value;
      } else if (sub == "default") {
        v.default_text = value;
      } else if (sub == "type") {
        v.type = value;
      } else {
        throw ConfigError("unknown config key '" + key + "' (a variable has path, default, type)");
      }
    } else {
      throw ConfigError("unknown config key '" + key +
                        "' (a database has file, load, check_records, variables)");
    }
  }

  std::map<std::string, std::string> owner;  // variable -> database, to refuse duplicates
  for (auto& [name, draft] : drafts) {
    DatabaseConfig db;
    db.name = name;
    const std::string prefix = "databases." + name;
    if (!draft.file || draft.file->empty())
      throw ConfigError("config key '" + prefix + ".file' is missing: the .mmdb file to use");
    db.file = *draft.file;
    if (draft.load) {
      if (*draft.load == "copy") {
        db.load = LoadMode::copy;
      } else if (*draft.load == "mmap") {
        db.load = LoadMode::mmap;
      } else {
        throw ConfigError("config key '" + prefix + ".load': '" + *draft.load +
                          "' is not one of copy, mmap");
      }
    }
    if (draft.check_records) {
      const std::string& t = *draft.check_records;
      const auto r = std::from_chars(t.data(), t.data() + t.size(), db.check_records);
      if (r.ec != std::errc() || r.ptr != t.data() + t.size())
        throw ConfigError("config key '" + prefix + ".check_records': '" + t +
                          "' is not a number of records (0 = all)");
    }
    if (draft.variables.empty())
      throw ConfigError("config key '" + prefix + ".variables' is missing: map at least one " +
                        "variable to a data path, e.g. country = \"country.iso_code\"");
    for (auto& [var_name, v] : draft.variables) {
      if (!v.path)
        throw ConfigError("config key '" + v.key + ".path' is missing: the data path to read");
      VariableConfig var{var_name,
                         [&] {
                           try {
                             return VariableSource::parse(*v.path);
                           } catch (const std::invalid_argument& e) {
                             throw ConfigError("config key '" + v.key + "': " + e.what());
                           }
                         }(),
                         v.default_text, ValueType::automatic, v.key};
      if (v.type) {
        if (*v.type == "auto") {
          var.type = ValueType::automatic;
        } else if (*v.type == "string") {
          var.type = ValueType::string;
        } else {
          throw ConfigError("config key '" + v.key + ".type': '" + *v.type +
                            "' is not one of auto, string");
        }
      }
      if (auto [it, inserted] = owner.emplace(var_name, name); !inserted)
        throw ConfigError("config key '" + v.key + "': variable '" + var_name +
                          "' is already set by database '" + it->second + "'");
      db.variables.push_back(std::move(var));
    }
    config.databases.push_back(std::move(db));
  }
  if (config.databases.empty())
    throw ConfigError(
        "no database configured: add databases.NAME.file and "
        "databases.NAME.variables");
  return config;
}

}  // namespace spoa::geoip
