#include "config/command_line.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <vector>

namespace spoa::config {
namespace {

CommandLineResult parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"spoa-host"};
  argv.insert(argv.end(), args.begin(), args.end());
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

CommandLine parse_ok(std::initializer_list<const char*> args) {
  CommandLineResult result = parse(args);
  EXPECT_EQ(result.error, "");
  EXPECT_TRUE(result.command_line.has_value());
  return result.command_line.value_or(CommandLine{});
}

std::string parse_error(std::initializer_list<const char*> args) {
  const CommandLineResult result = parse(args);
  EXPECT_FALSE(result.command_line.has_value());
  EXPECT_FALSE(result.help_text.empty());
  return result.error;
}

TEST(CommandLine, Defaults) {
  const CommandLine command_line = parse_ok({});
  EXPECT_EQ(command_line.config_file, "/etc/spoa-host/spoa-host.toml");
  EXPECT_FALSE(command_line.check_config);
  EXPECT_FALSE(command_line.show_version);
  EXPECT_FALSE(command_line.show_help);
  EXPECT_TRUE(command_line.listen.empty());
  EXPECT_FALSE(command_line.threads);
  EXPECT_FALSE(command_line.log_level);
  EXPECT_FALSE(command_line.plugin_dir);
  EXPECT_FALSE(command_line.test_message);
  EXPECT_TRUE(command_line.test_args.empty());
}

TEST(CommandLine, ConfigFileShortAndLong) {
  EXPECT_EQ(parse_ok({"-c", "/tmp/a.toml"}).config_file, "/tmp/a.toml");
  EXPECT_EQ(parse_ok({"--config", "/tmp/b.toml"}).config_file, "/tmp/b.toml");
  EXPECT_EQ(parse_ok({"--config=/tmp/c.toml"}).config_file, "/tmp/c.toml");
}

TEST(CommandLine, Switches) {
  EXPECT_TRUE(parse_ok({"--check-config"}).check_config);
  EXPECT_TRUE(parse_ok({"--version"}).show_version);
  EXPECT_TRUE(parse_ok({"--help"}).show_help);
  EXPECT_TRUE(parse_ok({"-h"}).show_help);
}

TEST(CommandLine, HelpTextListsEveryOption) {
  const std::string help = parse_ok({"--help"}).help_text;
  for (const char* option : {"--config", "--check-config", "--listen", "--threads", "--log-level",
                             "--plugin-dir", "--test", "--version", "--help"}) {
    EXPECT_NE(help.find(option), std::string::npos) << option;
  }
  EXPECT_EQ(help.find("test-arg"), std::string::npos);
}

TEST(CommandLine, ListenIsRepeatable) {
  EXPECT_EQ(parse_ok({"--listen", "127.0.0.1:1", "--listen=[::1]:2", "--listen", "unix:/s"}).listen,
            (std::vector<std::string>{"127.0.0.1:1", "[::1]:2", "unix:/s"}));
}

TEST(CommandLine, ValuedOptions) {
  const CommandLine command_line =
      parse_ok({"--threads", "8", "--log-level", "debug", "--plugin-dir", "/opt/plugins"});
  EXPECT_EQ(command_line.threads, 8u);
  EXPECT_EQ(command_line.log_level, "debug");
  EXPECT_EQ(command_line.plugin_dir, "/opt/plugins");
}

TEST(CommandLine, TestMessageWithArguments) {
  const CommandLine command_line =
      parse_ok({"--test", "echo", "ip=ipv4:192.0.2.1", "=string:x", "v6=ipv6:2001:db8::1",
                "eq=string:a=b", "nothing=null", "n=null:", "neg=int32:-5", "empty=string:"});
  EXPECT_EQ(command_line.test_message, "echo");
  EXPECT_EQ(command_line.test_args, (std::vector<TestArg>{
                                        {"ip", "ipv4", "192.0.2.1"},
                                        {"", "string", "x"},
                                        {"v6", "ipv6", "2001:db8::1"},
                                        {"eq", "string", "a=b"},
                                        {"nothing", "null", ""},
                                        {"n", "null", ""},
                                        {"neg", "int32", "-5"},
                                        {"empty", "string", ""},
                                    }));
}

TEST(CommandLine, TestArgumentsMayFollowOtherOptions) {
  const CommandLine command_line =
      parse_ok({"a=bool:true", "--test", "check", "-c", "x.toml", "b=uint64:1"});
  EXPECT_EQ(command_line.config_file, "x.toml");
  EXPECT_EQ(command_line.test_args,
            (std::vector<TestArg>{{"a", "bool", "true"}, {"b", "uint64", "1"}}));
}

TEST(CommandLine, EveryTestTypeIsAccepted) {
  for (const std::string_view type : test_arg_types) {
    const std::string arg = "x=" + std::string(type) + ":1";
    EXPECT_EQ(parse_ok({"--test", "m", arg.c_str()}).test_args.at(0).type, type);
  }
}

TEST(CommandLine, RejectsUnknownOption) {
  EXPECT_EQ(parse_error({"--bogus"}), "unrecognised option '--bogus'");
}

TEST(CommandLine, RejectsAbbreviatedOption) {
  EXPECT_EQ(parse_error({"--check"}), "unrecognised option '--check'");
}

TEST(CommandLine, RejectsMissingValue) {
  EXPECT_EQ(parse_error({"--threads"}), "the required argument for option '--threads' is missing");
}

TEST(CommandLine, RejectsRepeatedSingleOption) {
  EXPECT_EQ(parse_error({"-c", "a", "-c", "b"}),
            "option '--config' cannot be specified more than once");
}

TEST(CommandLine, RejectsBadThreads) {
  EXPECT_EQ(parse_error({"--threads", "x"}),
            "--threads: expected a number from 0 to 1024 (0 = one per CPU), got \"x\"");
  EXPECT_EQ(parse_error({"--threads", "-1"}),
            "--threads: expected a number from 0 to 1024 (0 = one per CPU), got \"-1\"");
  EXPECT_EQ(parse_error({"--threads", "1025"}),
            "--threads: expected a number from 0 to 1024 (0 = one per CPU), got \"1025\"");
  EXPECT_EQ(parse_error({"--threads", "4x"}),
            "--threads: expected a number from 0 to 1024 (0 = one per CPU), got \"4x\"");
}

TEST(CommandLine, RejectsBadLogLevel) {
  EXPECT_EQ(parse_error({"--log-level", "verbose"}),
            "--log-level: expected trace, debug, info, warn or error, got \"verbose\"");
}

TEST(CommandLine, RejectsBadListen) {
  EXPECT_EQ(parse_error({"--listen", "127.0.0.1:1", "--listen", "12345"}),
            "--listen: expected HOST:PORT, [IPV6]:PORT or unix:/path, got \"12345\"");
}

TEST(CommandLine, RejectsEmptyPluginDir) {
  EXPECT_EQ(parse_error({"--plugin-dir", ""}),
            "--plugin-dir: expected a directory, got an empty string");
}

TEST(CommandLine, RejectsPositionalArgumentsWithoutTest) {
  EXPECT_EQ(parse_error({"x=int32:1"}),
            "unexpected argument \"x=int32:1\"; NAME=TYPE:VALUE arguments follow --test MESSAGE");
}

TEST(CommandLine, RejectsEmptyTestMessage) {
  EXPECT_EQ(parse_error({"--test", ""}), "--test: expected a message name, got an empty string");
}

TEST(CommandLine, RejectsMalformedTestArgument) {
  const std::string expected =
      "--test: expected arguments as NAME=TYPE:VALUE (e.g. ip=ipv4:192.0.2.1, or =string:x "
      "for an unnamed one), got ";
  EXPECT_EQ(parse_error({"--test", "m", "ip"}), expected + "\"ip\"");
  EXPECT_EQ(parse_error({"--test", "m", "ip=ipv4"}), expected + "\"ip=ipv4\"");
  EXPECT_EQ(parse_error({"--test", "m", "ip=:1.2.3.4"}), expected + "\"ip=:1.2.3.4\"");
}

TEST(CommandLine, RejectsUnknownTestType) {
  EXPECT_EQ(parse_error({"--test", "m", "n=int:5"}),
            "--test: unknown type \"int\" in \"n=int:5\"; expected one of null, bool, int32, "
            "uint32, int64, uint64, ipv4, ipv6, string, binary");
}

// --- apply_overrides ------------------------------------------------------------------------

Config loaded_config() {
  Config config;
  std::string error;
  config.server.listen = {*parse_listen_address("127.0.0.1:12345", error)};
  config.server.threads = 2;
  config.log.level = LogLevel::warn;
  return config;
}

TEST(ApplyOverrides, NothingGivenChangesNothing) {
  Config config = loaded_config();
  EXPECT_TRUE(apply_overrides(parse_ok({}), config).empty());
  ASSERT_EQ(config.server.listen.size(), 1u);
  EXPECT_EQ(config.server.listen[0].text, "127.0.0.1:12345");
  EXPECT_EQ(config.server.threads, 2u);
  EXPECT_EQ(config.log.level, LogLevel::warn);
}

TEST(ApplyOverrides, ListenReplacesTheWholeList) {
  Config config = loaded_config();
  EXPECT_TRUE(apply_overrides(parse_ok({"--listen", "[::1]:9", "--listen", "unix:/run/s"}), config)
                  .empty());
  ASSERT_EQ(config.server.listen.size(), 2u);
  EXPECT_EQ(config.server.listen[0].host, "::1");
  EXPECT_EQ(config.server.listen[0].port, 9);
  EXPECT_EQ(config.server.listen[1].path, "/run/s");
}

TEST(ApplyOverrides, ThreadsAndLogLevel) {
  Config config = loaded_config();
  EXPECT_TRUE(
      apply_overrides(parse_ok({"--threads", "0", "--log-level", "trace"}), config).empty());
  EXPECT_EQ(config.server.threads, 0u);
  EXPECT_EQ(config.log.level, LogLevel::trace);
}

TEST(ApplyOverrides, BadValuesAreAllReportedAndNothingChanges) {
  Config config = loaded_config();
  CommandLine command_line;
  command_line.listen = {"127.0.0.1:80", "nowhere"};
  command_line.threads = 5000;
  command_line.log_level = "loud";
  EXPECT_EQ(apply_overrides(command_line, config),
            (std::vector<std::string>{
                "--listen: expected HOST:PORT, [IPV6]:PORT or unix:/path, got \"nowhere\"",
                "--threads: expected a number from 0 to 1024 (0 = one per CPU), got 5000",
                "--log-level: expected trace, debug, info, warn or error, got \"loud\"",
            }));
  EXPECT_EQ(config.server.listen.at(0).text, "127.0.0.1:12345");
  EXPECT_EQ(config.server.threads, 2u);
  EXPECT_EQ(config.log.level, LogLevel::warn);
}

}  // namespace
}  // namespace spoa::config
