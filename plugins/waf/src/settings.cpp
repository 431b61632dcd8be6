#include "settings.hpp"

#include <charconv>
#include <optional>
#include <set>
#include <string_view>

namespace spoa::waf {
namespace {

const std::set<std::string, std::less<>> top_keys = {"compat",
                                                     "request_message",
                                                     "response_message",
                                                     "default_app",
                                                     "threads",
                                                     "queue",
                                                     "queue_timeout",
                                                     "header_limit",
                                                     "transactions.max_entries",
                                                     "transactions.max_bytes",
                                                     "transactions.ttl"};

const std::set<std::string, std::less<>> app_keys = {"crs",
                                                     "crs_setup",
                                                     "crs_rules",
                                                     "paranoia",
                                                     "anomaly_threshold",
                                                     "response_anomaly_threshold",
                                                     "mode",
                                                     "truncated_body",
                                                     "response",
                                                     "rules_before",
                                                     "rules",
                                                     "directives",
                                                     "audit_log",
                                                     "body_limit"};

[[noreturn]] void fail(std::string_view key, std::string_view value, std::string_view expected) {
  throw SettingsError("config key '" + std::string(key) + "': '" + std::string(value) +
                      "' is not " + std::string(expected));
}

std::uint64_t to_number(std::string_view key, std::string_view value, std::uint64_t min,
                        std::uint64_t max) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || n < min || n > max)
    fail(key, value, "a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  return n;
}

bool to_bool(std::string_view key, std::string_view value) {
  if (value == "true") return true;
  if (value == "false") return false;
  fail(key, value, "true or false");
}

// "100ms", "2s", "1m": the units spoa-host's own durations use.
std::chrono::milliseconds to_duration(std::string_view key, std::string_view value) {
  std::size_t digits = 0;
  while (digits < value.size() && value[digits] >= '0' && value[digits] <= '9')
    ++digits;
  const std::string_view unit = value.substr(digits);
  std::uint64_t scale = 0;
  if (unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = 1000;
  else if (unit == "m")
    scale = 60000;
  if (digits == 0 || scale == 0) fail(key, value, "a duration such as 500ms, 10s or 1m");
  const auto n = to_number(key, value.substr(0, digits), 0, 24ull * 3600 * 1000);
  return std::chrono::milliseconds(static_cast<std::int64_t>(n * scale));
}

std::vector<std::string> to_list(std::string_view value) {
  std::vector<std::string> items;
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return items;
}

void set_app_key(AppSettings& app, const std::string& full_key, std::string_view key,
                 const std::string& value) {
  if (key == "crs")
    app.crs = to_bool(full_key, value);
  else if (key == "crs_setup")
    app.crs_setup = value;
  else if (key == "crs_rules")
    app.crs_rules = value;
  else if (key == "paranoia")
    app.paranoia = static_cast<int>(to_number(full_key, value, 1, 4));
  else if (key == "anomaly_threshold")
    app.anomaly_threshold = static_cast<int>(to_number(full_key, value, 1, 10000));
  else if (key == "response_anomaly_threshold")
    app.response_anomaly_threshold = static_cast<int>(to_number(full_key, value, 1, 10000));
  else if (key == "mode") {
    if (value == "block")
      app.detect_only = false;
    else if (value == "detect")
      app.detect_only = true;
    else
      fail(full_key, value, "block or detect");
  } else if (key == "truncated_body") {
    if (value == "inspect")
      app.truncated_body = TruncatedBody::inspect;
    else if (value == "headers-only")
      app.truncated_body = TruncatedBody::headers_only;
    else if (value == "deny")
      app.truncated_body = TruncatedBody::deny;
    else
      fail(full_key, value, "inspect, headers-only or deny");
  } else if (key == "response")
    app.response = to_bool(full_key, value);
  else if (key == "rules_before")
    app.rules_before = to_list(value);
  else if (key == "rules")
    app.rules = to_list(value);
  else if (key == "directives")
    app.directives = value;
  else if (key == "audit_log")
    app.audit_log = value;
  else if (key == "body_limit")
    app.body_limit = static_cast<std::size_t>(to_number(full_key, value, 0, 1ull << 40));
}

bool valid_app_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '-'))
      return false;
  return true;
}

}  // namespace

