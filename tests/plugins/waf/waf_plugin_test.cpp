// waf.so in the fake host: messages in, variables out, through the SDK as spoa-host runs
// it. The engine is the real libmodsecurity with Debian's CRS.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "crs_fixture.hpp"
#include "fake_host.hpp"
#include "header_block.hpp"

namespace {

using namespace std::chrono_literals;
using spoa::testing::FakeHost;
using spoa::testing::RequestRecord;
using spoa::testing::TestArg;
using V = spoa::testing::TypedValue;
using Config = std::vector<std::pair<std::string, std::string>>;

// Only a bound for a hung test, never a pass/fail margin.
constexpr auto generous = 120s;

// req.hdrs_bin of a browser-like request.
std::string binary_headers(std::vector<std::pair<std::string, std::string>> extra = {}) {
  std::vector<spoa::waf::Header> h = {
      {"host", "www.example.com"},
      {"user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"},
      {"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
      {"accept-language", "en-US,en;q=0.5"}};
  for (auto& [name, value] : extra)
    h.push_back({name, value});
  return spoa::waf::encode_binary_headers(h);
}

std::vector<TestArg> request_args(const std::string& path, std::string method = "GET",
                                  std::string body = "", std::string content_type = "") {
  std::vector<std::pair<std::string, std::string>> extra;
  if (!content_type.empty()) {
    extra.push_back({"content-type", content_type});
    extra.push_back({"content-length", std::to_string(body.size())});
  }
  return {{"id", V::string("uid-1")},
          {"src_ip", V::ipv4("192.0.2.10")},
          {"src_port", V::int64(40000)},
          {"dst_ip", V::ipv4("192.0.2.1")},
          {"dst_port", V::int64(80)},
          {"method", V::string(method)},
          {"path", V::string(path)},
          {"version", V::string("1.1")},
          {"headers", V::binary(binary_headers(extra))},
          {"body", V::binary(body)},
          {"body_len", V::int64(static_cast<std::int64_t>(body.size()))},
          {"body_size", V::int64(static_cast<std::int64_t>(body.size()))}};
}

std::optional<V> var(const RequestRecord& r, const std::string& name) {
  for (const auto& a : r.actions)
    if (a.name == name) return a.value;
  return std::nullopt;
}

std::string str(const RequestRecord& r, const std::string& name) {
  const auto v = var(r, name);
  return v ? v->bytes : "<unset>";
}

std::int64_t integer(const RequestRecord& r, const std::string& name) {
  const auto v = var(r, name);
  if (!v) return -999999;
  switch (v->type) {
    case SPOA_TYPE_INT32:
      return v->scalar.u.int32;
    case SPOA_TYPE_INT64:
      return v->scalar.u.int64;
    default:
      return -999998;
  }
}

// A form body that takes the CRS a long time (every rule runs over every argument):
// keeps the one inspection thread busy while a test fills the queue behind it.
std::string slow_form() {
  std::string body;
  for (int i = 0; i < 3000; ++i)
    body += "a" + std::to_string(i) + "=value&";
  return body;
}

class WafPlugin : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!spoa::waf::testing::crs_installed()) GTEST_SKIP() << "modsecurity-crs is not installed";
  }
  void start(Config config, std::vector<std::string> messages = {"waf-req", "waf-res"}) {
    host.load(SPOA_PLUGIN_WAF);
    const auto error = host.init(config, messages);
    ASSERT_FALSE(error) << *error;
  }
  RequestRecord answer(std::string_view message, const std::vector<TestArg>& args) {
    const uint64_t id = host.call(message, args);
    EXPECT_TRUE(host.wait_finished(id, generous));
    return host.request(id);
  }
  FakeHost host;
};

const Config crs_site = {{"apps.site.crs", "true"}, {"threads", "1"}};

TEST_F(WafPlugin, ABenignGetPassesWithEveryVariable) {
  start(crs_site);
  const RequestRecord r = answer("waf-req", request_args("/index.html?page=1"));
  EXPECT_EQ(r.handler_return, SPOA_PENDING);
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_NE(r.complete_thread, r.handler_thread);
  EXPECT_EQ(str(r, "action"), "pass");
  EXPECT_EQ(str(r, "rule_ids"), "");
  EXPECT_EQ(str(r, "app"), "site");
  for (const char* name : {"status", "rule_id", "anomaly_score", "severity", "body_truncated",
                           "headers_truncated", "engine_us"})
    EXPECT_TRUE(var(r, name)) << name;
  EXPECT_FALSE(var(r, "error"));
}

