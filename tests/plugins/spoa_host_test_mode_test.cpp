// The plugins against the real host: `spoa-host --test` runs one NOTIFY through the real
// codec, dispatcher and host function table. Skipped when this build has no spoa-host.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "spoa_test_plugins.h"

namespace {

namespace fs = std::filesystem;

struct HostRun {
  int status = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class SpoaHostTestMode : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef SPOA_HOST_BINARY
    binary_ = SPOA_HOST_BINARY;
#endif
    if (binary_.empty() || !fs::exists(binary_))
      GTEST_SKIP() << "no spoa-host in this build (or not built yet): " << binary_;
    dir_ = fs::temp_directory_path() /
           ("spoa-host-test-mode-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "spoa-host.toml") << R"([plugins.echo]
path = ")" << SPOA_PLUGIN_ECHO << R"("
messages = ["echo", "echo-second"]

[plugins.example]
path = ")" << SPOA_PLUGIN_EXAMPLE_C << R"("
messages = ["example", "example-second"]

[plugins.delay]
path = ")" << SPOA_PLUGIN_DELAY << R"("
messages = ["delay", "delay-second"]
[plugins.delay.config]
delay = "1ms"

[plugins.misbehave]
path = ")" << SPOA_TEST_PLUGIN_MISBEHAVE << R"("
messages = ["misbehave", "misbehave-second"]
)";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  HostRun test(const std::string& message, const std::string& args = "") {
    const fs::path out = dir_ / "out", err = dir_ / "err";
    const std::string command = binary_ + " -c " + (dir_ / "spoa-host.toml").string() + " --test " +
                                message + " " + args + " >" + out.string() + " 2>" + err.string();
    const int status = std::system(command.c_str());
    HostRun r;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  std::string binary_;
  fs::path dir_;
};

TEST_F(SpoaHostTestMode, EchoAnswersASecondClaimedMessageWithoutAMessagesKey) {
  const HostRun r = test("echo-second", "a=string:x n=int64:-1");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "set-var txn.a string \"x\"\nset-var txn.n int64 -1\n") << r.err;
}

TEST_F(SpoaHostTestMode, ExampleCAndDelayAnswerASecondClaimedMessage) {
  const HostRun example = test("example-second", "ip=ipv4:192.0.2.1");
  EXPECT_EQ(example.status, 0) << example.err;
  EXPECT_EQ(example.out, "set-var txn.greeting string \"hello\"\nset-var txn.ip_seen bool true\n")
      << example.err;
  const HostRun delay = test("delay-second", "tag=string:t");
  EXPECT_EQ(delay.status, 0) << delay.err;
  EXPECT_EQ(delay.out, "set-var txn.delay_ms int64 1\nset-var txn.tag string \"t\"\n") << delay.err;
}

TEST_F(SpoaHostTestMode, APluginSeesItsClaimedMessagesInConfigOrder) {
  const HostRun r = test("misbehave-second", "mode=string:claimed");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out,
            "set-var txn.claimed string \"misbehave,misbehave-second\"\n"
            "set-var txn.message string \"misbehave-second\"\n")
      << r.err;
}

TEST_F(SpoaHostTestMode, AHandlerReturningFortyTwoCountsAsFailed) {
  const HostRun r = test("misbehave", "mode=string:bad_return");
  // A failed message is a failed --test: scripts see it in the exit code.
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_NE(r.err.find("(the plugin answered FAILED)"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << r.err;
  EXPECT_NE(r.err.find("returned 42"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("treated as FAILED"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("0 action(s)"), std::string::npos) << r.err;
}

TEST_F(SpoaHostTestMode, CompleteWithFortyTwoCountsAsFailed) {
  const HostRun r = test("misbehave", "mode=string:bad_complete");
  EXPECT_EQ(r.status, 1) << r.err;
  EXPECT_EQ(r.out, "") << r.err;  // txn.before_bad_complete was set, then dropped
  EXPECT_NE(r.err.find("complete(42) returned ok"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("failed; it contributes no actions"), std::string::npos) << r.err;
}

TEST_F(SpoaHostTestMode, ScopesOutOfRangeAreRefused) {
  const HostRun r = test("misbehave", "mode=string:bad_scope");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "set-var txn.bad_scope_refused bool true\n") << r.err;
}

TEST_F(SpoaHostTestMode, ALongVariableNameIsWarnedAbout) {
  // echo sets a variable named after each argument: 52 bytes do not fit txn.<8-byte prefix>.
  const std::string name(52, 'n');
  const HostRun r = test("echo", name + "=string:x");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("warning: variable txn." + name + " (52 bytes) does not reach HAProxy"),
            std::string::npos)
      << r.err;
}

}  // namespace
