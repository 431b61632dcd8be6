#include "metrics/names.hpp"

namespace spoa::metrics {

uint32_t SeriesNames::plugin(std::string_view instance) {
  std::lock_guard lock(mutex_);
  if (const auto it = plugin_ids_.find(instance); it != plugin_ids_.end()) return it->second;
  if (plugins_.size() >= max_plugin_series) return no_series;
  const auto id = static_cast<uint32_t>(plugins_.size());
  plugins_.emplace_back(instance);
  plugin_ids_.emplace(std::string(instance), id);
  return id;
}

uint32_t SeriesNames::message(std::string_view instance, std::string_view message) {
  const uint32_t plugin_id = plugin(instance);
  if (plugin_id == no_series) return no_series;
  std::lock_guard lock(mutex_);
  auto key = std::make_pair(plugin_id, std::string(message));
  if (const auto it = message_ids_.find(key); it != message_ids_.end()) return it->second;
  if (messages_.size() >= max_message_series) return no_series;
  const auto id = static_cast<uint32_t>(messages_.size());
  messages_.push_back({plugin_id, key.second});
  message_ids_.emplace(std::move(key), id);
  return id;
}

std::vector<std::string> SeriesNames::plugins() const {
  std::lock_guard lock(mutex_);
  return plugins_;
}

std::vector<SeriesNames::Message> SeriesNames::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

SeriesNames& series_names() {
  static SeriesNames names;
  return names;
}

}  // namespace spoa::metrics
