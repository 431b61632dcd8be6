// Every problem in a config file is reported as FILE:LINE:COL: message, pointing at the
// offending key or value, naming the key and saying what was expected.

#include <gtest/gtest.h>

#include "config/load.hpp"
#include "config_files.hpp"

namespace spoa::config {
namespace {

using testing::ConfigFiles;
using testing::echo_plugin;
using Lines = std::vector<std::string>;

class ConfigErrors : public ConfigFiles {};

TEST_F(ConfigErrors, ConfigIsAbsentWhenThereAreErrors) {
  const LoadResult result = load("[server]\nthreads = -1\n");
  EXPECT_FALSE(result.config);
  EXPECT_EQ(result.errors.size(), 1u);
}

TEST_F(ConfigErrors, MissingFile) {
  const std::string file = (dir / "nope.toml").string();
  const LoadResult result = load_config(file, options());
  EXPECT_FALSE(result.config);
  EXPECT_EQ(messages(result), Lines{file + ": cannot open: No such file or directory"});
}

TEST_F(ConfigErrors, DirectoryInsteadOfFile) {
  const LoadResult result = load_config(dir.string(), options());
  EXPECT_EQ(messages(result),
            Lines{dir.string() + ": is a directory; expected a TOML config file"});
}

// --- TOML syntax ---------------------------------------------------------------------------

TEST_F(ConfigErrors, SyntaxErrorPointsAtTheFault) {
  const LoadResult result = load(
      "[server]\n"
      "threads = \n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 11,
                     "TOML syntax error: missing value after key-value separator '=' "
                     "(expected value, but got nothing)")});
}

TEST_F(ConfigErrors, SyntaxErrorInsideALine) {
  const LoadResult result = load(
      "[server]\n"
      "\tthreads = 5 5\n");
  EXPECT_EQ(messages(result), Lines{at(2, 14,
                                       "TOML syntax error: invalid line format (expected "
                                       "newline, but got '5'.)")});
}

TEST_F(ConfigErrors, SyntaxErrorOnAnUnclosedTableHeader) {
  const LoadResult result = load("[server\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].where.line, 1u);
  EXPECT_TRUE(result.errors[0].message.starts_with("TOML syntax error: "))
      << result.errors[0].message;
}

TEST_F(ConfigErrors, DuplicateKeyIsReportedAtTheSecondDefinition) {
  const LoadResult result = load(
      "[server]\n"
      "threads = 1\n"
      "threads = 2\n");
  EXPECT_EQ(messages(result), Lines{at(3, 11,
                                       "TOML syntax error: value (\"threads\") already exists. "
                                       "(value defined twice)")});
}

TEST_F(ConfigErrors, SyntaxErrorStopsAfterItself) {
  // The unknown key on line 1 is not reported: nothing is read after a syntax error.
  const LoadResult result = load(
      "bogus = 1\n"
      "a = \"unterminated\n");
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].where.line, 2u);
}

// --- unknown keys -------------------------------------------------------------------------

TEST_F(ConfigErrors, MisspelledSectionSuggestsTheRightOne) {
  const LoadResult result = load(
      "[sever]\n"
      "threads = 4\n");
  EXPECT_EQ(messages(result), Lines{at(1, 2, "sever: unknown key; did you mean server?")});
}

TEST_F(ConfigErrors, UnknownSectionListsTheKnownOnes) {
  const LoadResult result = load(
      "[frontend]\n"
      "x = 1\n");
  EXPECT_EQ(messages(result),
            Lines{at(1, 2,
                     "frontend: unknown key; expected one of server, timeouts, log, metrics, "
                     "plugins")});
}

TEST_F(ConfigErrors, MisspelledKeyInASection) {
  const LoadResult result = load(
      "[server]\n"
      "listen = [\"127.0.0.1:1\"]\n"
      "  thraeds = 4\n");
  EXPECT_EQ(messages(result),
            Lines{at(3, 3, "server.thraeds: unknown key; did you mean server.threads?")});
}

