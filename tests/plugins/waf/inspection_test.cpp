// Requests and responses through the real libmodsecurity 3.0.9 and Debian's CRS 3.3.4.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "crs_fixture.hpp"
#include "inspection.hpp"

namespace {

using namespace spoa::waf;
using namespace spoa::waf::testing;

class Inspection : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!crs_installed()) GTEST_SKIP() << "modsecurity-crs is not installed";
  }
};

TEST_F(Inspection, ABrowserGetPasses) {
  const Verdict v = inspect("crs", get("/index.html?page=2&sort=name"));
  EXPECT_EQ(v.action, Action::pass);
  EXPECT_EQ(v.rule_ids, "");
  EXPECT_EQ(v.anomaly_score, 0);
  EXPECT_EQ(v.severity, -1);
  EXPECT_EQ(v.app, "crs");
  EXPECT_EQ(v.failure, Failure::none);
  EXPECT_GT(v.engine_us, 0);
}

TEST_F(Inspection, SqlInjectionIsDeniedWithTheCrsRuleIds) {
  const Verdict v = inspect("crs", get("/item?id=1%27%20OR%20%271%27=%271"));
  EXPECT_EQ(v.action, Action::deny);
  EXPECT_EQ(v.status, 403);
  EXPECT_TRUE(has_rule(v.rule_ids, "942100")) << v.rule_ids;  // libinjection SQLi
  EXPECT_TRUE(has_rule(v.rule_ids, "949110")) << v.rule_ids;  // inbound anomaly score
  EXPECT_EQ(v.rule_id, 949110);
  EXPECT_GE(v.anomaly_score, 5);
  EXPECT_EQ(v.severity, 2);  // CRITICAL
  EXPECT_FALSE(v.message.empty());
}

TEST_F(Inspection, DetectOnlyReportsTheSameRulesButPasses) {
  const Verdict v = inspect("detect", get("/item?id=1%27%20OR%20%271%27=%271"));
  EXPECT_EQ(v.action, Action::pass);
  EXPECT_EQ(v.status, 0);
  EXPECT_TRUE(has_rule(v.rule_ids, "942100")) << v.rule_ids;
  EXPECT_GE(v.anomaly_score, 5);
}

TEST_F(Inspection, XssInAFormPostIsDenied) {
  const Verdict v = inspect("crs", post("/comment", "application/x-www-form-urlencoded",
                                        "name=bob&text=%3Cscript%3Ealert(1)%3C%2Fscript%3E"));
  EXPECT_EQ(v.action, Action::deny);
  EXPECT_TRUE(has_rule(v.rule_ids, "941100")) << v.rule_ids;
}

TEST_F(Inspection, ABenignJsonPostPasses) {
  const Verdict v = inspect("crs", post("/api/users", "application/json",
                                        R"({"name":"Alice","age":31,"tags":["a","b"]})"));
  EXPECT_EQ(v.action, Action::pass) << v.rule_ids;
}

