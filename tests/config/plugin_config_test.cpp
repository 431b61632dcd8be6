// [plugins.NAME.config] reaches the plugin as ordered key/value strings.

#include <gtest/gtest.h>

#include "config/load.hpp"
#include "config_files.hpp"

namespace spoa::config {
namespace {

using testing::ConfigFiles;
using testing::echo_plugin;
using Settings = std::vector<std::pair<std::string, std::string>>;
using Lines = std::vector<std::string>;

class PluginConfig : public ConfigFiles {
 protected:
  // Loads echo_plugin followed by `config_table` (which starts on line 4).
  LoadResult load_with(std::string_view config_table) {
    return load(std::string(echo_plugin) + std::string(config_table));
  }

  Settings settings(std::string_view config_table) {
    const LoadResult result = load_with(config_table);
    if (!result.config) {
      ADD_FAILURE() << result.errors.front().to_string();
      return {};
    }
    return result.config->plugins.at(0).settings;
  }
};

TEST_F(PluginConfig, StringsAsTheyAre) {
  EXPECT_EQ(settings("[plugins.echo.config]\nscope = \"txn\"\nempty = ''\nspaced = \" a b \"\n"),
            (Settings{{"scope", "txn"}, {"empty", ""}, {"spaced", " a b "}}));
}

TEST_F(PluginConfig, ScalarsAsTomlWritesThem) {
  EXPECT_EQ(settings("[plugins.echo.config]\n"
                     "count = 42\n"
                     "negative = -7\n"
                     "hex = 0x10\n"
                     "grouped = 1_000\n"
                     "ratio = 1.50\n"
                     "big = 1e3\n"
                     "small = 0.1\n"
                     "enabled = true\n"
                     "disabled = false\n"),
            (Settings{{"count", "42"},
                      {"negative", "-7"},
                      {"hex", "16"},
                      {"grouped", "1000"},
                      {"ratio", "1.5"},
                      {"big", "1000"},
                      {"small", "0.1"},
                      {"enabled", "true"},
                      {"disabled", "false"}}));
}

TEST_F(PluginConfig, DatesAsRfc3339) {
  EXPECT_EQ(settings("[plugins.echo.config]\n"
                     "day = 1979-05-27\n"
                     "at = 1979-05-27T07:32:00Z\n"),
            (Settings{{"day", "1979-05-27"}, {"at", "1979-05-27T07:32:00Z"}}));
}

TEST_F(PluginConfig, KeepsFileOrder) {
  EXPECT_EQ(settings("[plugins.echo.config]\n"
                     "zeta = \"1\"\nalpha = \"2\"\nmid = \"3\"\nbeta = \"4\"\nomega = \"5\"\n"),
            (Settings{{"zeta", "1"}, {"alpha", "2"}, {"mid", "3"}, {"beta", "4"}, {"omega", "5"}}));
}

TEST_F(PluginConfig, NestedTablesBecomeDottedKeys) {
  EXPECT_EQ(settings("[plugins.echo.config]\n"
                     "top = 1\n"
                     "limits = { rate = 10, burst = { size = 20 } }\n"
                     "file.path = \"/etc/list\"\n"
                     "[plugins.echo.config.cache]\n"
                     "ttl = \"5m\"\n"),
            (Settings{{"top", "1"},
                      {"limits.rate", "10"},
                      {"limits.burst.size", "20"},
                      {"file.path", "/etc/list"},
                      {"cache.ttl", "5m"}}));
}

TEST_F(PluginConfig, ArraysOfScalarsAreJoinedWithCommas) {
  EXPECT_EQ(settings("[plugins.echo.config]\n"
                     "networks = [\"10.0.0.0/8\", \"192.168.0.0/16\"]\n"
                     "ports = [80, 443]\n"
                     "mixed = [1, \"two\", true]\n"
                     "none = []\n"),
            (Settings{{"networks", "10.0.0.0/8,192.168.0.0/16"},
                      {"ports", "80,443"},
                      {"mixed", "1,two,true"},
                      {"none", ""}}));
}

TEST_F(PluginConfig, InlineConfigTable) {
  EXPECT_EQ(settings("config = { b = 1, a = 2 }\n"), (Settings{{"b", "1"}, {"a", "2"}}));
}

// Values with no faithful flat form are no error: a 1.0 plugin does not see them in its
// key/value pairs, a 1.1 plugin reads them from the typed tree (host->config()).
TEST_F(PluginConfig, ACommaInsideAnArrayElementIsLeftOutOfTheFlatView) {
  const LoadResult result = load_with("[plugins.echo.config]\nlist = [\"a\", \"b,c\"]\nx = 1\n");
  ASSERT_TRUE(result.config) << messages(result).size();
  const auto& plugin = result.config->plugins.front();
  EXPECT_EQ(plugin.settings, (Settings{{"x", "1"}}));
  const spoa::config::ConfigNode& list = plugin.tree.members.front().value;
  ASSERT_EQ(list.type, spoa::config::ConfigNode::Type::array);
  ASSERT_EQ(list.items.size(), 2u);
  EXPECT_EQ(list.items[1].text, "b,c");
}

TEST_F(PluginConfig, NestedArraysReachOnlyTheTree) {
  const LoadResult result = load_with("[plugins.echo.config]\npairs = [[1, 2], [3, 4]]\n");
  ASSERT_TRUE(result.config);
  const auto& plugin = result.config->plugins.front();
  EXPECT_TRUE(plugin.settings.empty());
  const spoa::config::ConfigNode& pairs = plugin.tree.members.front().value;
  ASSERT_EQ(pairs.items.size(), 2u);
  EXPECT_EQ(pairs.items[1].items[0].integer, 3);
}

TEST_F(PluginConfig, ArraysOfTablesReachTheTreeInFileOrderWithTheirPlaces) {
  const LoadResult result = load_with(
      "[[plugins.echo.config.rule]]\n"
      "deny = \"10.0.0.0/8\"\n"
      "weight = 2.5\n"
      "[[plugins.echo.config.rule]]\n"
      "allow = true\n");
  ASSERT_TRUE(result.config);
  const auto& plugin = result.config->plugins.front();
  EXPECT_TRUE(plugin.settings.empty());
  ASSERT_EQ(plugin.tree.members.size(), 1u);
  EXPECT_EQ(plugin.tree.members[0].key, "rule");
  const spoa::config::ConfigNode& rules = plugin.tree.members[0].value;
  ASSERT_EQ(rules.items.size(), 2u);
  const auto& first = rules.items[0];
  ASSERT_EQ(first.members.size(), 2u);
  EXPECT_EQ(first.members[0].key, "deny");
  EXPECT_EQ(first.members[0].value.text, "10.0.0.0/8");
  EXPECT_EQ(first.members[0].value.line, 5u);
  EXPECT_EQ(first.members[1].value.type, spoa::config::ConfigNode::Type::floating);
  EXPECT_EQ(rules.items[1].members[0].value.boolean, true);
}

TEST_F(PluginConfig, RejectsTwoKeysThatFlattenAlike) {
  const LoadResult result = load_with(
      "[plugins.echo.config]\n"
      "a.b = 1\n"
      "\"a.b\" = 2\n");
  EXPECT_EQ(messages(result),
            Lines{at(6, 9,
                     "plugins.echo.config.\"a.b\": flattens to the key \"a.b\", as "
                     "plugins.echo.config.a.b on line 5 does")});
}

}  // namespace
}  // namespace spoa::config
