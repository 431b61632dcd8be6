// Shared by the waf tests: Debian's CRS loaded once per test binary (loading it costs a
// second or more), and small builders for requests.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine.hpp"
#include "inspection.hpp"
#include "settings.hpp"

namespace spoa::waf::testing {

inline constexpr const char* crs_setup = "/etc/modsecurity/crs/crs-setup.conf";

bool crs_installed();

// One engine with applications "crs" (CRS, paranoia 1, block), "detect" (the same in
// detect-only mode), "partial" (truncated_body=headers-only), "refuse" (truncated_body =
// deny), "respond" (CRS with the response phase on, plus a test rule that blocks a
// response containing "SECRET-LEAK"), "redirect" (a rule that redirects /old).
// ..., and "audited" (a rule denying ?probe=evil, with ModSecurity's audit log at
// audit_log_path()).
const Engine& shared_engine();
std::string audit_log_path();

HttpRequest get(std::string uri, std::vector<std::pair<std::string, std::string>> headers = {});
HttpRequest post(std::string uri, std::string content_type, std::string body);

// Runs the request phase with app `app` of the shared engine.
Verdict inspect(const std::string& app, HttpRequest request);

// True when `ids` (space separated) contains `id`.
bool has_rule(const std::string& ids, const std::string& id);

}  // namespace spoa::waf::testing
