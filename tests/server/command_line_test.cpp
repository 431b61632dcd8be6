// spoa-host's command line as scripts see it: exit codes, --version, --help, --check-config
// (design.md "Public contract").
#include <gtest/gtest.h>
#include <spoa/plugin.h>

#include <filesystem>
#include <regex>

#include "support/process.hpp"
#include "support/spoa_host.hpp"
#include "support/temp_dir.hpp"

namespace spoa::test {
namespace {

using namespace std::chrono_literals;

// Bounds a run that hangs; a sanitizer build on a loaded machine needs seconds to start.
constexpr auto run_timeout = 60s;

RunResult spoa_host(const std::vector<std::string>& args) {
  return run(spoa_host_binary(), args, run_timeout);
}

std::string escape_regex(const std::string& text) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(text, special, R"(\$&)");
}

TEST(CommandLine, VersionPrintsTheVersionAndPluginAbi) {
  const RunResult result = spoa_host({"--version"});
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.out, "spoa-host " + project_version() + " (plugin ABI " +
                            std::to_string(SPOA_ABI_MAJOR) + "." + std::to_string(SPOA_ABI_MINOR) +
                            ")\n");
}

TEST(CommandLine, HelpPrintsUsageAndExits0) {
  const RunResult result = spoa_host({"--help"});
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("--check-config"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("--listen"), std::string::npos) << result.out;
}

TEST(CommandLine, MalformedListenExits2NamingTheOptionAndTheText) {
  const RunResult result = spoa_host({"--listen", "nohost-and-no-port"});
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("--listen"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("nohost-and-no-port"), std::string::npos) << result.err;
  // The help follows the error, so the right spelling is on screen.
  EXPECT_NE(result.err.find("--check-config"), std::string::npos) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST(CommandLine, UnknownOptionExits2) {
  const RunResult result = spoa_host({"--no-such-option"});
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("no-such-option"), std::string::npos) << result.err;
}

TEST(CheckConfig, ValidConfigPrintsConfigurationOkAndExits0) {
  TempDir dir;
  const std::string file = dir.write("spoa-host.toml", make_config({"\"127.0.0.1:0\""}));
  const RunResult result = spoa_host({"-c", file, "--check-config"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "configuration OK\n");
}

TEST(CheckConfig, MissingPluginIsReportedAsFileLineColAndExits1) {
  TempDir dir;
  const std::string file = dir.write("spoa-host.toml", make_config({"\"127.0.0.1:0\""}, R"(
[plugins.missing]
path = "/nonexistent/spoa-test/missing.so"
messages = ["check"]
)"));
  const RunResult result = spoa_host({"-c", file, "--check-config"});
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.out, "");
  // Line 5 is the `path = ...` line of the config above.
  const std::regex located("(^|\n)" + escape_regex(file) + ":5:[0-9]+: [^\n]+\n");
  EXPECT_TRUE(std::regex_search(result.err, located)) << result.err;
  EXPECT_NE(result.err.find("missing.so"), std::string::npos) << result.err;
}

TEST(CheckConfig, InitialisesTheEchoPlugin) {
  const std::string echo = build_plugin_dir() + "/echo.so";
  if (!std::filesystem::exists(echo)) GTEST_SKIP() << echo << " is not built";
  TempDir dir;
  const std::string file = dir.write("spoa-host.toml", make_config({"\"127.0.0.1:0\""}, R"(
[plugins.echo]
path = ")" + echo + R"("
messages = ["echo"]
)"));
  const RunResult result = spoa_host({"-c", file, "--check-config"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "configuration OK\n");
}

TEST(Startup, ConfigErrorExits1WithTheDiagnostic) {
  TempDir dir;
  const std::string file = dir.file("does-not-exist.toml");
  const RunResult result = spoa_host({"-c", file});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find(file), std::string::npos) << result.err;
}

}  // namespace
}  // namespace spoa::test