TEST_F(ConfigErrors, UnknownKeyInEachSection) {
  const LoadResult result = load(
      "top = 1\n"
      "[server]\n"
      "port = 1\n"
      "[timeouts]\n"
      "connect = \"1s\"\n"
      "[log]\n"
      "format = \"json\"\n"
      "[metrics]\n"
      "path = \"/metrics\"\n"
      "[plugins.echo]\n"
      "path = \"echo.so\"\n"
      "messages = [\"echo\"]\n"
      "settings = { a = 1 }\n");
  EXPECT_EQ(
      messages(result),
      (Lines{
          at(1, 1, "top: unknown key; expected one of server, timeouts, log, metrics, plugins"),
          at(3, 1,
             "server.port: unknown key; expected one of listen, threads, max_frame_size, "
             "capabilities, max_connections, max_inflight_per_connection, plugin_dir"),
          at(5, 1, "timeouts.connect: unknown key; expected one of hello, idle, processing, write"),
          at(7, 1, "log.format: unknown key; expected one of level, target"),
          at(9, 1, "metrics.path: unknown key; expected one of listen"),
          at(13, 1,
             "plugins.echo.settings: unknown key; expected one of path, messages, config, "
             "execution, pool_threads, pool_queue"),
      }));
}

TEST_F(ConfigErrors, UnknownKeyInAnInlineTable) {
  const LoadResult result = load("log = { level = \"info\", targt = \"auto\" }\n");
  EXPECT_EQ(messages(result), Lines{at(1, 25, "log.targt: unknown key; did you mean log.target?")});
}

TEST_F(ConfigErrors, UnknownDottedKeyPointsAtIt) {
  const LoadResult result = load("server.treads = 4\n");
  EXPECT_EQ(messages(result),
            Lines{at(1, 8, "server.treads: unknown key; did you mean server.threads?")});
}

// --- wrong types --------------------------------------------------------------------------

TEST_F(ConfigErrors, WrongTypeNamesBothTypes) {
  const LoadResult result = load(
      "[server]\n"
      "threads = \"4\"\n"
      "listen = \"127.0.0.1:1\"\n"
      "capabilities = [\"async\", 3]\n"
      "plugin_dir = 5\n"
      "[timeouts]\n"
      "hello = 5\n"
      "[log]\n"
      "level = 3.5\n"
      "[metrics]\n"
      "listen = [\"127.0.0.1:9464\"]\n");
  EXPECT_EQ(messages(result),
            (Lines{
                at(2, 11, "server.threads: expected an integer, got a string"),
                at(3, 10, "server.listen: expected an array of strings, got a string"),
                at(4, 26,
                   "server.capabilities: expected an array of strings, found an integer "
                   "in it"),
                at(5, 14, "server.plugin_dir: expected a string, got an integer"),
                at(7, 9, "timeouts.hello: expected a string, got an integer"),
                at(9, 9, "log.level: expected a string, got a float"),
                at(11, 10, "metrics.listen: expected a string, got an array"),
            }));
}

TEST_F(ConfigErrors, SectionThatIsNotATable) {
  const LoadResult result = load(
      "server = 1\n"
      "log = \"info\"\n");
  EXPECT_EQ(messages(result), (Lines{at(1, 10, "server: expected a table, got an integer"),
                                     at(2, 7, "log: expected a table, got a string")}));
}

// --- ranges -------------------------------------------------------------------------------

TEST_F(ConfigErrors, IntegersOutOfRangeSayTheRange) {
  const LoadResult result = load(
      "[server]\n"
      "threads = 1025\n"
      "max_frame_size = 255\n"
      "max_connections = 0\n"
      "max_inflight_per_connection = 0\n");
  EXPECT_EQ(
      messages(result),
      (Lines{
          at(2, 11, "server.threads: expected an integer from 0 to 1024, got 1025"),
          at(3, 18, "server.max_frame_size: expected an integer from 256 to 16777215, got 255"),
          at(4, 19, "server.max_connections: expected an integer from 1 to 1000000, got 0"),
          at(5, 31,
             "server.max_inflight_per_connection: expected an integer from 1 to 65536, got 0"),
      }));
}

TEST_F(ConfigErrors, FrameSizeAboveTheCeiling) {
  const LoadResult result = load("[server]\nmax_frame_size = 16777216\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 18,
                     "server.max_frame_size: expected an integer from 256 to 16777215, got "
                     "16777216")});
}

