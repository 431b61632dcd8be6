// A config loads into the settings it says, and every key it leaves out has its default.

#include <gtest/gtest.h>

#include "config/load.hpp"
#include "config_files.hpp"

namespace spoa::config {
namespace {

using namespace std::chrono_literals;
using testing::ConfigFiles;
using testing::echo_plugin;
using Setting = std::pair<std::string, std::string>;

class LoadConfig : public ConfigFiles {};

TEST_F(LoadConfig, ShippedDefaultConfigLoads) {
  const LoadResult result = load_config(SPOA_DEFAULT_CONFIG_FILE, options());
  ASSERT_TRUE(result.config) << messages(result).front();
  const Config& config = *result.config;
  EXPECT_EQ(config.file, SPOA_DEFAULT_CONFIG_FILE);
  ASSERT_EQ(config.server.listen.size(), 1u);
  EXPECT_EQ(config.server.listen[0].text, "127.0.0.1:12345");
  EXPECT_EQ(config.server.threads, 0u);
  EXPECT_EQ(config.server.max_frame_size, 16380u);
  EXPECT_EQ(config.server.capabilities, std::vector<std::string>{"pipelining"});
  EXPECT_EQ(config.timeouts.hello, 5s);
  EXPECT_EQ(config.timeouts.idle, 10min);
  // Below the example spoe.conf's `timeout processing 500ms`, on purpose.
  EXPECT_EQ(config.timeouts.processing, 400ms);
  EXPECT_EQ(config.log.level, LogLevel::info);
  EXPECT_EQ(config.log.target, LogTarget::automatic);
  EXPECT_FALSE(config.metrics.listen);
  ASSERT_EQ(config.plugins.size(), 1u);
  EXPECT_EQ(config.plugins[0].instance, "echo");
  EXPECT_EQ(config.plugins[0].path, (plugin_dir / "echo.so").string());
  EXPECT_EQ(config.plugins[0].messages, std::vector<std::string>{"echo"});
  EXPECT_EQ(config.plugins[0].settings, (std::vector<Setting>{{"scope", "txn"}}));
}

TEST_F(LoadConfig, EmptyFileGivesEveryDefault) {
  const LoadResult result = load("");
  ASSERT_TRUE(result.config);
  EXPECT_TRUE(result.errors.empty());
  const Config& config = *result.config;
  ASSERT_EQ(config.server.listen.size(), 1u);
  EXPECT_EQ(config.server.listen[0].kind, ListenAddress::Kind::tcp);
  EXPECT_EQ(config.server.listen[0].host, "127.0.0.1");
  EXPECT_EQ(config.server.listen[0].port, 12345);
  EXPECT_EQ(config.server.threads, 0u);
  EXPECT_EQ(config.server.max_frame_size, 16380u);
  EXPECT_EQ(config.server.capabilities, std::vector<std::string>{"pipelining"});
  EXPECT_EQ(config.server.max_connections, 10000u);
  EXPECT_EQ(config.server.max_inflight_per_connection, 64u);
  EXPECT_EQ(config.server.plugin_dir, plugin_dir.string());
  EXPECT_EQ(config.timeouts.hello, 5s);
  EXPECT_EQ(config.timeouts.idle, 10min);
  EXPECT_EQ(config.timeouts.processing, 1s);
  EXPECT_EQ(config.log.level, LogLevel::info);
  EXPECT_EQ(config.log.target, LogTarget::automatic);
  EXPECT_FALSE(config.metrics.listen);
  EXPECT_TRUE(config.plugins.empty());
}

TEST_F(LoadConfig, EmptySectionsGiveDefaults) {
  const LoadResult result = load("[server]\n[timeouts]\n[log]\n[metrics]\n[plugins]\n");
  ASSERT_TRUE(result.config);
  EXPECT_EQ(result.config->server.listen.size(), 1u);
  EXPECT_EQ(result.config->timeouts.idle, 10min);
  EXPECT_FALSE(result.config->metrics.listen);
  EXPECT_TRUE(result.config->plugins.empty());
}

TEST_F(LoadConfig, EveryKeyIsRead) {
  touch("plugins/ip.so");
  const LoadResult result = load(
      "[server]\n"
      "listen = [\"0.0.0.0:9000\", \"[::1]:9001\", \"unix:/run/spoa.sock\"]\n"
      "threads = 4\n"
      "max_frame_size = 65536\n"
      "capabilities = [\"async\", \"pipelining\", \"fragmentation\"]\n"
      "max_connections = 500\n"
      "max_inflight_per_connection = 8\n"
      "plugin_dir = \"plugins\"\n"
      "[timeouts]\n"
      "hello = \"2s\"\n"
      "idle = \"1h\"\n"
      "processing = \"250ms\"\n"
      "[log]\n"
      "level = \"debug\"\n"
      "target = \"journal\"\n"
      "[metrics]\n"
      "listen = \"127.0.0.1:9464\"\n"
      "[plugins.reputation]\n"
      "path = \"ip.so\"\n"
      "messages = [\"check-client-ip\", \"check-xff\"]\n"
      "config = { list = \"/etc/spoa-host/deny.txt\" }\n");
  ASSERT_TRUE(result.config) << messages(result).front();
  const Config& config = *result.config;
  ASSERT_EQ(config.server.listen.size(), 3u);
  EXPECT_EQ(config.server.listen[0].host, "0.0.0.0");
  EXPECT_EQ(config.server.listen[0].port, 9000);
  EXPECT_EQ(config.server.listen[1].host, "::1");
  EXPECT_EQ(config.server.listen[2].kind, ListenAddress::Kind::unix_socket);
  EXPECT_EQ(config.server.listen[2].path, "/run/spoa.sock");
  EXPECT_EQ(config.server.threads, 4u);
  EXPECT_EQ(config.server.max_frame_size, 65536u);
  EXPECT_EQ(config.server.capabilities,
            (std::vector<std::string>{"async", "pipelining", "fragmentation"}));
  EXPECT_EQ(config.server.max_connections, 500u);
  EXPECT_EQ(config.server.max_inflight_per_connection, 8u);
  EXPECT_EQ(config.server.plugin_dir, plugin_dir.string());
  EXPECT_EQ(config.timeouts.hello, 2s);
  EXPECT_EQ(config.timeouts.idle, 1h);
  EXPECT_EQ(config.timeouts.processing, 250ms);
  EXPECT_EQ(config.log.level, LogLevel::debug);
  EXPECT_EQ(config.log.target, LogTarget::journal);
  ASSERT_TRUE(config.metrics.listen);
  EXPECT_EQ(config.metrics.listen->port, 9464);
  ASSERT_EQ(config.plugins.size(), 1u);
  const PluginSettings& plugin = config.plugins[0];
  EXPECT_EQ(plugin.instance, "reputation");
  EXPECT_EQ(plugin.path, (plugin_dir / "ip.so").string());
  EXPECT_EQ(plugin.messages, (std::vector<std::string>{"check-client-ip", "check-xff"}));
  EXPECT_EQ(plugin.settings, (std::vector<Setting>{{"list", "/etc/spoa-host/deny.txt"}}));
}

TEST_F(LoadConfig, EmptyCapabilitiesAnnounceNone) {
  const LoadResult result = load("[server]\ncapabilities = []\n");
  ASSERT_TRUE(result.config);
  EXPECT_TRUE(result.config->server.capabilities.empty());
}

TEST_F(LoadConfig, BoundsAreInclusive) {
  const LoadResult low = load(
      "[server]\nthreads = 0\nmax_frame_size = 256\nmax_connections = 1\n"
      "max_inflight_per_connection = 1\n");
  ASSERT_TRUE(low.config) << messages(low).front();
  EXPECT_EQ(low.config->server.max_frame_size, 256u);
  const LoadResult high = load(
      "[server]\nthreads = 1024\nmax_frame_size = 16777215\nmax_connections = 1000000\n"
      "max_inflight_per_connection = 65536\n");
  ASSERT_TRUE(high.config) << messages(high).front();
  EXPECT_EQ(high.config->server.threads, 1024u);
  EXPECT_EQ(high.config->server.max_frame_size, 16777215u);
  EXPECT_EQ(high.config->server.max_connections, 1000000u);
  EXPECT_EQ(high.config->server.max_inflight_per_connection, 65536u);
}

TEST_F(LoadConfig, PluginsKeepFileOrder) {
  const char* names[] = {"zeta", "alpha", "mid", "beta", "omega", "gamma", "a1", "z9"};
  std::string text;
  for (const char* name : names) {
    text +=
        std::string("[plugins.") + name + "]\npath = \"echo.so\"\nmessages = [\"" + name + "\"]\n";
  }
  const LoadResult result = load(text);
  ASSERT_TRUE(result.config) << messages(result).front();
  ASSERT_EQ(result.config->plugins.size(), std::size(names));
  for (size_t i = 0; i < std::size(names); ++i) {
    EXPECT_EQ(result.config->plugins[i].instance, names[i]);
  }
}

TEST_F(LoadConfig, PluginOrderFollowsFirstMentionOfTheInstance) {
  // [plugins.b.config] comes before [plugins.b] itself; b still precedes a.
  const LoadResult result = load(
      "[plugins.b.config]\n"
      "x = 1\n"
      "[plugins.a]\n"
      "path = \"echo.so\"\n"
      "messages = [\"a\"]\n"
      "[plugins.b]\n"
      "path = \"echo.so\"\n"
      "messages = [\"b\"]\n");
  ASSERT_TRUE(result.config) << messages(result).front();
  ASSERT_EQ(result.config->plugins.size(), 2u);
  EXPECT_EQ(result.config->plugins[0].instance, "b");
  EXPECT_EQ(result.config->plugins[1].instance, "a");
}

TEST_F(LoadConfig, PluginLocationsPointIntoTheFile) {
  const LoadResult result = load(
      "[log]\n"
      "level = \"warn\"\n"
      "\n"
      "[plugins.echo]\n"
      "messages = [\"echo\"]\n"
      "  path = \"echo.so\"\n");
  ASSERT_TRUE(result.config) << messages(result).front();
  const PluginSettings& plugin = result.config->plugins.at(0);
  const std::string file = (dir / config_name).string();
  EXPECT_EQ(plugin.location, (Location{file, 4, 1}));
  EXPECT_EQ(plugin.path_location, (Location{file, 6, 10}));
}

TEST_F(LoadConfig, DottedKeysAndInlineTablesWork) {
  const LoadResult result = load(
      "server.threads = 3\n"
      "timeouts = { hello = \"1s\" }\n"
      "plugins.echo = { path = \"echo.so\", messages = [\"echo\"] }\n");
  ASSERT_TRUE(result.config) << messages(result).front();
  EXPECT_EQ(result.config->server.threads, 3u);
  EXPECT_EQ(result.config->timeouts.hello, 1s);
  EXPECT_EQ(result.config->plugins.at(0).instance, "echo");
}

TEST_F(LoadConfig, PluginWithoutConfigTableHasNoSettings) {
  const LoadResult result = load(echo_plugin);
  ASSERT_TRUE(result.config) << messages(result).front();
  EXPECT_TRUE(result.config->plugins.at(0).settings.empty());
}

}  // namespace
}  // namespace spoa::config
