#pragma once

#include <string>
#include <utility>
#include <vector>

#include "config/detail/toml_reader.hpp"
#include "config/settings.hpp"

namespace spoa::config::detail {

// Flattens a free-form [plugins.NAME.config] table into the key/value strings the plugin
// ABI hands over, in file order (see PluginSettings::settings). Values that have no string
// form, such as arrays of tables, are reported through `reader`.
std::vector<std::pair<std::string, std::string>> flatten_plugin_config(const toml::value& table,
                                                                       std::string_view key_path,
                                                                       TomlReader& reader);

// The same table as a typed tree in file order (PluginSettings::tree). Never fails: every
// TOML value has a place in it.
ConfigNode plugin_config_tree(const toml::value& table);

}  // namespace spoa::config::detail