TEST_F(WafPlugin, SqlInjectionIsDeniedWithItsRuleIds) {
  start(crs_site);
  const RequestRecord r = answer("waf-req", request_args("/item?id=1%27%20OR%20%271%27=%271"));
  EXPECT_EQ(str(r, "action"), "deny");
  EXPECT_EQ(integer(r, "status"), 403);
  EXPECT_TRUE(spoa::waf::testing::has_rule(str(r, "rule_ids"), "942100")) << str(r, "rule_ids");
  EXPECT_EQ(integer(r, "rule_id"), 949110);
}

TEST_F(WafPlugin, TheAppArgumentMayComeAnywhere) {
  start({{"apps.strict.crs", "true"},
         {"apps.open.directives", "SecRuleEngine Off"},
         {"default_app", "strict"}});
  auto args = request_args("/item?id=1%27%20OR%20%271%27=%271");
  args.push_back({"app", V::string("open")});
  const RequestRecord open = answer("waf-req", args);
  EXPECT_EQ(str(open, "app"), "open");
  EXPECT_EQ(str(open, "action"), "pass");
  args.back().value = V::string("strict");
  std::rotate(args.begin(), args.end() - 1, args.end());  // now the first argument
  EXPECT_EQ(str(answer("waf-req", args), "action"), "deny");
  args.front().value = V::string("");  // empty: the default
  EXPECT_EQ(str(answer("waf-req", args), "app"), "strict");
}

TEST_F(WafPlugin, AnUnknownAppAnswersNoApp) {
  start(crs_site);
  auto args = request_args("/");
  args.push_back({"app", V::string("typo")});
  const RequestRecord r = answer("waf-req", args);
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_EQ(str(r, "error"), "no-app");
  EXPECT_FALSE(var(r, "action"));
}

TEST_F(WafPlugin, ABrokenHeaderBlockAnswersBadRequest) {
  start(crs_site);
  auto args = request_args("/");
  args[8].value =
      V::binary(std::string("\x05"
                            "ab",
                            3));
  const RequestRecord r = answer("waf-req", args);
  EXPECT_EQ(str(r, "error"), "bad-request");
  EXPECT_TRUE(host.logged(SPOA_LOG_WARN, "argument 'headers'"));
}

TEST_F(WafPlugin, TooManyHeadersAreReported) {
  start({{"apps.site.crs", "true"}, {"header_limit", "2"}});
  const RequestRecord r = answer("waf-req", request_args("/"));
  EXPECT_EQ(var(r, "headers_truncated")->scalar.u.boolean, 1);
}

TEST_F(WafPlugin, ATruncatedBodyIsReported) {
  start(crs_site);
  auto args = request_args("/form", "POST", "a=1", "application/x-www-form-urlencoded");
  args.back().value = V::int64(100000);  // body_size: HAProxy buffered 3 of 100000 bytes
  const RequestRecord r = answer("waf-req", args);
  EXPECT_EQ(var(r, "body_truncated")->scalar.u.boolean, 1);
}

TEST_F(WafPlugin, ABodyOverTheLimitAnswersTooBigAtOnce) {
  start({{"apps.site.crs", "true"}, {"apps.site.body_limit", "10"}});
  const RequestRecord r =
      answer("waf-req", request_args("/u", "POST", std::string(11, 'x'), "text/plain"));
  EXPECT_EQ(r.handler_return, SPOA_DONE);
  EXPECT_EQ(str(r, "error"), "too-big");
}

