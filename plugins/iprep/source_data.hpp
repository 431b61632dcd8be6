// What one source serves at a time: its prefix table and the attributes its entries carry
// (label, score, action, expiry), built whole by a loader and then published read-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "prefix_table.hpp"

namespace spoa::iprep {

// Interned strings: a million CSV lines with a dozen distinct labels keep a dozen strings.
// Views stay valid while the pool lives (unordered_set nodes never move).
class StringPool {
 public:
  std::string_view intern(std::string_view s) { return *strings_.emplace(s).first; }

 private:
  std::unordered_set<std::string> strings_;
};

struct Attributes {
  std::string_view label;
  std::string_view action;  // empty: the source's own action
  std::int32_t score = 0;
  bool has_score = false;
  // Decisions that end by themselves (CrowdSec durations); time_point::max() = never.
  std::chrono::system_clock::time_point expires = std::chrono::system_clock::time_point::max();
};

struct SourceMatch {
  const Attributes* attributes = nullptr;
  Prefix prefix;
};

struct SourceData {
  PrefixTable table;
  std::vector<Attributes> attributes;  // indexed by the table's values
  StringPool strings;
  std::size_t entries = 0;  // lines or decisions taken (before duplicates merged)

  std::optional<SourceMatch> lookup(const IpAddress& address,
                                    std::chrono::system_clock::time_point now) const noexcept {
    const auto m = table.lookup(address);
    if (!m) return std::nullopt;
    const Attributes& a = attributes[m->value];
    if (now >= a.expires) return std::nullopt;
    return SourceMatch{&a, m->prefix};
  }
};

}  // namespace spoa::iprep