Settings parse_settings(const ConfigPairs& pairs) {
  Settings s;
  std::optional<std::string> compat;
  for (const auto& [key, value] : pairs)
    if (key == "compat") compat = value;
  if (compat && *compat == "coraza")
    s.dialect = Dialect::coraza;
  else if (compat && *compat != "native")
    fail("compat", *compat, "native or coraza");
  s.request_message = s.dialect == Dialect::coraza ? "coraza-req" : "waf-req";
  s.response_message = s.dialect == Dialect::coraza ? "coraza-res" : "waf-res";

  for (const auto& [key, value] : pairs) {
    const std::string_view k = key;
    if (k.substr(0, 5) == "apps.") {
      const std::string_view rest = k.substr(5);
      const std::size_t dot = rest.find('.');
      const std::string_view name = rest.substr(0, dot);
      const std::string_view app_key =
          dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
      if (!valid_app_name(name))
        throw SettingsError("config key '" + key +
                            "': an application name is letters, digits, '_' and '-'");
      if (app_keys.count(app_key) == 0)
        throw SettingsError("config key '" + key + "': unknown application key '" +
                            std::string(app_key) +
                            "' (known: crs, crs_setup, crs_rules, paranoia, anomaly_threshold, "
                            "response_anomaly_threshold, mode, truncated_body, response, "
                            "rules_before, rules, directives, audit_log, body_limit)");
      AppSettings& app = s.apps[std::string(name)];
      app.name = name;
      set_app_key(app, key, app_key, value);
      continue;
    }
    if (top_keys.count(k) == 0)
      throw SettingsError("config key '" + key +
                          "': unknown (known: compat, request_message, response_message, "
                          "default_app, threads, queue, queue_timeout, header_limit, "
                          "transactions.max_entries, transactions.max_bytes, "
                          "transactions.ttl, apps.NAME.*)");
    if (k == "request_message")
      s.request_message = value;
    else if (k == "response_message")
      s.response_message = value;
    else if (k == "default_app")
      s.default_app = value;
    else if (k == "threads")
      s.threads = static_cast<unsigned>(to_number(key, value, 1, 256));
    else if (k == "queue")
      s.queue = static_cast<std::size_t>(to_number(key, value, 1, 1u << 20));
    else if (k == "queue_timeout")
      s.queue_timeout = to_duration(key, value);
    else if (k == "header_limit")
      s.header_limit = static_cast<std::size_t>(to_number(key, value, 1, 10000));
    else if (k == "transactions.max_entries")
      s.table_entries = static_cast<std::size_t>(to_number(key, value, 0, 1u << 24));
    else if (k == "transactions.max_bytes")
      s.table_bytes = static_cast<std::size_t>(to_number(key, value, 0, 1ull << 40));
    else if (k == "transactions.ttl")
      s.table_ttl = to_duration(key, value);
  }

  if (s.apps.empty())
    throw SettingsError(
        "no application: add a [plugins.NAME.config.apps.APP] table "
        "(for example crs = true)");
  if (s.default_app.empty()) {
    if (s.apps.size() > 1)
      throw SettingsError("config key 'default_app' is required with several applications");
    s.default_app = s.apps.begin()->first;
  } else if (s.apps.count(s.default_app) == 0) {
    fail("default_app", s.default_app, "the name of one of the apps.NAME tables");
  }
  for (const auto& [name, app] : s.apps)
    if (!app.crs && app.rules.empty() && app.directives.empty())
      throw SettingsError("application '" + name +
                          "': no rules (set crs = true, rules = [...] or directives)");
  return s;
}

}  // namespace spoa::waf