TEST_F(ConfigErrors, NegativeThreads) {
  const LoadResult result = load("[server]\nthreads = -1\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 11, "server.threads: expected an integer from 0 to 1024, got -1")});
}

// --- server.listen and metrics.listen -----------------------------------------------------

TEST_F(ConfigErrors, BadListenAddressPointsAtTheElement) {
  const LoadResult result = load(
      "[server]\n"
      "listen = [\"127.0.0.1:1\", \"foo\"]\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 26,
                     "server.listen: expected HOST:PORT, [IPV6]:PORT or unix:/path, got "
                     "\"foo\"")});
}

TEST_F(ConfigErrors, EveryBadListenAddressIsReported) {
  const LoadResult result = load(
      "[server]\n"
      "listen = [\n"
      "  \"::1:80\",\n"
      "  \"127.0.0.1:99999\",\n"
      "  \"unix:run/spoa.sock\",\n"
      "]\n");
  EXPECT_EQ(messages(result),
            (Lines{
                at(3, 3,
                   "server.listen: \"::1:80\": an IPv6 address needs brackets, e.g. "
                   "[::1]:12345"),
                at(4, 3,
                   "server.listen: \"127.0.0.1:99999\": expected a port number from 0 to "
                   "65535 after the last ':', got \"99999\""),
                at(5, 3,
                   "server.listen: \"unix:run/spoa.sock\": expected an absolute socket "
                   "path, e.g. unix:/run/spoa-host.sock"),
            }));
}

TEST_F(ConfigErrors, EmptyListenList) {
  const LoadResult result = load("[server]\nlisten = []\n");
  EXPECT_EQ(messages(result), Lines{at(2, 10,
                                       "server.listen: expected at least one address, e.g. "
                                       "[\"127.0.0.1:12345\"]")});
}

TEST_F(ConfigErrors, SameListenSocketTwice) {
  const LoadResult result = load("[server]\nlisten = [\"*:80\", \"0.0.0.0:80\"]\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 19,
                     "server.listen: \"0.0.0.0:80\" is the same socket as \"*:80\", listed "
                     "before it")});
}

TEST_F(ConfigErrors, BadMetricsAddress) {
  const LoadResult result = load("[metrics]\nlisten = \"9464\"\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 10,
                     "metrics.listen: expected HOST:PORT, [IPV6]:PORT or unix:/path, got "
                     "\"9464\"")});
}

TEST_F(ConfigErrors, MetricsOnAServerSocket) {
  const LoadResult result = load("[metrics]\nlisten = \"127.0.0.1:12345\"\n");
  EXPECT_EQ(
      messages(result),
      Lines{at(2, 10, "metrics.listen: \"127.0.0.1:12345\" is also a server.listen address")});
}

// --- capabilities -------------------------------------------------------------------------

TEST_F(ConfigErrors, UnknownCapability) {
  const LoadResult result = load("[server]\ncapabilities = [\"pipelining\", \"streaming\"]\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 31,
                     "server.capabilities: unknown capability \"streaming\"; expected "
                     "pipelining, async or fragmentation")});
}

TEST_F(ConfigErrors, DuplicateCapability) {
  const LoadResult result = load("[server]\ncapabilities = [\"async\", \"async\"]\n");
  EXPECT_EQ(messages(result), Lines{at(2, 26, "server.capabilities: \"async\" is listed twice")});
}

// --- durations and log --------------------------------------------------------------------

TEST_F(ConfigErrors, DurationWithoutUnit) {
  const LoadResult result = load("[timeouts]\nhello = \"5\"\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 9,
                     "timeouts.hello: missing unit in \"5\": write \"5s\" or \"5ms\" (units: ms, "
                     "s, m, h)")});
}

TEST_F(ConfigErrors, DurationWithUnknownUnit) {
  const LoadResult result = load("[timeouts]\nidle = \"2d\"\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 8, "timeouts.idle: unknown unit \"d\" in \"2d\" (units: ms, s, m, h)")});
}

