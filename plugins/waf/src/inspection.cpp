#include "inspection.hpp"

#include <modsecurity/intervention.h>
#include <modsecurity/modsecurity.h>
#include <modsecurity/rule_message.h>
#include <modsecurity/rule_with_actions.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace spoa::waf {
namespace {

using Clock = std::chrono::steady_clock;

// Times the engine's share of a phase, whatever way the phase ends.
class EngineTimer {
 public:
  explicit EngineTimer(std::int64_t& total) : total_(total), start_(Clock::now()) {}
  ~EngineTimer() {
    total_ += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_).count();
  }
  EngineTimer(const EngineTimer&) = delete;
  EngineTimer& operator=(const EngineTimer&) = delete;

 private:
  std::int64_t& total_;
  Clock::time_point start_;
};

const unsigned char* bytes_of(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string_view to_string(Action action) noexcept {
  switch (action) {
    case Action::pass:
      return "pass";
    case Action::deny:
      return "deny";
    case Action::redirect:
      return "redirect";
    case Action::drop:
      return "drop";
  }
  return "pass";
}

std::string_view to_string(Failure failure) noexcept {
  switch (failure) {
    case Failure::none:
      return "";
    case Failure::overload:
      return "overload";
    case Failure::timeout:
      return "timeout";
    case Failure::too_big:
      return "too-big";
    case Failure::internal:
      return "internal";
    case Failure::bad_request:
      return "bad-request";
    case Failure::no_app:
      return "no-app";
    case Failure::no_transaction:
      return "no-transaction";
  }
  return "internal";
}

Transaction::Transaction(const Engine& engine, const Application& app, const std::string& id)
    : app_(&app) {
  // The id becomes ModSecurity's UNIQUE_ID and the audit log's transaction id; the
  // constructor copies it.
  std::vector<char> id_copy(id.begin(), id.end());
  id_copy.push_back('\0');
  if (id.empty())
    tx_ = std::make_unique<modsecurity::Transaction>(&engine.modsecurity(), app.rules.get(),
                                                     engine.log_context());
  else
    tx_ = std::make_unique<modsecurity::Transaction>(&engine.modsecurity(), app.rules.get(),
                                                     id_copy.data(), engine.log_context());
}

Transaction::~Transaction() {
  if (!logged_) tx_->processLogging();
}

bool Transaction::intervened(Verdict& verdict) {
  modsecurity::ModSecurityIntervention it;
  modsecurity::intervention::clean(&it);
  const bool disrupted = tx_->intervention(&it);
  if (disrupted) {
    verdict.status = it.status;
    if (it.url != nullptr) {
      verdict.action = Action::redirect;
      verdict.redirect = it.url;
      if (verdict.status < 300 || verdict.status > 399) verdict.status = 302;
    } else if (it.status == drop_status) {
      verdict.action = Action::drop;
    } else {
      verdict.action = Action::deny;
      if (verdict.status < 400) verdict.status = 403;
    }
  }
  modsecurity::intervention::free(&it);
  return disrupted;
}

void Transaction::collect(Verdict& verdict, const char* score_variable) {
  ids_.clear();
  const auto& messages = tx_->m_rulesMessages;
  std::size_t index = 0;
  int best_severity = 8;
  std::string best_message;
  for (const modsecurity::RuleMessage& m : messages) {
    if (index++ < messages_seen_) continue;
    if (!m.m_saveMessage) continue;
    const std::string id = std::to_string(m.m_ruleId);
    // A rule that matched several variables logs once per variable: report it once.
    const bool seen = std::find(ids_.begin(), ids_.end(), m.m_ruleId) != ids_.end();
    if (!seen) ids_.push_back(m.m_ruleId);
    if (!seen && !verdict.rule_ids_truncated) {
      if (verdict.rule_ids.size() + 1 + id.size() > rule_ids_limit) {
        verdict.rule_ids_truncated = true;
      } else {
        if (!verdict.rule_ids.empty()) verdict.rule_ids += ' ';
        verdict.rule_ids += id;
      }
    }
    const bool has_severity = m.m_rule != nullptr && m.m_rule->hasSeverity();
    if (has_severity && m.m_severity < best_severity) {
      best_severity = m.m_severity;
      best_message = m.m_message;
    }
    if (m.m_isDisruptive && verdict.rule_id == 0) {
      verdict.rule_id = m.m_ruleId;
      verdict.message = m.m_message;
    }
  }
  messages_seen_ = messages.size();
  if (best_severity < 8) verdict.severity = best_severity;
  if (verdict.message.empty()) verdict.message = best_message;
  if (auto score = tx_->m_collections.m_tx_collection->resolveFirst(score_variable)) {
    char* end = nullptr;
    const long value = std::strtol(score->c_str(), &end, 10);
    if (end != score->c_str()) verdict.anomaly_score = static_cast<int>(value);
  }
}

Verdict Transaction::request(HttpRequest& request) {
  Verdict verdict;
  verdict.app = app_->settings.name;
  verdict.headers_truncated = request.headers.truncated;
  verdict.body_truncated = request.body_truncated;
  bytes_ = sizeof(*this) + request.bytes();

  const TruncatedBody policy = app_->settings.truncated_body;
  if (request.body_truncated && policy == TruncatedBody::deny) {
    verdict.action = Action::deny;
    verdict.status = 413;
    verdict.message = "request body truncated by HAProxy (body_len < body_size)";
    return verdict;
  }

  EngineTimer timer(verdict.engine_us);
  tx_->processConnection(request.client_ip.c_str(), request.client_port, request.server_ip.c_str(),
                         request.server_port);
  tx_->processURI(request.uri.c_str(), request.method.c_str(), request.version.c_str());
  bool disrupted = intervened(verdict);
  if (!disrupted) {
    for (const Header& h : request.headers.headers)
      tx_->addRequestHeader(bytes_of(h.name), h.name.size(), bytes_of(h.value), h.value.size());
    tx_->processRequestHeaders();
    disrupted = intervened(verdict);
  }
  if (!disrupted) {
    const bool skip_body = request.body_truncated && policy == TruncatedBody::headers_only;
    if (!skip_body && !request.body.empty())
      tx_->appendRequestBody(bytes_of(request.body), request.body.size());
    tx_->processRequestBody();
    intervened(verdict);
  }
  collect(verdict, "anomaly_score");
  return verdict;
}

Verdict Transaction::response(HttpResponse& response) {
  Verdict verdict;
  verdict.app = app_->settings.name;
  verdict.headers_truncated = response.headers.truncated;
  verdict.body_truncated = response.body_truncated;
  {
    EngineTimer timer(verdict.engine_us);
    for (const Header& h : response.headers.headers)
      tx_->addResponseHeader(bytes_of(h.name), h.name.size(), bytes_of(h.value), h.value.size());
    tx_->processResponseHeaders(response.status, "HTTP " + response.version);
    bool disrupted = intervened(verdict);
    if (!disrupted) {
      if (!response.body.empty())
        tx_->appendResponseBody(bytes_of(response.body), response.body.size());
      tx_->processResponseBody();
      intervened(verdict);
    }
    tx_->processLogging();
    logged_ = true;
  }
  collect(verdict, "outbound_anomaly_score");
  return verdict;
}

}  // namespace spoa::waf