TEST_F(WafPlugin, AFullQueueAnswersOverloadAtOnce) {
  // No queue timeout to speak of: the queued request is inspected however slow the
  // build (sanitizers) makes the first one.
  start({{"apps.site.crs", "true"}, {"threads", "1"}, {"queue", "1"}, {"queue_timeout", "10m"}});
  const std::string body = slow_form();
  // One slow inspection and a queue of one: requests sent behind it are shed as soon as the
  // queue holds one. How many get in first depends on the scheduler, so the test sends
  // until the first one is shed (the bound only stops a broken plugin), then checks that
  // every request got either a verdict or error=overload, the shed one before its handler
  // returned.
  std::vector<uint64_t> ids;
  ids.push_back(host.call(
      "waf-req", request_args("/slow", "POST", body, "application/x-www-form-urlencoded")));
  bool shed = false;
  for (int i = 0; i < 10000 && !shed; ++i) {
    ids.push_back(host.call("waf-req", request_args("/")));
    const RequestRecord r = host.request(ids.back());
    shed = r.completed_before_return && str(r, "error") == "overload";
  }
  ASSERT_TRUE(shed) << "10000 requests behind a slow one, none shed";
  std::uint64_t overloads = 0;
  for (const uint64_t id : ids) {
    ASSERT_TRUE(host.wait_finished(id, generous));
    const RequestRecord r = host.request(id);
    EXPECT_EQ(r.outcome(), SPOA_DONE);
    if (str(r, "error") == "overload") {
      ++overloads;
      EXPECT_TRUE(r.completed_before_return);
      EXPECT_FALSE(var(r, "action"));
    } else {
      EXPECT_TRUE(var(r, "action")) << "request " << id << " has neither action nor error";
    }
  }
  EXPECT_EQ(host.counter("waf_inspections_shed_total"), overloads);
}

// The queue timeout's decision itself (queued behind a slow inspection, dequeued past the
// timeout) is InspectionPool's, tested on a fake clock; here, that the plugin hands the
// timeout to its pool and answers an expired inspection with error=timeout, uninspected.
// "0ms" expires every inspection, whatever the scheduler does.
TEST_F(WafPlugin, AnInspectionQueuedPastItsTimeoutAnswersTimeout) {
  start({{"apps.site.crs", "true"}, {"threads", "1"}, {"queue", "4"}, {"queue_timeout", "0ms"}});
  const RequestRecord r = answer("waf-req", request_args("/item?id=1%27%20OR%20%271%27=%271"));
  EXPECT_EQ(r.handler_return, SPOA_PENDING);
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_EQ(str(r, "error"), "timeout");
  EXPECT_FALSE(var(r, "action"));  // the SQL injection was not inspected
  EXPECT_EQ(host.counter("waf_inspections_expired_total"), 1u);
}

// coraza-spoa's cache grew without bound (its issue #40); this table's evictions are
// counted where an operator can see them, as a metric.
TEST_F(WafPlugin, ResponseTableEvictionsAreCountedInMetrics) {
  start({{"apps.site.crs", "true"},
         {"apps.site.response", "true"},
         {"transactions.max_entries", "1"},
         {"transactions.ttl", "1440m"}});
  EXPECT_EQ(host.counter("waf_inspections_shed_total").value_or(0), 0u);
  auto args = request_args("/first");
  args[0].value = V::string("uid-first");
  EXPECT_EQ(str(answer("waf-req", args), "action"), "pass");
  args[0].value = V::string("uid-second");  // pushes the first one out
  EXPECT_EQ(str(answer("waf-req", args), "action"), "pass");
  const RequestRecord r =
      answer("waf-res", {{"id", V::string("uid-first")}, {"status", V::int64(200)}});
  EXPECT_EQ(str(r, "error"), "no-transaction");
  EXPECT_EQ(host.counter("waf_response_table_total", {"stored"}), 2u);
  EXPECT_EQ(host.counter("waf_response_table_total", {"evicted"}), 1u);
  EXPECT_EQ(host.counter("waf_response_table_total", {"missing"}), 1u);
  EXPECT_EQ(host.gauge("waf_response_table_entries"), 1.0);
}

TEST_F(WafPlugin, ShutdownAnswersEveryQueuedInspection) {
  start({{"apps.site.crs", "true"}, {"threads", "1"}, {"queue", "16"}});
  std::vector<uint64_t> ids;
  ids.push_back(host.call(
      "waf-req", request_args("/slow", "POST", slow_form(), "application/x-www-form-urlencoded")));
  for (int i = 0; i < 8; ++i)
    ids.push_back(host.call("waf-req", request_args("/")));
  host.shutdown();
  for (const uint64_t id : ids) {
    const RequestRecord r = host.request(id);
    EXPECT_EQ(r.outcome(), SPOA_DONE) << id;
    EXPECT_TRUE(var(r, "action") || var(r, "error")) << id;
  }
  EXPECT_TRUE(host.violations().empty());
}

