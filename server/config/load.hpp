#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/diagnostic.hpp"
#include "config/settings.hpp"

namespace spoa::config {

struct LoadOptions {
  // Where bare plugin names ("echo.so") are looked up when neither --plugin-dir nor
  // server.plugin_dir says otherwise: the install's plugin directory.
  std::string default_plugin_dir;
  // --plugin-dir: wins over server.plugin_dir. Relative to the working directory.
  std::optional<std::string> plugin_dir_override;
};

struct LoadResult {
  // Set if and only if `errors` is empty.
  std::optional<Config> config;
  // Every problem found, in file order. After a TOML syntax error there is only that one,
  // since nothing after it can be trusted.
  std::vector<Diagnostic> errors;
};

// Reads, validates and resolves a config file: paths made absolute, plugin files checked to
// exist, message names checked to be claimed once. Never throws for a bad file.
LoadResult load_config(const std::string& file, const LoadOptions& options);

// A [plugins.NAME.config] table written alone as TOML text, as load_config would hand it
// to a plugin: the flat key/value view and the typed tree. For plugin test harnesses (the
// fake host) and tools. `file` names the text in locations. nullopt with the problems in
// `errors` if the text is not valid TOML.
struct PluginConfigText {
  std::vector<std::pair<std::string, std::string>> flat;
  ConfigNode tree;
};
std::optional<PluginConfigText> parse_plugin_config(const std::string& text,
                                                    const std::string& file,
                                                    std::vector<Diagnostic>& errors);

}  // namespace spoa::config
