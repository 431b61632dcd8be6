// ABI 1.1 through the real spoa-host binary: the version rule, the 1.0 layout for plugins
// built against the previous release's header, request context, structured config,
// plugin metrics, the abandonment notice, and every late call from a plugin thread
// refused and logged with the plugin's and the message's names.
#include <gtest/gtest.h>

#include <spoa/plugin.h>

#include "host_process.hpp"
#include "support/process.hpp"

namespace spoa::host_test {
namespace {

std::string probe(const std::vector<std::string>& messages, const std::string& keys = "",
                  const std::string& config = "") {
  return plugin_table("probe", SPOA_TEST_PLUGIN_PROBE, messages, keys, config);
}

std::string late(const std::string& call, const std::string& status) {
  return "spoa_plugin_probe_late_calls_total{plugin=\"probe\",call=\"" + call + "\",status=\"" +
         status + "\"}";
}

// `spoa-host --test` with a config holding `plugins`; exit status and stderr.
struct TestRun {
  int status;
  std::string out;
  std::string err;
};
TestRun run_test_mode(const std::string& plugins, const std::vector<std::string>& args) {
  test::TempDir dir;
  const std::string file =
      dir.write("spoa-host.toml", "[server]\nlisten = [\"127.0.0.1:0\"]\n" + plugins);
  std::vector<std::string> all{"-c", file, "--plugin-dir", SPOA_BUILD_PLUGIN_DIR};
  all.insert(all.end(), args.begin(), args.end());
  const test::RunResult result = test::run(test::spoa_host_binary(), all, startup_timeout);
  return {result.status.value_or(-1), result.out, result.err};
}

// ---- versions --------------------------------------------------------------------------

TEST(AbiVersions, APluginRequiringMinorZeroBuiltWithThe11SdkLoads) {
  // example-c declares abi_minor 0 and is compiled against this (1.1) header.
  const TestRun run = run_test_mode(plugin_table("example", SPOA_PLUGIN_EXAMPLE_C, {"example"}),
                                    {"--test", "example", "ip=ipv4:10.0.0.1"});
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_NE(run.out.find("set-var txn.greeting string \"hello\""), std::string::npos) << run.out;
}

TEST(AbiVersions, APluginRequiringANewerMinorIsRefusedSayingWhichVersions) {
  const TestRun run =
      run_test_mode(plugin_table("newer", SPOA_TEST_PLUGIN_NEWER_MINOR, {"x"}), {"--check-config"});
  EXPECT_EQ(run.status, 1);
  const std::string wanted = "plugin requires ABI 1." + std::to_string(SPOA_ABI_MINOR + 1) +
                             ", newer than this host's ABI 1." + std::to_string(SPOA_ABI_MINOR);
  EXPECT_NE(run.err.find(wanted), std::string::npos) << run.err;
}

TEST(AbiVersions, APluginBuiltAgainstThe10HeaderGetsThe10ArgumentLayout) {
  HostProcess host({.plugins = plugin_table("old", SPOA_TEST_PLUGIN_ECHO_1_0, {"old"})});
  const std::string text = "a string long enough to be past any small-string buffer";
  const Ack ack = host.ask({"old",
                            {{"first", spop::Value::int64(-5)},
                             {"second", spop::Value::string(text)},
                             {"third", spop::Value::ipv4(std::string_view("\x0a\x00\x00\x01", 4))},
                             {"fourth", spop::Value::uint32(7)}}});
  ASSERT_EQ(ack.actions.size(), 4u) << ack.describe();
  EXPECT_EQ(int_of(ack, "first"), -5);
  EXPECT_EQ(string_of(ack, "second"), text);
  EXPECT_EQ(string_of(ack, "third"), std::string("\x0a\x00\x00\x01", 4));
  EXPECT_EQ(int_of(ack, "fourth"), 7);
}

// ---- request context -------------------------------------------------------------------

TEST(RequestContext, AHandlerSeesItsStreamFrameEngineIdPeerAndDeadline) {
  HostProcess host({.processing = "3s", .plugins = probe({"context"})});
  SpopClient client = host.connect();
  spop::HelloOptions hello;
  hello.engine_id = "engine-42";
  client.handshake(hello);
  client.send_notify(77, 5, {{"context", {}}});
  const Ack ack = client.expect_ack(10s);
  EXPECT_EQ(int_of(ack, "stream_id"), 77);
  EXPECT_EQ(int_of(ack, "frame_id"), 5);
  EXPECT_EQ(string_of(ack, "engine_id"), "engine-42");
  EXPECT_EQ(string_of(ack, "peer").rfind("127.0.0.1:", 0), 0u) << string_of(ack, "peer");
  const int64_t left = int_of(ack, "deadline_left_ms");
  EXPECT_GT(left, 0);
  EXPECT_LE(left, 3000);
  EXPECT_EQ(int_of(ack, "pool"), 0);
  EXPECT_EQ(string_of(ack, "instance"), "probe");
}

TEST(RequestContext, APoolHandlerSeesThePoolFlag) {
  HostProcess host({.plugins = probe({"context"}, "execution = \"pool\"\npool_threads = 2")});
  const Ack ack = host.ask({"context", {}});
  EXPECT_EQ(int_of(ack, "pool"), 1) << ack.describe();
  EXPECT_EQ(int_of(ack, "stream_id"), 1);
}

// ---- structured config -----------------------------------------------------------------

TEST(StructuredConfig, ArraysOfTablesNestedTablesAndTypedValuesReachThePlugin) {
  const std::string config =
      "limits = { per_second = 250 }\n"
      "[[plugins.probe.config.feeds]]\n"
      "url = \"https://a.example/list\"\nweight = 3\nratio = 0.5\nenabled = true\n"
      "[[plugins.probe.config.feeds]]\n"
      "url = \"file:///var/lib/b, with a comma\"\nweight = -1\n";
  HostProcess host({.plugins = probe({"config"}, "", config)});
  const Ack ack = host.ask({"config", {}});
  const std::string summary = string_of(ack, "summary");
  EXPECT_NE(summary.find("feeds=2;feeds[0].url=https://a.example/list;weight=3;ratio=0.500000;"
                         "enabled=true;feeds[1].url=file:///var/lib/b, with a comma;weight=-1"),
            std::string::npos)
      << summary;
  // The value's place, as FILE:LINE:COL, for the plugin's own error messages.
  EXPECT_NE(summary.find("limits.per_second=250@" + host.host().config_file() + ":"),
            std::string::npos)
      << summary;
}

TEST(StructuredConfig, AWrongTypeFailsStartNamingFileLineAndColumn) {
  const TestRun run =
      run_test_mode(probe({"config"}, "", "must_be_string = 5"), {"--check-config"});
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.err.find("init failed: "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("spoa-host.toml:8:"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("must_be_string: expected a string, got an integer"), std::string::npos)
      << run.err;
}

// ---- plugin metrics --------------------------------------------------------------------

TEST(PluginMetrics, CountersAndHistogramsAreExportedUnderTheInstanceName) {
  HostProcess host({.plugins = probe({"count"})});
  for (const auto& [result, value] :
       std::vector<std::pair<std::string, int64_t>>{{"hit", 5}, {"hit", 50}, {"miss", 500}}) {
    const Ack ack = host.ask(
        {"count", {{"result", spop::Value::string(result)}, {"value", spop::Value::int64(value)}}});
    EXPECT_EQ(string_of(ack, "status"), "ok");
  }
  const mtest::Scrape s = host.scrape();
  const std::string calls = "spoa_plugin_probe_calls_total{plugin=\"probe\",message=\"count\",";
  EXPECT_EQ(s.get(calls + "result=\"hit\"}"), 2) << s.body;
  EXPECT_EQ(s.get(calls + "result=\"miss\"}"), 1);
  EXPECT_EQ(s.get("spoa_plugin_probe_value_bucket{plugin=\"probe\",le=\"10\"}"), 1);
  EXPECT_EQ(s.get("spoa_plugin_probe_value_bucket{plugin=\"probe\",le=\"100\"}"), 2);
  EXPECT_EQ(s.get("spoa_plugin_probe_value_bucket{plugin=\"probe\",le=\"+Inf\"}"), 3);
  EXPECT_EQ(s.get("spoa_plugin_probe_value_count{plugin=\"probe\"}"), 3);
  EXPECT_EQ(s.get("spoa_plugin_probe_value_sum{plugin=\"probe\"}"), 555);
  EXPECT_EQ(s.get("spoa_plugin_probe_last_value{plugin=\"probe\"}"), 500);
  EXPECT_NE(s.body.find("# TYPE spoa_plugin_probe_calls_total counter"), std::string::npos);
  EXPECT_NE(s.body.find("# TYPE spoa_plugin_probe_last_value gauge"), std::string::npos);
  EXPECT_NE(s.body.find("# TYPE spoa_plugin_probe_value histogram"), std::string::npos);
}

TEST(PluginMetrics, LabelValuesPastMaxSeriesAreRefusedNotExported) {
  HostProcess host({.plugins = probe({"count"})});
  // probe_calls_total allows 4 label combinations.
  std::vector<std::string> statuses;
  for (int i = 0; i < 6; ++i) {
    const std::string result = "r" + std::to_string(i);
    statuses.push_back(
        string_of(host.ask({"count", {{"result", spop::Value::string(result)}}}), "status"));
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"ok", "ok", "ok", "ok", "too big", "too big"}));
  const mtest::Scrape s = host.scrape();
  EXPECT_FALSE(
      s.has("spoa_plugin_probe_calls_total{plugin=\"probe\",message=\"count\",result=\"r4\"}"));
  EXPECT_TRUE(host.wait_for_log("reached its max_series (4)"));
}

// ---- abandonment -----------------------------------------------------------------------

TEST(Abandonment, TheCallbackRunsAtTheDeadlineAndTheLateCompleteIsRefused) {
  HostProcess host({.processing = "300ms", .plugins = probe({"wait_abandon"})});
  const Ack ack = host.ask({"wait_abandon", {}});
  EXPECT_TRUE(ack.actions.empty());
  const mtest::Scrape s = host.scrape_until(
      [](const mtest::Scrape& x) { return x.has(late("complete_after_abandon", "not_allowed")); });
  EXPECT_EQ(s.get("spoa_plugin_probe_abandoned_total{plugin=\"probe\",how=\"callback\"}"), 1)
      << s.body;
  EXPECT_EQ(s.get(late("complete_after_abandon", "not_allowed")), 1);
  EXPECT_TRUE(
      host.wait_for_log("plugin probe: complete() on a request for message \"wait_abandon\" "
                        "that was abandoned by the host"));
}

// ---- late calls ------------------------------------------------------------------------

TEST(LateCalls, EveryCallAfterDoneFromAPluginThreadIsRefusedAndLoggedWithItsNames) {
  HostProcess host({.plugins = probe({"late"})});
  const Ack ack = host.ask({"late", {}});
  EXPECT_TRUE(ack.actions.empty()) << ack.describe();
  const mtest::Scrape s = host.scrape_until(
      [](const mtest::Scrape& x) { return x.has(late("complete", "not_allowed")); });
  EXPECT_EQ(s.get(late("set_var", "not_allowed")), 1) << s.body;
  EXPECT_EQ(s.get(late("unset_var", "not_allowed")), 1);
  EXPECT_EQ(s.get(late("complete", "not_allowed")), 1);
  for (const char* call : {"set_var", "unset_var", "complete"}) {
    EXPECT_TRUE(host.wait_for_log(std::string("plugin probe: ") + call +
                                  "() on a request for message \"late\""))
        << call;
  }
  // The server is unharmed.
  EXPECT_EQ(host.ask({"late", {}}).actions.size(), 0u);
}

TEST(LateCalls, EveryCallAfterCompleteFromAPluginThreadIsRefused) {
  HostProcess host({.plugins = probe({"late_pending"})});
  const Ack ack = host.ask({"late_pending", {}});
  ASSERT_NE(ack.find("before"), nullptr) << ack.describe();
  EXPECT_EQ(ack.find("late"), nullptr);
  const mtest::Scrape s = host.scrape_until(
      [](const mtest::Scrape& x) { return x.has(late("pending_complete", "not_allowed")); });
  EXPECT_EQ(s.get(late("first_complete", "ok")), 1) << s.body;
  EXPECT_EQ(s.get(late("pending_set_var", "not_allowed")), 1);
  EXPECT_EQ(s.get(late("pending_unset_var", "not_allowed")), 1);
  EXPECT_EQ(s.get(late("pending_complete", "not_allowed")), 1);
  EXPECT_TRUE(
      host.wait_for_log("plugin probe: complete() on a request for message \"late_pending\""));
}

}  // namespace
}  // namespace spoa::host_test
