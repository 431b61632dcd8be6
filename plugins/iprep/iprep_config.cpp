#include "iprep_config.hpp"

#include <algorithm>
#include <charconv>
#include <map>

#include "spoa/support/text_lines.hpp"

namespace spoa::iprep {
namespace {

[[noreturn]] void bad(std::string_view key, const std::string& why) {
  throw spoa::Error("config key '" + std::string(key) + "': " + why);
}

std::chrono::milliseconds duration_of(std::string_view key, std::string_view text) {
  const auto d = spoa::parse_duration(support::trim(text));
  if (!d || *d < std::chrono::milliseconds(10))
    bad(key, "'" + std::string(text) + "' is not a duration of at least 10ms (\"500ms\", \"10s\")");
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

bool valid_source_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

}  // namespace

IprepConfig parse_iprep_config(
    const std::vector<std::pair<std::string_view, std::string_view>>& entries) {
  IprepConfig config;
  std::map<std::string, std::map<std::string, std::string>, std::less<>> sources;
  std::map<std::string_view, std::string_view> global;
  constexpr std::string_view kSources = "sources.";
  for (const auto& [key, value] : entries) {
    if (key.substr(0, kSources.size()) == kSources) {
      const std::string_view rest = key.substr(kSources.size());
      const std::size_t dot = rest.find('.');
      if (dot == std::string_view::npos)
        bad(key, "a source is a table: [plugins.NAME.config.sources." + std::string(rest) + "]");
      const std::string_view name = rest.substr(0, dot);
      if (!valid_source_name(name))
        bad(key, "source name '" + std::string(name) + "' is not 1 to 63 of [A-Za-z0-9_-]");
      sources[std::string(name)][std::string(rest.substr(dot + 1))] = std::string(value);
      continue;
    }
    global[key] = value;
  }
  const auto get = [&](std::string_view k) -> std::optional<std::string_view> {
    const auto it = global.find(k);
    if (it == global.end()) return std::nullopt;
    return it->second;
  };
  for (const auto& [key, value] : global) {
    const auto& client_keys = support::client_address_keys();
    if (key == "scope" || key == "reload_interval" || key == "messages") continue;
    if (std::find(client_keys.begin(), client_keys.end(), key) != client_keys.end()) continue;
    bad(key,
        "unknown key (known: scope, reload_interval, messages, address_arg, "
        "forwarded_header, forwarded_arg, trusted_proxies, hop_limit, sources.<name>.*)");
  }
  if (auto v = get("scope")) {
    const auto s = spoa::parse_scope(support::trim(*v));
    if (!s) bad("scope", "'" + std::string(*v) + "' is not one of proc, sess, txn, req, res");
    config.scope = *s;
  }
  if (auto v = get("reload_interval")) config.reload_interval = duration_of("reload_interval", *v);
  if (auto v = get("messages")) {
    config.messages = spoa::Config::split_list(*v);
    if (config.messages.empty()) bad("messages", "no message name");
  }
  try {
    config.client = support::parse_client_address_settings(get);
  } catch (const std::invalid_argument& e) {
    throw spoa::Error(e.what());
  }

  if (sources.empty())
    throw spoa::Error("no source: add a [plugins.NAME.config.sources.<name>] table with a type");
  for (const auto& [name, keys] : sources) {
    SourceConfig s;
    s.name = name;
    s.label = name;
    const std::string prefix = "sources." + name + ".";
    const auto key_of = [&](std::string_view k) { return prefix + std::string(k); };
    const auto find = [&](std::string_view k) -> std::optional<std::string_view> {
      const auto it = keys.find(std::string(k));
      if (it == keys.end()) return std::nullopt;
      return std::string_view(it->second);
    };
    const auto type = find("type");
    if (!type) bad(key_of("type"), "missing (list, netset, ipset, csv or crowdsec)");
    s.type = std::string(support::trim(*type));
    s.format = parse_list_format(s.type);
    const bool crowdsec = s.type == "crowdsec";
    if (!s.format && !crowdsec)
      bad(key_of("type"), "'" + s.type + "' is not one of list, netset, ipset, csv, crowdsec");
    std::vector<std::string_view> known = {"type", "action", "label", "score"};
    if (crowdsec) {
      known.insert(known.end(), {"url", "api_key", "api_key_file", "poll_interval", "timeout",
                                 "decision_types"});
    } else {
      known.push_back("path");
    }
    for (const auto& [k, v] : keys) {
      if (std::find(known.begin(), known.end(), k) == known.end()) {
        std::string list;
        for (std::string_view n : known)
          list += (list.empty() ? "" : ", ") + std::string(n);
        bad(key_of(k), "unknown key for a " + s.type + " source (known: " + list + ")");
      }
    }
    if (auto v = find("action")) {
      s.action = std::string(support::trim(*v));
      if (s.action.empty()) bad(key_of("action"), "empty");
    }
    if (auto v = find("label")) s.label = std::string(*v);
    if (auto v = find("score")) {
      std::int32_t score = 0;
      const std::string_view t = support::trim(*v);
      const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), score);
      if (ec != std::errc() || end != t.data() + t.size())
        bad(key_of("score"), "'" + std::string(t) + "' is not a 32-bit integer");
      s.score = score;
    }
    if (crowdsec) {
      const auto url = find("url");
      if (!url) bad(key_of("url"), "missing (the local API, e.g. \"http://127.0.0.1:8080/\")");
      s.url = std::string(support::trim(*url));
      const auto key = find("api_key");
      const auto key_file = find("api_key_file");
      if (key && key_file) bad(key_of("api_key"), "give api_key or api_key_file, not both");
      if (key) s.api_key = std::string(support::trim(*key));
      if (key_file) {
        try {
          s.api_key = std::string(support::trim(support::read_file(std::string(*key_file))));
          while (!s.api_key.empty() && s.api_key.back() == '\n')
            s.api_key.pop_back();
        } catch (const std::exception& e) {
          bad(key_of("api_key_file"), e.what());
        }
      }
      if (s.api_key.empty()) bad(key_of("api_key"), "missing (cscli bouncers add NAME prints one)");
      if (auto v = find("poll_interval"))
        s.poll_interval = duration_of(key_of("poll_interval"), *v);
      if (auto v = find("timeout")) s.timeout = duration_of(key_of("timeout"), *v);
      if (auto v = find("decision_types"))
        for (std::string_view t : spoa::Config::split_list(*v))
          s.decision_types.emplace(t);
    } else {
      const auto path = find("path");
      if (!path || support::trim(*path).empty()) bad(key_of("path"), "missing (the list file)");
      s.path = std::string(support::trim(*path));
    }
    config.sources.push_back(std::move(s));
  }
  return config;
}

}  // namespace spoa::iprep
