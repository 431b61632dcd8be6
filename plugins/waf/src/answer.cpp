#include "answer.hpp"

namespace spoa::waf {

std::int64_t coraza_error_code(Failure failure) noexcept {
  switch (failure) {
    case Failure::none:
      return 0;
    case Failure::timeout:
      return 2;
    case Failure::too_big:
      return 3;
    case Failure::bad_request:
      return 4;
    case Failure::overload:
    case Failure::internal:
    case Failure::no_app:
    case Failure::no_transaction:
      return 1;
  }
  return 1;
}

namespace {

void write_native(const Verdict& v, AnswerSink& sink) {
  sink.set("app", std::string_view(v.app));
  if (v.failure != Failure::none) {
    sink.set("error", to_string(v.failure));
    return;
  }
  sink.set("action", to_string(v.action));
  sink.set("status", static_cast<std::int64_t>(v.status));
  if (v.action == Action::redirect) sink.set("redirect", std::string_view(v.redirect));
  sink.set("rule_id", static_cast<std::int64_t>(v.rule_id));
  sink.set("rule_ids", std::string_view(v.rule_ids));
  if (v.rule_ids_truncated) sink.set("rule_ids_truncated", true);
  sink.set("anomaly_score", static_cast<std::int64_t>(v.anomaly_score));
  if (!v.message.empty()) sink.set("message", std::string_view(v.message));
  sink.set("severity", static_cast<std::int64_t>(v.severity));
  sink.set("body_truncated", v.body_truncated);
  sink.set("headers_truncated", v.headers_truncated);
  sink.set("engine_us", v.engine_us);
}

void write_coraza(const Verdict& v, std::string_view id, AnswerSink& sink) {
  if (!id.empty()) sink.set("id", id);
  if (v.failure != Failure::none) {
    sink.set("error", coraza_error_code(v.failure));
    return;
  }
  if (v.action == Action::pass) return;  // coraza-spoa sets nothing more for a pass
  sink.set("action", to_string(v.action));
  sink.set("status", static_cast<std::int64_t>(v.status));
  sink.set("data", std::string_view(v.action == Action::redirect ? v.redirect : v.message));
  sink.set("ruleid", static_cast<std::int64_t>(v.rule_id));
}

}  // namespace

void write_answer(const Verdict& verdict, Dialect dialect, std::string_view id, AnswerSink& sink) {
  if (dialect == Dialect::coraza)
    write_coraza(verdict, id, sink);
  else
    write_native(verdict, sink);
}

}  // namespace spoa::waf