TEST_F(ConfigErrors, ZeroTimeouts) {
  const LoadResult result = load(
      "[timeouts]\n"
      "hello = \"0s\"\n"
      "idle = \"0ms\"\n"
      "processing = \"0m\"\n");
  EXPECT_EQ(messages(result),
            (Lines{
                at(2, 9, "timeouts.hello: must be longer than 0s"),
                at(3, 8,
                   "timeouts.idle: must be longer than 0s (to keep idle connections open, "
                   "write a long one, e.g. \"24h\")"),
                at(4, 14, "timeouts.processing: must be longer than 0s"),
            }));
}

TEST_F(ConfigErrors, UnknownLogLevelAndTarget) {
  const LoadResult result = load("[log]\nlevel = \"verbose\"\ntarget = \"syslog\"\n");
  EXPECT_EQ(messages(result),
            (Lines{
                at(2, 9, "log.level: expected trace, debug, info, warn or error, got \"verbose\""),
                at(3, 10, "log.target: expected auto, stderr or journal, got \"syslog\""),
            }));
}

// --- plugins ------------------------------------------------------------------------------

TEST_F(ConfigErrors, PluginWithoutPathOrMessages) {
  const LoadResult result = load(
      "[plugins.echo]\n"
      "config = { scope = \"txn\" }\n");
  EXPECT_EQ(messages(result),
            (Lines{
                at(1, 1,
                   "plugins.echo.path: missing; expected the plugin's .so file, e.g. "
                   "path = \"echo.so\""),
                at(1, 1,
                   "plugins.echo.messages: missing; expected the SPOE messages this "
                   "instance answers, e.g. messages = [\"echo\"]"),
            }));
}

TEST_F(ConfigErrors, EmptyMessageList) {
  const LoadResult result = load("[plugins.echo]\npath = \"echo.so\"\nmessages = []\n");
  EXPECT_EQ(messages(result),
            Lines{at(3, 12, "plugins.echo.messages: expected at least one SPOE message name")});
}

TEST_F(ConfigErrors, EmptyMessageName) {
  const LoadResult result = load("[plugins.echo]\npath = \"echo.so\"\nmessages = [\"a\", \"\"]\n");
  EXPECT_EQ(messages(result),
            Lines{at(3, 18, "plugins.echo.messages: a message name cannot be empty")});
}

TEST_F(ConfigErrors, MessagesNotStrings) {
  const LoadResult result = load("[plugins.echo]\npath = \"echo.so\"\nmessages = \"echo\"\n");
  EXPECT_EQ(messages(result),
            Lines{at(3, 12, "plugins.echo.messages: expected an array of strings, got a string")});
}

TEST_F(ConfigErrors, MessageListedTwiceByOneInstance) {
  const LoadResult result =
      load("[plugins.echo]\npath = \"echo.so\"\nmessages = [\"echo\", \"echo\"]\n");
  EXPECT_EQ(messages(result), Lines{at(3, 21, "plugins.echo.messages: \"echo\" is listed twice")});
}

TEST_F(ConfigErrors, MessageClaimedByTwoInstancesIsReportedAtTheSecond) {
  const LoadResult result = load(
      "[plugins.zfirst]\n"
      "path = \"echo.so\"\n"
      "messages = [\"check-ip\", \"echo\"]\n"
      "\n"
      "[plugins.asecond]\n"
      "path = \"echo.so\"\n"
      "messages = [\"other\", \"echo\"]\n");
  EXPECT_EQ(messages(result),
            Lines{at(7, 22,
                     "plugins.asecond.messages: message \"echo\" is already claimed by plugin "
                     "instance \"zfirst\" (line 3); a message goes to exactly one instance")});
}

TEST_F(ConfigErrors, PluginPathNotFoundIsReportedAtThePath) {
  const LoadResult result = load(
      "[plugins.ip]\n"
      "path = \"ip-reputation.so\"\n"
      "messages = [\"ip\"]\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 8,
                     "plugins.ip.path: \"ip-reputation.so\" not found in " + plugin_dir.string() +
                         " (the built-in plugin directory)")});
}

