#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "config/load.hpp"

namespace spoa::config::testing {

// A fresh folder per test for config files and fake plugins, removed afterwards.
class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "spoa-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir = pattern;
    plugin_dir = dir / "plugins";
    touch("plugins/echo.so");
  }

  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }

  // Writes `text` to `name` under the test folder, creating folders; returns the path.
  std::string write(const std::string& name, std::string_view text) {
    const std::filesystem::path path = dir / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  // A stand-in for a plugin: load_config only checks that the file exists.
  std::string touch(const std::string& name) { return write(name, "not really ELF"); }

  LoadOptions options() const {
    LoadOptions load_options;
    load_options.default_plugin_dir = plugin_dir.string();
    return load_options;
  }

  // Writes `text` as spoa-host.toml and loads it with the test's plugin folder as the
  // built-in plugin directory.
  LoadResult load(std::string_view text) {
    return load_config(write(std::string(config_name), text), options());
  }

  // The diagnostics as an operator reads them.
  static std::vector<std::string> messages(const LoadResult& result) {
    std::vector<std::string> lines;
    for (const Diagnostic& diagnostic : result.errors)
      lines.push_back(diagnostic.to_string());
    return lines;
  }

  // "FILE:LINE:COL: message" for the config file of this test.
  std::string at(size_t line, size_t column, std::string_view message) const {
    return (dir / config_name).string() + ':' + std::to_string(line) + ':' +
           std::to_string(column) + ": " + std::string(message);
  }

  static constexpr std::string_view config_name = "spoa-host.toml";
  std::filesystem::path dir;
  std::filesystem::path plugin_dir;
};

// A plugin section that loads, for tests about something else.
inline constexpr std::string_view echo_plugin =
    "[plugins.echo]\n"
    "path = \"echo.so\"\n"
    "messages = [\"echo\"]\n";

}  // namespace spoa::config::testing
