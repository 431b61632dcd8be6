// Loading rules: Debian's CRS loads; a SecLang error names its file and line.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "crs_fixture.hpp"
#include "engine.hpp"

namespace {

using namespace spoa::waf;
using spoa::waf::testing::crs_installed;

std::string temp_file(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "spoa-waf-engine-test";
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path.string();
}

Settings one_app(AppSettings app) {
  Settings s;
  app.name = "site";
  s.apps["site"] = std::move(app);
  s.default_app = "site";
  return s;
}

TEST(Engine, LoadsDebiansCrsWithItsRules) {
  if (!crs_installed()) GTEST_SKIP() << "modsecurity-crs is not installed";
  const Engine& engine = spoa::waf::testing::shared_engine();
  const Application* crs = engine.find("crs");
  ASSERT_NE(crs, nullptr);
  EXPECT_GT(crs->rule_count, 500u);  // CRS 3.3.4 has several hundred
  EXPECT_EQ(engine.find("nope"), nullptr);
}

TEST(Engine, ASecLangErrorNamesFileAndLine) {
  AppSettings app;
  app.rules = {
      temp_file("bad.conf", "# a comment\nSecRuleEngine On\nSecRul ARGS \"@rx a\" \"id:1\"\n")};
  try {
    Engine engine(one_app(app));
    FAIL() << "a bad rule file loaded";
  } catch (const RulesError& e) {
    EXPECT_EQ(e.app(), "site");
    EXPECT_NE(e.where().find("bad.conf:3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("application 'site'"), std::string::npos) << e.what();
  }
}

TEST(Engine, AMissingRulesFileIsAnErrorNamingIt) {
  AppSettings app;
  app.rules = {"/nonexistent/rules.conf"};
  try {
    Engine engine(one_app(app));
    FAIL();
  } catch (const RulesError& e) {
    EXPECT_EQ(e.where(), "/nonexistent/rules.conf");
  }
}

TEST(Engine, DirectivesPutTheOperatorsFilesAfterTheCrs) {
  AppSettings app;
  app.crs = true;
  app.paranoia = 2;
  app.rules_before = {"/etc/a.conf"};
  app.rules = {"/etc/b.conf"};
  app.directives = "SecRuleRemoveById 920350";
  const std::string d = Engine::directives_for(app);
  const auto setup = d.find("crs-setup.conf");
  const auto paranoia = d.find("setvar:tx.paranoia_level=2");
  const auto before = d.find("/etc/a.conf");
  const auto crs = d.find("/usr/share/modsecurity-crs/rules/*.conf");
  const auto after = d.find("/etc/b.conf");
  const auto inline_rules = d.find("SecRuleRemoveById 920350");
  ASSERT_NE(setup, std::string::npos);
  EXPECT_LT(setup, paranoia);
  EXPECT_LT(paranoia, before);
  EXPECT_LT(before, crs);
  EXPECT_LT(crs, after);
  EXPECT_LT(after, inline_rules);
  EXPECT_NE(d.find("SecRuleEngine On"), std::string::npos);
  app.detect_only = true;
  EXPECT_NE(Engine::directives_for(app).find("SecRuleEngine DetectionOnly"), std::string::npos);
}

}  // namespace
