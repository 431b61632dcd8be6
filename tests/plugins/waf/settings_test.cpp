// The plugin's config keys, as [plugins.NAME.config] hands them over (dotted, flat).
#include <gtest/gtest.h>

#include <string>

#include "settings.hpp"

namespace {

using namespace spoa::waf;

std::string error_of(const ConfigPairs& pairs) {
  try {
    parse_settings(pairs);
  } catch (const SettingsError& e) {
    return e.what();
  }
  return "";
}

TEST(Settings, OneCrsApplicationIsTheDefault) {
  const Settings s = parse_settings({{"apps.site.crs", "true"}});
  EXPECT_EQ(s.default_app, "site");
  ASSERT_EQ(s.apps.count("site"), 1u);
  const AppSettings& a = s.apps.at("site");
  EXPECT_TRUE(a.crs);
  EXPECT_EQ(a.paranoia, 1);
  EXPECT_FALSE(a.detect_only);
  EXPECT_EQ(a.truncated_body, TruncatedBody::inspect);
  EXPECT_EQ(s.request_message, "waf-req");
  EXPECT_EQ(s.response_message, "waf-res");
  EXPECT_EQ(s.dialect, Dialect::native);
}

TEST(Settings, EveryApplicationKey) {
  const Settings s = parse_settings({{"default_app", "b"},
                                     {"apps.a.rules", "/x.conf, /y.conf"},
                                     {"apps.b.crs", "true"},
                                     {"apps.b.paranoia", "3"},
                                     {"apps.b.anomaly_threshold", "10"},
                                     {"apps.b.mode", "detect"},
                                     {"apps.b.truncated_body", "headers-only"},
                                     {"apps.b.response", "true"},
                                     {"apps.b.rules_before", "/before.conf"},
                                     {"apps.b.directives", "SecRuleRemoveById 920350"},
                                     {"apps.b.audit_log", "/var/log/a.log"},
                                     {"apps.b.body_limit", "1000"},
                                     {"threads", "4"},
                                     {"queue", "8"},
                                     {"queue_timeout", "250ms"},
                                     {"header_limit", "50"},
                                     {"transactions.max_entries", "7"},
                                     {"transactions.max_bytes", "1000000"},
                                     {"transactions.ttl", "2s"}});
  EXPECT_EQ(s.default_app, "b");
  EXPECT_EQ(s.apps.at("a").rules, (std::vector<std::string>{"/x.conf", "/y.conf"}));
  const AppSettings& b = s.apps.at("b");
  EXPECT_EQ(b.paranoia, 3);
  EXPECT_EQ(b.anomaly_threshold, 10);
  EXPECT_TRUE(b.detect_only);
  EXPECT_EQ(b.truncated_body, TruncatedBody::headers_only);
  EXPECT_TRUE(b.response);
  EXPECT_EQ(b.rules_before, (std::vector<std::string>{"/before.conf"}));
  EXPECT_EQ(b.directives, "SecRuleRemoveById 920350");
  EXPECT_EQ(b.audit_log, "/var/log/a.log");
  EXPECT_EQ(b.body_limit, 1000u);
  EXPECT_EQ(s.threads, 4u);
  EXPECT_EQ(s.queue, 8u);
  EXPECT_EQ(s.queue_timeout, std::chrono::milliseconds(250));
  EXPECT_EQ(s.header_limit, 50u);
  EXPECT_EQ(s.table_entries, 7u);
  EXPECT_EQ(s.table_bytes, 1000000u);
  EXPECT_EQ(s.table_ttl, std::chrono::milliseconds(2000));
}

TEST(Settings, CorazaCompatibilityChangesTheMessageNames) {
  const Settings s = parse_settings({{"compat", "coraza"}, {"apps.sample_app.crs", "true"}});
  EXPECT_EQ(s.dialect, Dialect::coraza);
  EXPECT_EQ(s.request_message, "coraza-req");
  EXPECT_EQ(s.response_message, "coraza-res");
}

TEST(Settings, ErrorsNameTheKeyAndWhatWasExpected) {
  EXPECT_NE(error_of({{"apps.a.crs", "yes"}}).find("'apps.a.crs': 'yes' is not true or false"),
            std::string::npos);
  EXPECT_NE(error_of({{"apps.a.crs", "true"}, {"apps.a.paranoia", "5"}}).find("from 1 to 4"),
            std::string::npos);
  EXPECT_NE(error_of({{"apps.a.crs", "true"}, {"apps.a.mode", "on"}}).find("block or detect"),
            std::string::npos);
  EXPECT_NE(error_of({{"apps.a.crs", "true"}, {"treads", "2"}}).find("'treads': unknown"),
            std::string::npos);
  EXPECT_NE(error_of({{"apps.a.crss", "true"}}).find("unknown application key 'crss'"),
            std::string::npos);
  EXPECT_NE(error_of({{"apps.a.crs", "true"}, {"queue_timeout", "5"}}).find("duration"),
            std::string::npos);
  EXPECT_NE(error_of({{"compat", "modsec"}, {"apps.a.crs", "true"}}).find("native or coraza"),
            std::string::npos);
}

TEST(Settings, ApplicationsAreRequiredAndNeedRules) {
  EXPECT_NE(error_of({}).find("no application"), std::string::npos);
  EXPECT_NE(error_of({{"apps.a.paranoia", "2"}}).find("application 'a': no rules"),
            std::string::npos);
}

TEST(Settings, SeveralApplicationsNeedADefaultThatExists) {
  EXPECT_NE(error_of({{"apps.a.crs", "true"}, {"apps.b.crs", "true"}}).find("default_app"),
            std::string::npos);
  EXPECT_NE(error_of({{"apps.a.crs", "true"}, {"default_app", "c"}}).find("'c'"),
            std::string::npos);
}

}  // namespace