TEST_F(WafPlugin, TheResponsePhaseIsJoinedByUniqueId) {
  const auto dir = std::filesystem::temp_directory_path() / "spoa-waf-plugin-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "leak.conf") << "SecRule RESPONSE_BODY \"@contains SECRET-LEAK\" "
                                      "\"id:10001,phase:4,deny,status:502,log,msg:'leak'\"\n";
  start({{"apps.site.crs", "true"},
         {"apps.site.response", "true"},
         {"apps.site.rules", (dir / "leak.conf").string()}});
  EXPECT_EQ(str(answer("waf-req", request_args("/account")), "action"), "pass");
  const std::string headers = spoa::waf::encode_binary_headers({{"content-type", "text/html"}});
  const RequestRecord r = answer("waf-res", {{"id", V::string("uid-1")},
                                             {"status", V::int64(200)},
                                             {"version", V::string("1.1")},
                                             {"headers", V::binary(headers)},
                                             {"body", V::binary("key: SECRET-LEAK")}});
  EXPECT_EQ(str(r, "action"), "deny");
  EXPECT_EQ(integer(r, "rule_id"), 10001);
  // The transaction was taken: the same id again has nothing to join.
  const RequestRecord again =
      answer("waf-res", {{"id", V::string("uid-1")}, {"status", V::int64(200)}});
  EXPECT_EQ(str(again, "error"), "no-transaction");
}

TEST_F(WafPlugin, CorazaCompatibilityTakesItsMessageAndAnswersItsVariables) {
  start({{"compat", "coraza"}, {"apps.sample_app.crs", "true"}}, {"coraza-req", "coraza-res"});
  const std::vector<TestArg> args = {
      {"app", V::string("sample_app")},
      {"src-ip", V::ipv4("192.0.2.10")},
      {"src-port", V::int64(40000)},
      {"dst-ip", V::ipv4("192.0.2.1")},
      {"dst-port", V::int64(80)},
      {"method", V::string("GET")},
      {"path", V::string("/item")},
      {"query", V::string("id=1%27%20OR%20%271%27=%271")},
      {"version", V::string("1.1")},
      {"headers", V::string("host: www.example.com\r\nuser-agent: Mozilla/5.0\r\n"
                            "accept: text/html\r\n")},
      {"body", V::binary("")},
      {"exportRuleIDs", V::boolean(false)}};
  const RequestRecord r = answer("coraza-req", args);
  EXPECT_EQ(str(r, "action"), "deny");
  EXPECT_EQ(integer(r, "status"), 403);
  EXPECT_EQ(integer(r, "ruleid"), 949110);
  EXPECT_EQ(str(r, "id").size(), 16u);  // generated, as coraza-spoa does without one
  EXPECT_FALSE(var(r, "rule_ids"));

  auto benign = args;
  benign[7].value = V::string("page=2");
  const RequestRecord ok = answer("coraza-req", benign);
  EXPECT_EQ(ok.actions.size(), 1u);  // only txn.coraza.id
  EXPECT_TRUE(var(ok, "id"));
}

TEST_F(WafPlugin, AMessageThatIsNeitherRequestNorResponseFailsInit) {
  host.load(SPOA_PLUGIN_WAF);
  const auto error = host.init(crs_site, {"waf-req", "other"});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("'other'"), std::string::npos) << *error;
}

TEST_F(WafPlugin, ASecLangErrorFailsInitWithFileAndLine) {
  const auto dir = std::filesystem::temp_directory_path() / "spoa-waf-plugin-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "broken.conf")
      << "\n\nSecRule ARGS \"@rx a\" \"id:7,phase:2,nosuchaction\"\n";
  host.load(SPOA_PLUGIN_WAF);
  const auto error = host.init({{"apps.site.rules", (dir / "broken.conf").string()}}, {"waf-req"});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("broken.conf:3"), std::string::npos) << *error;
}

}  // namespace
