// spoa-fake-host, the command the out-of-tree SDK test uses to check a built plugin.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "fake_host.hpp"
#include "spoa_test_plugins.h"

namespace {

struct CliRun {
  int status;
  std::string out;
};

CliRun run(const std::string& args) {
  const std::string command = std::string(SPOA_FAKE_HOST_CLI) + " " + args + " 2>/dev/null";
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return {-1, ""};
  std::string out;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(FakeHostCli, PrintsOneLinePerActionThenTheResult) {
  const CliRun r =
      run(std::string("--plugin ") + SPOA_PLUGIN_EXAMPLE_C + " --test example ip=ipv4:10.0.0.1");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out,
            "set-var txn.greeting string \"hello\"\nset-var txn.ip_seen bool true\nresult done\n");
}

TEST(FakeHostCli, WaitsForPendingRequests) {
  const CliRun r = run(std::string("--plugin ") + SPOA_PLUGIN_DELAY +
                       " --config delay=20ms --test delay tag=binary:00ff");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "set-var txn.delay_ms int64 20\nset-var txn.tag binary 00ff\nresult done\n");
}

TEST(FakeHostCli, MessagesOptionIsWhatTheInstanceIsGiven) {
  const CliRun r = run(std::string("--plugin ") + SPOA_PLUGIN_ECHO +
                       " --messages echo,second --test second a=int32:7");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "set-var txn.a int32 7\nresult done\n");
}

TEST(FakeHostCli, InitFailureExitsTwo) {
  EXPECT_EQ(
      run(std::string("--plugin ") + SPOA_PLUGIN_ECHO + " --config nope=1 --test echo").status, 2);
}

TEST(FakeHostCli, FailedMessageExitsOneWithNoActions) {
  const CliRun r = run(std::string("--plugin ") + SPOA_TEST_PLUGIN_MISBEHAVE +
                       " --test misbehave mode=string:fail");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.out, "result failed\n");
}

TEST(TestArgSyntax, ParsesEveryType) {
  using spoa::testing::parse_test_arg;
  using V = spoa::testing::TypedValue;
  EXPECT_EQ(parse_test_arg("a=null").value, V::null());
  EXPECT_EQ(parse_test_arg("a=bool:true").value, V::boolean(true));
  EXPECT_EQ(parse_test_arg("a=int32:-5").value, V::int32(-5));
  EXPECT_EQ(parse_test_arg("a=uint32:4294967295").value, V::uint32(4294967295u));
  EXPECT_EQ(parse_test_arg("a=int64:-9223372036854775808").value, V::int64(INT64_MIN));
  EXPECT_EQ(parse_test_arg("a=uint64:18446744073709551615").value, V::uint64(UINT64_MAX));
  EXPECT_EQ(parse_test_arg("a=ipv4:1.2.3.4").value, V::ipv4("1.2.3.4"));
  EXPECT_EQ(parse_test_arg("a=ipv6:::1").value, V::ipv6("::1"));
  EXPECT_EQ(parse_test_arg("a=string:x=y:z").value, V::string("x=y:z"));
  EXPECT_EQ(parse_test_arg("a=string:").value, V::string(""));
  EXPECT_EQ(parse_test_arg("a=binary:00ff").value, V::binary(std::string("\0\xff", 2)));
  EXPECT_EQ(parse_test_arg("=string:unnamed").name, "");
  EXPECT_THROW(parse_test_arg("a=int32:4294967295"), std::invalid_argument);
  EXPECT_THROW(parse_test_arg("a=uint32:-1"), std::invalid_argument);
  EXPECT_THROW(parse_test_arg("a=float:1.5"), std::invalid_argument);
  EXPECT_THROW(parse_test_arg("noequals"), std::invalid_argument);
}

}  // namespace
