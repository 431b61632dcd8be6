// Verdicts as HAProxy variables, in both dialects.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <variant>

#include "answer.hpp"

namespace {

using namespace spoa::waf;
using Var = std::variant<std::string, std::int64_t, bool>;

struct Recorder : AnswerSink {
  std::map<std::string, Var> vars;
  void set(std::string_view n, std::string_view v) override {
    vars[std::string(n)] = std::string(v);
  }
  void set(std::string_view n, std::int64_t v) override { vars[std::string(n)] = v; }
  void set(std::string_view n, bool v) override { vars[std::string(n)] = v; }
};

Verdict blocked() {
  Verdict v;
  v.action = Action::deny;
  v.status = 403;
  v.rule_id = 949110;
  v.rule_ids = "942100 949110";
  v.anomaly_score = 5;
  v.message = "Inbound Anomaly Score Exceeded";
  v.severity = 2;
  v.engine_us = 120;
  v.app = "site";
  return v;
}

TEST(Answer, NativeNamesEveryField) {
  Recorder r;
  write_answer(blocked(), Dialect::native, "x", r);
  EXPECT_EQ(r.vars["action"], Var(std::string("deny")));
  EXPECT_EQ(r.vars["status"], Var(std::int64_t{403}));
  EXPECT_EQ(r.vars["rule_id"], Var(std::int64_t{949110}));
  EXPECT_EQ(r.vars["rule_ids"], Var(std::string("942100 949110")));
  EXPECT_EQ(r.vars["anomaly_score"], Var(std::int64_t{5}));
  EXPECT_EQ(r.vars["severity"], Var(std::int64_t{2}));
  EXPECT_EQ(r.vars["message"], Var(std::string("Inbound Anomaly Score Exceeded")));
  EXPECT_EQ(r.vars["body_truncated"], Var(false));
  EXPECT_EQ(r.vars["headers_truncated"], Var(false));
  EXPECT_EQ(r.vars["engine_us"], Var(std::int64_t{120}));
  EXPECT_EQ(r.vars["app"], Var(std::string("site")));
  EXPECT_EQ(r.vars.count("error"), 0u);
  EXPECT_EQ(r.vars.count("redirect"), 0u);
}

TEST(Answer, NativeFailureSetsErrorAndNoAction) {
  Verdict v;
  v.app = "site";
  v.failure = Failure::overload;
  Recorder r;
  write_answer(v, Dialect::native, "", r);
  EXPECT_EQ(r.vars["error"], Var(std::string("overload")));
  EXPECT_EQ(r.vars.count("action"), 0u);
}

TEST(Answer, CorazaAnswersItsOwnNames) {
  Recorder r;
  write_answer(blocked(), Dialect::coraza, "ABC", r);
  EXPECT_EQ(r.vars["id"], Var(std::string("ABC")));
  EXPECT_EQ(r.vars["action"], Var(std::string("deny")));
  EXPECT_EQ(r.vars["status"], Var(std::int64_t{403}));
  EXPECT_EQ(r.vars["ruleid"], Var(std::int64_t{949110}));
  EXPECT_EQ(r.vars.count("data"), 1u);
  EXPECT_EQ(r.vars.count("rule_ids"), 0u);
}

TEST(Answer, CorazaPassSetsOnlyTheId) {
  Verdict v;
  Recorder r;
  write_answer(v, Dialect::coraza, "ABC", r);
  EXPECT_EQ(r.vars.size(), 1u);
  EXPECT_EQ(r.vars["id"], Var(std::string("ABC")));
}

TEST(Answer, CorazaFailureIsANonZeroErrorLikeSetOnError) {
  Verdict v;
  v.failure = Failure::overload;
  Recorder r;
  write_answer(v, Dialect::coraza, "ABC", r);
  EXPECT_EQ(r.vars["error"], Var(std::int64_t{1}));
  EXPECT_EQ(coraza_error_code(Failure::timeout), 2);
  EXPECT_EQ(coraza_error_code(Failure::too_big), 3);
}

}  // namespace
