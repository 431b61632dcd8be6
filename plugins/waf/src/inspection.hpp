// One HTTP transaction through libmodsecurity: the request phase from what the SPOE
// request message carried, and optionally the response phase later, on the same
// modsecurity::Transaction. The call order is ModSecurity-nginx's: connection, URI,
// request headers, request body, (response headers, response body), logging; after each
// step the intervention is read.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine.hpp"
#include "header_block.hpp"

namespace modsecurity {
class Transaction;
}

namespace spoa::waf {

struct HttpRequest {
  std::string id;  // unique-id; also the transaction id in ModSecurity's logs
  std::string client_ip = "0.0.0.0";
  int client_port = 0;
  std::string server_ip = "0.0.0.0";
  int server_port = 0;
  std::string method = "GET";
  std::string uri = "/";  // path with query
  std::string version = "1.1";
  HeaderList headers;
  std::string body;
  bool body_truncated = false;  // body_len < body_size: HAProxy buffered only a part

  std::size_t bytes() const noexcept {
    return id.size() + uri.size() + method.size() + headers.bytes + body.size();
  }
};

struct HttpResponse {
  int status = 200;
  std::string version = "1.1";
  HeaderList headers;
  std::string body;
  bool body_truncated = false;
};

enum class Action { pass, deny, redirect, drop };
enum class Failure {
  none,
  overload,        // the inspection queue is full
  timeout,         // waited in the queue past queue_timeout
  too_big,         // body larger than the application's body_limit
  internal,        // the engine threw
  bad_request,     // malformed arguments (a header block that does not decode)
  no_app,          // the app argument names no application
  no_transaction,  // response phase with no stored request transaction
};

std::string_view to_string(Action action) noexcept;
std::string_view to_string(Failure failure) noexcept;

struct Verdict {
  Action action = Action::pass;
  int status = 0;
  std::string redirect;
  int rule_id = 0;       // the rule that intervened
  std::string rule_ids;  // every rule that logged a match, space separated
  bool rule_ids_truncated = false;
  int anomaly_score = 0;
  std::string message;
  int severity = -1;  // most severe (lowest) syslog severity matched, -1 none
  bool body_truncated = false;
  bool headers_truncated = false;
  std::int64_t engine_us = 0;
  std::string app;
  Failure failure = Failure::none;
  std::string failure_reason;  // for the log, not for HAProxy
};

// rule_ids longer than this are cut at a whole id and flagged: the ACK must fit a frame.
inline constexpr std::size_t rule_ids_limit = 2000;
// A rule answering status 444 (nginx's "close without a response") means action=drop:
// libmodsecurity 3 runs SecLang's own `drop` as a deny.
inline constexpr int drop_status = 444;

// A transaction kept between the request and the response phase.
class Transaction {
 public:
  Transaction(const Engine& engine, const Application& app, const std::string& id);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // Runs the request phases. The request is consumed (its body may be moved).
  Verdict request(HttpRequest& request);
  // Runs the response phases; call once, after request().
  Verdict response(HttpResponse& response);

  const Application& application() const noexcept { return *app_; }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  // Reads the intervention into `verdict`; true when it disrupted.
  bool intervened(Verdict& verdict);
  void collect(Verdict& verdict, const char* score_variable);

  const Application* app_;
  std::unique_ptr<modsecurity::Transaction> tx_;
  std::size_t messages_seen_ = 0;
  std::vector<int> ids_;  // of the phase being collected, to report each rule once
  std::size_t bytes_ = 0;
  bool logged_ = false;
};

}  // namespace spoa::waf
