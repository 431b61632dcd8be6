#include "engine.hpp"

#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>

#include <filesystem>
#include <mutex>
#include <regex>
#include <vector>

namespace spoa::waf {
namespace {

// One lock for the whole process, not per instance: two instances (or two generations
// during a reload) must not parse at the same time either.
std::mutex& load_lock() {
  static std::mutex lock;
  return lock;
}

// libmodsecurity 3.0.9's Include takes the rest of the line as the path, quotes included,
// so a path is written bare; paths with blanks or quotes are refused when loading.
std::string quoted(const std::string& path) {
  return path;
}

bool includable(const std::string& path) {
  return path.find_first_of(" \t\r\n\"'") == std::string::npos && !path.empty();
}

// libmodsecurity 3.0.9 reports "Rules error. File: F. Line: L. Column: C. <reason>".
void throw_parse_error(const std::string& app, const std::string& text) {
  static const std::regex located(R"(File: (.*)\. Line: ([0-9]+)\. Column: ([0-9]+)\. ?([\s\S]*))");
  std::smatch m;
  std::string reason = text;
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' '))
    reason.pop_back();
  if (std::regex_search(reason, m, located)) {
    std::string what = m[4].str();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' '))
      what.pop_back();
    throw RulesError(app, m[1].str() + ":" + m[2].str() + ":" + m[3].str(), what);
  }
  throw RulesError(app, "", reason);
}

// Without a callback libmodsecurity prints every match to standard output.
void log_match(void* data, const void* text) {
  const auto* log = static_cast<const Engine::MatchLog*>(data);
  if (log != nullptr && *log && text != nullptr) (*log)(static_cast<const char*>(text));
}

}  // namespace

RulesError::RulesError(std::string app, std::string where, const std::string& reason)
    : std::runtime_error((where.empty() ? std::string() : where + ": ") + "application '" + app +
                         "': " + reason),
      app_(std::move(app)),
      where_(std::move(where)) {}

std::string Engine::directives_for(const AppSettings& app) {
  // The engine settings every application gets first (the parts of ModSecurity's
  // recommended configuration a connector needs); the operator's files come after and may
  // override any of them.
  std::string d;
  d += app.detect_only ? "SecRuleEngine DetectionOnly\n" : "SecRuleEngine On\n";
  d += "SecRequestBodyAccess On\n";
  d += "SecRequestBodyLimit " + std::to_string(app.body_limit) + "\n";
  d += "SecRequestBodyNoFilesLimit " + std::to_string(app.body_limit) + "\n";
  // The plugin refuses larger bodies itself (error=too-big); what reaches the engine is
  // inspected, never rejected for its size behind the operator's back.
  d += "SecRequestBodyLimitAction ProcessPartial\n";
  d += app.response ? "SecResponseBodyAccess On\n" : "SecResponseBodyAccess Off\n";
  d += "SecResponseBodyMimeType text/plain text/html text/xml application/json\n";
  d += "SecResponseBodyLimit 524288\n";
  d += "SecResponseBodyLimitAction ProcessPartial\n";
  d += "SecArgumentSeparator &\n";
  d += "SecCookieFormat 0\n";
  d += "SecStatusEngine Off\n";
  if (app.audit_log.empty()) {
    d += "SecAuditEngine Off\n";
  } else {
    d += "SecAuditEngine RelevantOnly\n";
    d += "SecAuditLogRelevantStatus \"^(?:5|4(?!04))\"\n";
    d += "SecAuditLogParts ABIJDEFHZ\n";
    d += "SecAuditLogType Serial\n";
    d += "SecAuditLog " + quoted(app.audit_log) + "\n";
  }
  // Body processors by Content-Type, and refusing a body the processor could not parse
  // (an unparsed JSON body would otherwise not be inspected at all). Ids 99001-99099 are
  // the plugin's own. Anchored at the media type, as in ModSecurity's recommended config:
  // unanchored, a parameter such as multipart/related's start-info="application/soap+xml"
  // switched a multipart body to the XML parser, which failed and denied it (CRS test
  // 920470-13).
  d += "SecRule REQUEST_HEADERS:Content-Type \"@rx ^(?:application(?:/soap\\+|/)|text/)xml\" "
       "\"id:99010,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML\"\n";
  d += "SecRule REQUEST_HEADERS:Content-Type \"@rx ^application/json\" "
       "\"id:99011,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n";
  d += "SecRule REQBODY_ERROR \"!@eq 0\" \"id:99012,phase:2,t:none,log,deny,status:400,"
       "msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2\"\n";
  if (app.crs) {
    d += "Include " + quoted(app.crs_setup) + "\n";
    d += "SecAction \"id:99001,phase:1,pass,nolog,t:none,"
         "setvar:tx.paranoia_level=" +
         std::to_string(app.paranoia) +
         ",setvar:tx.inbound_anomaly_score_threshold=" + std::to_string(app.anomaly_threshold) +
         ",setvar:tx.outbound_anomaly_score_threshold=" +
         std::to_string(app.response_anomaly_threshold) + "\"\n";
    const std::filesystem::path setup_dir = std::filesystem::path(app.crs_setup).parent_path();
    const auto before = setup_dir / "REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf";
    std::error_code ec;
    if (std::filesystem::exists(before, ec)) d += "Include " + quoted(before.string()) + "\n";
    for (const auto& file : app.rules_before)
      d += "Include " + quoted(file) + "\n";
    d += "Include " + quoted((std::filesystem::path(app.crs_rules) / "*.conf").string()) + "\n";
    const auto after = setup_dir / "RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf";
    if (std::filesystem::exists(after, ec)) d += "Include " + quoted(after.string()) + "\n";
  } else {
    for (const auto& file : app.rules_before)
      d += "Include " + quoted(file) + "\n";
  }
  for (const auto& file : app.rules)
    d += "Include " + quoted(file) + "\n";
  if (!app.directives.empty()) d += app.directives + "\n";
  return d;
}

