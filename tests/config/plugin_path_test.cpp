// Where a plugin's `path` leads: with a '/', from the config file's folder (or absolute);
// a bare name, from --plugin-dir, else server.plugin_dir, else the built-in directory.

#include <gtest/gtest.h>

#include "config/load.hpp"
#include "config_files.hpp"

namespace spoa::config {
namespace {

using testing::ConfigFiles;

class PluginPath : public ConfigFiles {
 protected:
  // The resolved path of the single plugin in `config_text`, loaded from `config_file`
  // (relative to the test folder).
  std::string resolved(const std::string& config_file, std::string_view config_text,
                       const LoadOptions& load_options) {
    const LoadResult result = load_config(write(config_file, config_text), load_options);
    if (!result.config) {
      ADD_FAILURE() << result.errors.front().to_string();
      return {};
    }
    return result.config->plugins.at(0).path;
  }

  static std::string plugin(std::string_view path) {
    return "[plugins.p]\npath = \"" + std::string(path) + "\"\nmessages = [\"m\"]\n";
  }
};

TEST_F(PluginPath, PathWithSlashIsRelativeToTheConfigFolder) {
  const std::string so = touch("lib/p.so");
  EXPECT_EQ(resolved("etc/spoa-host.toml", plugin("../lib/p.so"), options()), so);
  EXPECT_EQ(resolved("spoa-host.toml", plugin("lib/p.so"), options()), so);
  EXPECT_EQ(resolved("spoa-host.toml", plugin("./lib/p.so"), options()), so);
}

TEST_F(PluginPath, AbsolutePathStaysAsWritten) {
  const std::string so = touch("elsewhere/p.so");
  EXPECT_EQ(resolved("etc/spoa-host.toml", plugin(so), options()), so);
}

TEST_F(PluginPath, BareNameIsLookedUpInTheBuiltInDirectory) {
  EXPECT_EQ(resolved("etc/spoa-host.toml", plugin("echo.so"), options()),
            (plugin_dir / "echo.so").string());
}

TEST_F(PluginPath, BareNameIsNotLookedUpInTheConfigFolder) {
  touch("etc/own.so");
  const LoadResult result = load_config(write("etc/spoa-host.toml", plugin("own.so")), options());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].message, "plugins.p.path: \"own.so\" not found in " +
                                          plugin_dir.string() + " (the built-in plugin directory)");
}

TEST_F(PluginPath, ServerPluginDirIsRelativeToTheConfigFolder) {
  const std::string so = touch("etc/my-plugins/p.so");
  const std::string text = "[server]\nplugin_dir = \"my-plugins\"\n" + plugin("p.so");
  EXPECT_EQ(resolved("etc/spoa-host.toml", text, options()), so);
  const LoadResult result = load_config(write("etc/spoa-host.toml", text), options());
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->server.plugin_dir, (dir / "etc/my-plugins").string());
}

TEST_F(PluginPath, OverrideWinsOverServerPluginDir) {
  const std::string so = touch("override/p.so");
  touch("etc/my-plugins/p.so");
  LoadOptions load_options = options();
  load_options.plugin_dir_override = (dir / "override").string();
  const std::string text = "[server]\nplugin_dir = \"my-plugins\"\n" + plugin("p.so");
  EXPECT_EQ(resolved("etc/spoa-host.toml", text, load_options), so);
}

TEST_F(PluginPath, OverrideWinsOverTheBuiltInDirectory) {
  const std::string so = touch("override/echo.so");
  LoadOptions load_options = options();
  load_options.plugin_dir_override = (dir / "override").string();
  EXPECT_EQ(resolved("spoa-host.toml", plugin("echo.so"), load_options), so);
}

TEST_F(PluginPath, OverrideDoesNotChangePathsWithSlash) {
  const std::string so = touch("lib/p.so");
  LoadOptions load_options = options();
  load_options.plugin_dir_override = (dir / "override").string();
  EXPECT_EQ(resolved("spoa-host.toml", plugin("lib/p.so"), load_options), so);
}

TEST_F(PluginPath, MissingBareNameNamesTheOverride) {
  LoadOptions load_options = options();
  load_options.plugin_dir_override = (dir / "override").string();
  const LoadResult result = load_config(write("spoa-host.toml", plugin("p.so")), load_options);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].message, "plugins.p.path: \"p.so\" not found in " +
                                          (dir / "override").string() + " (--plugin-dir)");
}

TEST_F(PluginPath, MissingBareNameNamesServerPluginDir) {
  std::filesystem::create_directories(dir / "mine");
  const LoadResult result = load_config(
      write("spoa-host.toml", "[server]\nplugin_dir = \"mine\"\n" + plugin("p.so")), options());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].message, "plugins.p.path: \"p.so\" not found in " +
                                          (dir / "mine").string() + " (server.plugin_dir)");
}

TEST_F(PluginPath, MissingServerPluginDirIsFineWhenOverridden) {
  const std::string so = touch("override/p.so");
  LoadOptions load_options = options();
  load_options.plugin_dir_override = (dir / "override").string();
  EXPECT_EQ(resolved("spoa-host.toml", "[server]\nplugin_dir = \"gone\"\n" + plugin("p.so"),
                     load_options),
            so);
}

TEST_F(PluginPath, BareNameWithoutAnyPluginDirectory) {
  const LoadResult result = load_config(write("spoa-host.toml", plugin("p.so")), LoadOptions{});
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].message,
            "plugins.p.path: \"p.so\" is a bare name but no plugin directory is known; set "
            "server.plugin_dir or write a path containing '/'");
}

}  // namespace
}  // namespace spoa::config
