#include "decision_stream.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace spoa::iprep::crowdsec {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string string_field(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return {};
  if (!it->is_string())
    throw std::runtime_error(std::string("decision field '") + key + "' is not a string");
  return it->get<std::string>();
}

Decision parse_decision(const nlohmann::json& j, Clock::time_point received) {
  if (!j.is_object()) throw std::runtime_error("a decision is not a JSON object");
  Decision d;
  if (const auto it = j.find("id"); it != j.end() && it->is_number_integer())
    d.id = it->get<std::int64_t>();
  d.type = string_field(j, "type");
  d.scope = string_field(j, "scope");
  d.value = string_field(j, "value");
  d.scenario = string_field(j, "scenario");
  d.origin = string_field(j, "origin");
  const std::string duration = string_field(j, "duration");
  const auto left = parse_go_duration(duration);
  if (!left && !duration.empty())
    throw std::runtime_error("decision " + std::to_string(d.id) + ": duration '" + duration +
                             "' is not a Go duration");
  d.expires = received + std::chrono::duration_cast<Clock::duration>(
                             left.value_or(std::chrono::nanoseconds(0)));
  if (duration.empty()) d.expires = Clock::time_point::max();
  if (iequals(d.scope, "ip") || iequals(d.scope, "range")) d.prefix = Prefix::parse(d.value);
  return d;
}

void parse_list(const nlohmann::json& root, const char* key, Clock::time_point received,
                std::vector<Decision>& out, std::size_t& skipped) {
  const auto it = root.find(key);
  if (it == root.end() || it->is_null()) return;
  if (!it->is_array()) throw std::runtime_error(std::string("'") + key + "' is not an array");
  out.reserve(it->size());
  for (const auto& item : *it) {
    Decision d = parse_decision(item, received);
    if (!d.prefix) {
      ++skipped;
      continue;
    }
    out.push_back(std::move(d));
  }
}

int type_rank(const std::string& type) {
  return type == "ban" ? 0 : 1;
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text) noexcept {
  if (text.empty()) return std::nullopt;
  bool negative = false;
  if (text.front() == '-' || text.front() == '+') {
    negative = text.front() == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return std::chrono::nanoseconds(0);
  long double total = 0;
  while (!text.empty()) {
    std::size_t i = 0;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.'))
      ++i;
    if (i == 0) return std::nullopt;
    long double number = 0;
    {
      long double scale = 0;
      for (std::size_t k = 0; k < i; ++k) {
        if (text[k] == '.') {
          if (scale != 0) return std::nullopt;
          scale = 1;
          continue;
        }
        if (scale == 0) {
          number = number * 10 + (text[k] - '0');
        } else {
          scale /= 10;
          number += (text[k] - '0') * scale;
        }
      }
    }
    text.remove_prefix(i);
    std::size_t u = 0;
    while (u < text.size() && !((text[u] >= '0' && text[u] <= '9') || text[u] == '.'))
      ++u;
    const std::string_view unit = text.substr(0, u);
    text.remove_prefix(u);
    long double ns = 0;
    if (unit == "h")
      ns = 3600e9L;
    else if (unit == "m")
      ns = 60e9L;
    else if (unit == "s")
      ns = 1e9L;
    else if (unit == "ms")
      ns = 1e6L;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      ns = 1e3L;
    else if (unit == "ns")
      ns = 1;
    else
      return std::nullopt;
    total += number * ns;
    if (total > 9.2e18L) return std::nullopt;
  }
  const auto count = static_cast<std::int64_t>(total);
  return std::chrono::nanoseconds(negative ? -count : count);
}

StreamUpdate parse_stream(std::string_view body, Clock::time_point received) {
  const nlohmann::json root = nlohmann::json::parse(body, nullptr, false);
  if (root.is_discarded()) throw std::runtime_error("the response is not JSON");
  if (!root.is_object()) throw std::runtime_error("the response is not a JSON object");
  StreamUpdate update;
  parse_list(root, "new", received, update.added, update.skipped);
  parse_list(root, "deleted", received, update.deleted, update.skipped);
  return update;
}

void DecisionStore::replace(const StreamUpdate& full) {
  by_id_.clear();
  for (const Decision& d : full.added)
    if (wanted(d)) by_id_[d.id] = d;
}

void DecisionStore::erase(const Decision& d) {
  if (by_id_.erase(d.id) != 0) return;
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    const Decision& k = it->second;
    if (k.type == d.type && iequals(k.scope, d.scope) && k.prefix == d.prefix)
      it = by_id_.erase(it);
    else
      ++it;
  }
}

void DecisionStore::apply(const StreamUpdate& delta) {
  // Deletions first: one pull can carry a decision's deletion and its replacement
  // (a re-ban of the same address under a new id).
  for (const Decision& d : delta.deleted)
    erase(d);
  for (const Decision& d : delta.added)
    if (wanted(d)) by_id_[d.id] = d;
}

void DecisionStore::expire(Clock::time_point now) {
  for (auto it = by_id_.begin(); it != by_id_.end();) {
    if (it->second.expires <= now)
      it = by_id_.erase(it);
    else
      ++it;
  }
}

std::shared_ptr<SourceData> DecisionStore::build(Clock::time_point now) const {
  std::vector<const Decision*> live;
  live.reserve(by_id_.size());
  for (const auto& [id, d] : by_id_)
    if (d.expires > now) live.push_back(&d);
  // PrefixTable keeps the first entry of a network: put the winner first.
  std::stable_sort(live.begin(), live.end(), [](const Decision* a, const Decision* b) {
    if (type_rank(a->type) != type_rank(b->type)) return type_rank(a->type) < type_rank(b->type);
    return a->expires > b->expires;
  });
  auto data = std::make_shared<SourceData>();
  std::vector<PrefixTable::Entry> entries;
  entries.reserve(live.size());
  data->attributes.reserve(live.size());
  for (const Decision* d : live) {
    Attributes a;
    a.label = data->strings.intern(d->scenario);
    a.action = data->strings.intern(d->type);
    a.expires = d->expires;
    entries.push_back({*d->prefix, static_cast<std::uint32_t>(data->attributes.size())});
    data->attributes.push_back(a);
  }
  data->entries = live.size();
  data->table = PrefixTable::build(std::move(entries));
  return data;
}

}  // namespace spoa::iprep::crowdsec