Engine::Engine(const Settings& settings, MatchLog match_log) : match_log_(std::move(match_log)) {
  std::lock_guard<std::mutex> guard(load_lock());
  modsecurity_ = std::make_unique<modsecurity::ModSecurity>();
  modsecurity_->setConnectorInformation("spoa-host-waf/" SPOA_WAF_VERSION);
  modsecurity_->setServerLogCb(&log_match, modsecurity::TextLogProperty);
  for (const auto& [name, app_settings] : settings.apps) {
    Application app;
    app.settings = app_settings;
    app.rules = std::make_unique<modsecurity::RulesSet>();
    std::vector<std::string> files = app_settings.rules;
    files.insert(files.end(), app_settings.rules_before.begin(), app_settings.rules_before.end());
    if (app_settings.crs) {
      files.push_back(app_settings.crs_setup);
      files.push_back(app_settings.crs_rules);
    }
    for (const std::string& file : files)
      if (!includable(file))
        throw RulesError(name, file, "a rules path must not contain blanks or quotes");
    for (const std::string& file : app_settings.rules) {
      std::error_code ec;
      if (!std::filesystem::exists(file, ec)) throw RulesError(name, file, "no such rules file");
    }
    if (app_settings.crs) {
      std::error_code ec;
      if (!std::filesystem::exists(app_settings.crs_setup, ec))
        throw RulesError(name, app_settings.crs_setup,
                         "no CRS setup file (is Debian's modsecurity-crs installed?)");
    }
    const std::string text = directives_for(app_settings);
    const int loaded = app.rules->load(text.c_str(), "application " + name);
    if (loaded < 0) throw_parse_error(name, app.rules->getParserError());
    app.rule_count = static_cast<std::size_t>(loaded);
    apps_.emplace(name, std::move(app));
  }
}

Engine::~Engine() {
  // RulesSets first, then the ModSecurity object they were used with.
  std::lock_guard<std::mutex> guard(load_lock());
  apps_.clear();
  modsecurity_.reset();
}

const Application* Engine::find(std::string_view name) const noexcept {
  const auto it = apps_.find(name);
  return it == apps_.end() ? nullptr : &it->second;
}

}  // namespace spoa::waf