TEST_F(ConfigErrors, RelativePluginPathNotFoundShowsTheResolvedPath) {
  const LoadResult result = load(
      "[plugins.ip]\n"
      "path = \"lib/ip.so\"\n"
      "messages = [\"ip\"]\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 8,
                     "plugins.ip.path: " + (dir / "lib/ip.so").string() +
                         " does not exist (relative paths start from the config file's "
                         "folder)")});
}

TEST_F(ConfigErrors, PluginPathThatIsADirectory) {
  const LoadResult result = load("[plugins.p]\npath = \"./plugins\"\nmessages = [\"p\"]\n");
  EXPECT_EQ(messages(result), Lines{at(2, 8,
                                       "plugins.p.path: " + plugin_dir.string() +
                                           " is a directory; expected the plugin's .so file")});
}

TEST_F(ConfigErrors, EmptyPluginPath) {
  const LoadResult result = load("[plugins.p]\npath = \"\"\nmessages = [\"p\"]\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 8, "plugins.p.path: expected the plugin's .so file, got an empty string")});
}

TEST_F(ConfigErrors, PluginsThatAreNotTables) {
  const LoadResult result = load(
      "[plugins]\n"
      "echo = \"echo.so\"\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 1, "plugins.echo: expected a table [plugins.echo], got a string")});
}

TEST_F(ConfigErrors, PluginsKeyThatIsNotATable) {
  const LoadResult result = load("plugins = [\"echo\"]\n");
  EXPECT_EQ(messages(result), Lines{at(1, 11, "plugins: expected a table, got an array")});
}

TEST_F(ConfigErrors, InstanceNameWithOddCharacters) {
  const LoadResult result = load(
      "[plugins.\"my echo\"]\n"
      "path = \"echo.so\"\n"
      "messages = [\"echo\"]\n");
  EXPECT_EQ(messages(result),
            Lines{at(1, 1,
                     "plugins.\"my echo\": an instance name may hold only letters, digits, '_', "
                     "'-' and '.'")});
}

TEST_F(ConfigErrors, PluginConfigThatIsNotATable) {
  const LoadResult result = load(std::string(echo_plugin) + "config = \"scope=txn\"\n");
  EXPECT_EQ(messages(result),
            Lines{at(4, 10, "plugins.echo.config: expected a table, got a string")});
}

TEST_F(ConfigErrors, ServerPluginDirThatIsNotADirectory) {
  const LoadResult result = load("[server]\nplugin_dir = \"no-such-dir\"\n");
  EXPECT_EQ(messages(result),
            Lines{at(2, 14,
                     "server.plugin_dir: " + (dir / "no-such-dir").string() +
                         " is not a directory (relative paths start from the config file's "
                         "folder)")});
}

// --- all at once --------------------------------------------------------------------------

TEST_F(ConfigErrors, EveryErrorIsReportedInFileOrder) {
  const LoadResult result = load(
      "[sever]\n"                // 1
      "threads = 1\n"            // 2
      "[server]\n"               // 3
      "max_frame_size = 100\n"   // 4
      "threads = \"two\"\n"      // 5
      "[timeouts]\n"             // 6
      "processing = \"0s\"\n"    // 7
      "[plugins.a]\n"            // 8
      "path = \"echo.so\"\n"     // 9
      "messages = [\"m\"]\n"     // 10
      "[plugins.b]\n"            // 11
      "path = \"missing.so\"\n"  // 12
      "messages = [\"m\"]\n");   // 13
  EXPECT_EQ(
      messages(result),
      (Lines{
          at(1, 2, "sever: unknown key; did you mean server?"),
          at(4, 18, "server.max_frame_size: expected an integer from 256 to 16777215, got 100"),
          at(5, 11, "server.threads: expected an integer, got a string"),
          at(7, 14, "timeouts.processing: must be longer than 0s"),
          at(12, 8,
             "plugins.b.path: \"missing.so\" not found in " + plugin_dir.string() +
                 " (the built-in plugin directory)"),
          at(13, 13,
             "plugins.b.messages: message \"m\" is already claimed by plugin instance "
             "\"a\" (line 10); a message goes to exactly one instance"),
      }));
}

}  // namespace
}  // namespace spoa::config
