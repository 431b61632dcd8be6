#pragma once

#include <string_view>

namespace spop {

// HELLO lists ("2.0", "pipelining,async") are comma-separated with optional spaces around
// items (spop.md §5). Calls f(item) for each non-empty trimmed item.
template <typename F>
constexpr void for_each_item(std::string_view list, F&& f) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (!item.empty()) f(item);
  }
}

// Exact item match, never a prefix one.
constexpr bool list_contains(std::string_view list, std::string_view wanted) noexcept {
  bool found = false;
  for_each_item(list, [&](std::string_view item) { found = found || item == wanted; });
  return found;
}

}  // namespace spop
