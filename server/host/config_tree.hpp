#pragma once
// The spoa_config_value tree a plugin walks (plugin.h host->config()), built once per
// instance from its [plugins.NAME.config] table. Plain C structs in storage that never
// moves; the strings point into the instance's own copy of the settings.
#include <spoa/plugin.h>

#include <deque>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace spoa::host {

class ConfigTree {
 public:
  // `node` and `file` must outlive the tree (the PluginInstance owns all three).
  ConfigTree(const config::ConfigNode& node, const std::string& file);
  ConfigTree(const ConfigTree&) = delete;
  ConfigTree& operator=(const ConfigTree&) = delete;

  const spoa_config_value* root() const { return root_; }

 private:
  const spoa_config_value* build(const config::ConfigNode& node);

  const std::string& file_;
  std::deque<spoa_config_value> values_;
  std::deque<std::vector<spoa_config_member>> members_;
  std::deque<std::vector<const spoa_config_value*>> items_;
  const spoa_config_value* root_ = nullptr;
};

}  // namespace spoa::host