TEST_F(Inspection, JsonBodiesAreParsedAndInspected) {
  const Verdict v = inspect(
      "crs", post("/api", "application/json", R"({"q":"1' UNION SELECT password FROM users--"})"));
  EXPECT_EQ(v.action, Action::deny) << v.rule_ids;
}

TEST_F(Inspection, AnUnparsableJsonBodyIsRefused) {
  const Verdict v = inspect("crs", post("/api", "application/json", "{\"a\": "));
  EXPECT_EQ(v.action, Action::deny);
  EXPECT_EQ(v.status, 400);
  EXPECT_EQ(v.rule_id, 99012);
}

// The body processor follows the media type, not a parameter naming another one: a
// multipart/related (MTOM) request says start-info="application/soap+xml" (CRS test
// 920470-13) and is no XML document.
TEST_F(Inspection, AContentTypeParameterDoesNotChooseTheBodyProcessor) {
  const Verdict mtom =
      inspect("crs", post("/service",
                          "multipart/related; type=\"application/xop+xml\"; "
                          "start=\"<root.message@cxf.apache.org>\"; "
                          "start-info=\"application/soap+xml\"; boundary=\"b1\"",
                          "--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--\r\n"));
  EXPECT_FALSE(has_rule(mtom.rule_ids, "99012")) << mtom.rule_ids;
  const Verdict text =
      inspect("crs", post("/notes", "text/plain; profile=\"application/json\"", "{\"a\": "));
  EXPECT_FALSE(has_rule(text.rule_ids, "99012")) << text.rule_ids;
  // Still chosen by the media type itself, parameters and case aside.
  const Verdict soap =
      inspect("crs", post("/service", "Application/SOAP+XML; charset=utf-8", "<a><b></a>"));
  EXPECT_EQ(soap.rule_id, 99012) << soap.rule_ids;
  const Verdict json = inspect("crs", post("/api", "application/json; charset=utf-8", "{\"a\": "));
  EXPECT_EQ(json.rule_id, 99012) << json.rule_ids;
}

TEST_F(Inspection, ATruncatedBodyIsInspectedAndReportedByDefault) {
  HttpRequest r = post("/comment", "application/x-www-form-urlencoded",
                       "text=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
  r.body_truncated = true;
  const Verdict v = inspect("crs", r);
  EXPECT_TRUE(v.body_truncated);
  EXPECT_EQ(v.action, Action::deny);
}

TEST_F(Inspection, HeadersOnlySkipsATruncatedBody) {
  HttpRequest r = post("/comment", "application/x-www-form-urlencoded",
                       "text=%3Cscript%3Ealert(1)%3C%2Fscript%3E");
  r.body_truncated = true;
  const Verdict v = inspect("partial", r);
  EXPECT_TRUE(v.body_truncated);
  EXPECT_EQ(v.action, Action::pass) << v.rule_ids;
}

TEST_F(Inspection, HeadersOnlyStillInspectsAWholeBody) {
  const Verdict v = inspect("partial", post("/comment", "application/x-www-form-urlencoded",
                                            "text=%3Cscript%3Ealert(1)%3C%2Fscript%3E"));
  EXPECT_FALSE(v.body_truncated);
  EXPECT_EQ(v.action, Action::deny);
}

TEST_F(Inspection, DenyRefusesATruncatedBodyWithoutTheEngine) {
  HttpRequest r = post("/upload", "application/octet-stream", std::string(100, 'x'));
  r.body_truncated = true;
  const Verdict v = inspect("refuse", r);
  EXPECT_EQ(v.action, Action::deny);
  EXPECT_EQ(v.status, 413);
  EXPECT_EQ(v.engine_us, 0);
}

TEST_F(Inspection, AScannerUserAgentIsDenied) {
  const Verdict v =
      inspect("crs", get("/", {{"User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)"}}));
  EXPECT_TRUE(has_rule(v.rule_ids, "913100")) << v.rule_ids;
}

TEST_F(Inspection, ARedirectRuleAnswersItsUrl) {
  const Verdict v = inspect("redirect", get("/old/page"));
  EXPECT_EQ(v.action, Action::redirect);
  EXPECT_EQ(v.redirect, "https://example.org/new");
  EXPECT_EQ(v.status, 302);
  EXPECT_EQ(v.rule_id, 10002);
}

TEST_F(Inspection, Status444MeansDrop) {
  const Verdict v = inspect("redirect", get("/gone"));
  EXPECT_EQ(v.action, Action::drop);
  EXPECT_EQ(v.rule_id, 10003);
}

TEST_F(Inspection, TheResponsePhaseBlocksALeak) {
  const Application* app = shared_engine().find("respond");
  ASSERT_NE(app, nullptr);
  Transaction tx(shared_engine(), *app, "resp-1");
  HttpRequest req = get("/account");
  EXPECT_EQ(tx.request(req).action, Action::pass);
  HttpResponse res;
  res.status = 200;
  res.headers.headers = {{"Content-Type", "text/html"}};
  res.body = "<html>your key: SECRET-LEAK</html>";
  const Verdict v = tx.response(res);
  EXPECT_EQ(v.action, Action::deny);
  EXPECT_EQ(v.status, 502);
  EXPECT_EQ(v.rule_id, 10001);
  EXPECT_TRUE(has_rule(v.rule_ids, "10001")) << v.rule_ids;
}

TEST_F(Inspection, TheResponsePhaseReportsOnlyItsOwnRules) {
  const Application* app = shared_engine().find("respond");
  Transaction tx(shared_engine(), *app, "resp-2");
  HttpRequest req = get("/", {{"User-Agent", "nikto"}});
  tx.request(req);
  HttpResponse res;
  res.headers.headers = {{"Content-Type", "text/plain"}};
  res.body = "fine";
  const Verdict v = tx.response(res);
  EXPECT_EQ(v.action, Action::pass);
  EXPECT_FALSE(has_rule(v.rule_ids, "913100")) << v.rule_ids;
}

TEST_F(Inspection, ARuleMatchingSeveralVariablesIsReportedOnce) {
  // 930110 (path traversal) matches both REQUEST_URI and ARGS:file.
  const Verdict v = inspect("crs", get("/?file=../../../../etc/passwd"));
  EXPECT_EQ(v.action, Action::deny);
  EXPECT_TRUE(has_rule(v.rule_ids, "930110")) << v.rule_ids;
  EXPECT_EQ(v.rule_ids.find("930110"), v.rule_ids.rfind("930110")) << v.rule_ids;
}

TEST_F(Inspection, TheAuditLogRecordsADeniedTransactionUnderItsId) {
  const Application* app = shared_engine().find("audited");
  ASSERT_NE(app, nullptr);
  {
    Transaction tx(shared_engine(), *app, "audit-me-42");
    HttpRequest r = get("/?probe=evil");
    EXPECT_EQ(tx.request(r).action, Action::deny);
  }  // the log phase runs when the transaction ends
  std::ifstream in(audit_log_path());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("audit-me-42"), std::string::npos) << text.substr(0, 500);
  EXPECT_NE(text.find("10004"), std::string::npos);
}

TEST_F(Inspection, TruncatedHeadersAreReported) {
  HttpRequest r = get("/");
  r.headers.truncated = true;
  EXPECT_TRUE(inspect("crs", r).headers_truncated);
}

}  // namespace
