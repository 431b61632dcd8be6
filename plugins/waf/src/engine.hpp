// The rules of every application, loaded once per plugin instance (so once per spoa-host
// generation: a reload builds a new instance) and shared read-only by all inspections.
// libmodsecurity's rule parser is not thread-safe, so every load in the process takes one
// lock; evaluating a loaded RulesSet from several threads at once is what it supports.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "settings.hpp"

namespace modsecurity {
class ModSecurity;
class RulesSet;
}  // namespace modsecurity

namespace spoa::waf {

// A SecLang error: `where` is FILE:LINE when libmodsecurity said so.
class RulesError : public std::runtime_error {
 public:
  RulesError(std::string app, std::string where, const std::string& reason);
  const std::string& app() const noexcept { return app_; }
  const std::string& where() const noexcept { return where_; }

 private:
  std::string app_;
  std::string where_;
};

struct Application {
  AppSettings settings;
  std::unique_ptr<modsecurity::RulesSet> rules;
  std::size_t rule_count = 0;
};

class Engine {
 public:
  // Receives ModSecurity's one-line text for every rule match that logs (the nginx error
  // log's "ModSecurity: Warning. ..." lines). Called on inspection threads, concurrently.
  using MatchLog = std::function<void(std::string_view line)>;

  // Loads every application; throws RulesError for the first one that fails.
  explicit Engine(const Settings& settings, MatchLog match_log = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // nullptr when there is no such application.
  const Application* find(std::string_view name) const noexcept;
  modsecurity::ModSecurity& modsecurity() const noexcept { return *modsecurity_; }
  const std::map<std::string, Application, std::less<>>& applications() const noexcept {
    return apps_;
  }

  // The SecLang text an application is loaded from (Include lines and the plugin's own
  // directives); public for tests and for the README's "what gets loaded".
  static std::string directives_for(const AppSettings& app);

  // The logCbData every Transaction of this engine passes to ModSecurity.
  void* log_context() const noexcept { return const_cast<MatchLog*>(&match_log_); }

 private:
  MatchLog match_log_;
  std::unique_ptr<modsecurity::ModSecurity> modsecurity_;
  std::map<std::string, Application, std::less<>> apps_;
};

}  // namespace spoa::waf
