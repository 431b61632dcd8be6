// waf: the spoa-host plugin around the inspection core. Handlers run on spoa-host's I/O
// threads, so they only decode and copy the message, then queue the inspection on the
// plugin's threads (InspectionPool) and answer later; a full queue answers
// error=overload at once. Every message gets an answer: a verdict, or an `error`.
#include <spoa/plugin.hpp>

#include <arpa/inet.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "allocator.hpp"
#include "answer.hpp"
#include "engine.hpp"
#include "header_block.hpp"
#include "inspection.hpp"
#include "inspection_pool.hpp"
#include "settings.hpp"
#include "transaction_table.hpp"
#include "waf_metrics.hpp"

namespace {

using namespace spoa::waf;
using Table = TransactionTable<Transaction>;

std::string address_text(const spoa::Arg& arg) {
  char text[INET6_ADDRSTRLEN] = {};
  if (const auto v4 = arg.as_ipv4()) {
    inet_ntop(AF_INET, v4->bytes.data(), text, sizeof text);
    return text;
  }
  if (const auto v6 = arg.as_ipv6()) {
    inet_ntop(AF_INET6, v6->bytes.data(), text, sizeof text);
    return text;
  }
  return std::string(arg.as_bytes().value_or(""));
}

class ReplySink final : public AnswerSink {
 public:
  explicit ReplySink(spoa::VarWriter& writer) : writer_(writer) {}
  void set(std::string_view name, std::string_view value) override {
    writer_.set(spoa::Scope::txn, name, value);
  }
  void set(std::string_view name, std::int64_t value) override {
    writer_.set(spoa::Scope::txn, name, value);
  }
  void set(std::string_view name, bool value) override {
    writer_.set(spoa::Scope::txn, name, value);
  }

 private:
  spoa::VarWriter& writer_;
};

// What one message carried, decoded and copied (arguments are borrowed from the host's
// buffer only for the handler call).
struct Decoded {
  std::string app;
  std::string id;
  HttpRequest request;
  HttpResponse response;
  std::optional<std::uint64_t> body_len;
  std::optional<std::uint64_t> body_size;
  std::optional<std::string> error;  // a reason when the message does not decode
};

Decoded decode(const spoa::Message& message, std::size_t header_limit, bool response) {
  Decoded d;
  std::string path;
  std::string query;
  for (const spoa::Arg arg : message.args()) {
    const std::string_view name = arg.name();
    if (name == "app") {
      d.app = std::string(arg.as_bytes().value_or(""));
    } else if (name == "id" || name == "unique-id" || name == "unique_id") {
      d.id = std::string(arg.as_bytes().value_or(""));
    } else if (name == "src_ip" || name == "src-ip" || name == "src") {
      d.request.client_ip = address_text(arg);
    } else if (name == "src_port" || name == "src-port") {
      d.request.client_port = static_cast<int>(arg.as_uint32().value_or(0));
    } else if (name == "dst_ip" || name == "dst-ip" || name == "dst") {
      d.request.server_ip = address_text(arg);
    } else if (name == "dst_port" || name == "dst-port") {
      d.request.server_port = static_cast<int>(arg.as_uint32().value_or(0));
    } else if (name == "method") {
      d.request.method = std::string(arg.as_bytes().value_or("GET"));
    } else if (name == "path") {
      path = std::string(arg.as_bytes().value_or("/"));
    } else if (name == "query") {
      query = std::string(arg.as_bytes().value_or(""));
    } else if (name == "version") {
      const std::string v(arg.as_bytes().value_or("1.1"));
      (response ? d.response.version : d.request.version) = v;
    } else if (name == "status") {
      d.response.status = static_cast<int>(arg.as_int32().value_or(200));
    } else if (name == "headers") {
      HeaderList& list = response ? d.response.headers : d.request.headers;
      std::optional<HeaderError> bad;
      // req.hdrs_bin arrives as BINARY, req.hdrs (coraza-spoa's examples) as STRING.
      if (const auto bin = arg.as_binary())
        bad = decode_binary_headers(*bin, header_limit, list);
      else if (const auto text = arg.as_string())
        bad = decode_text_headers(*text, header_limit, list);
      if (bad) d.error = "argument 'headers': " + bad->reason;
    } else if (name == "body") {
      (response ? d.response.body : d.request.body) = std::string(arg.as_bytes().value_or(""));
    } else if (name == "body_len" || name == "body-len") {
      d.body_len = arg.as_uint64();
    } else if (name == "body_size" || name == "body-size") {
      d.body_size = arg.as_uint64();
    }
  }
  if (!path.empty()) d.request.uri = query.empty() ? path : path + "?" + query;
  // HAProxy's req.body_size is the announced length (Content-Length), req.body_len what
  // it buffered; fewer bytes than announced, buffered or received (the spoe.conf may cut
  // the body with bytes() to fit HAProxy's SPOE buffer), is a truncated body.
  const std::size_t received = (response ? d.response.body : d.request.body).size();
  const bool truncated =
      d.body_size && ((d.body_len && *d.body_len < *d.body_size) || received < *d.body_size);
  (response ? d.response.body_truncated : d.request.body_truncated) = truncated;
  d.request.id = d.id;
  return d;
}

std::string random_id() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  static constexpr char letters[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string id(16, 'A');
  for (char& c : id)
    c = letters[generator() % 26];
  return id;
}

class Waf;

class InspectionJob final : public PoolJob {
 public:
  InspectionJob(Waf& waf, const Application& app, Decoded decoded, spoa::PendingRequest pending,
                bool response)
      : waf_(waf),
        app_(app),
        decoded_(std::move(decoded)),
        pending_(std::move(pending)),
        response_(response) {}
  void run() noexcept override;
  void expire() noexcept override;
  spoa::PendingRequest& pending() noexcept { return pending_; }

 private:
  Waf& waf_;
  const Application& app_;
  Decoded decoded_;
  spoa::PendingRequest pending_;
  bool response_;
};

class Waf {
 public:
  explicit Waf(spoa::InitContext& ctx)
      : log_(ctx.logger()),
        settings_(read_settings(ctx.config())),
        engine_(load(settings_, log_)),
        table_(TableLimits{settings_.table_entries, settings_.table_bytes, settings_.table_ttl}),
        metrics_(ctx, log_) {
    bool any = false;
    for (const std::string_view name : ctx.messages()) {
      if (name == settings_.request_message) {
        ctx.on(name,
               [this](const spoa::Message& m, spoa::Reply& r) { return on_message(m, r, false); });
      } else if (name == settings_.response_message) {
        ctx.on(name,
               [this](const spoa::Message& m, spoa::Reply& r) { return on_message(m, r, true); });
      } else {
        throw spoa::Error("message '" + std::string(name) + "' is neither request_message ('" +
                          settings_.request_message + "') nor response_message ('" +
                          settings_.response_message + "')");
      }
      any = true;
    }
    if (!any) throw spoa::Error("no message: list the request message in messages = [...]");
    for (const auto& [name, app] : engine_->applications())
      log_.info("application '" + name + "': " + std::to_string(app.rule_count) + " rules loaded" +
                (app.settings.detect_only ? " (detect only)" : ""));
    log_.info(allocator_report());
    // Started last: if anything above throws, there is no thread to stop.
    pool_ = std::make_unique<InspectionPool>(settings_.threads, settings_.queue,
                                             settings_.queue_timeout);
  }

  Waf(const Waf&) = delete;
  Waf& operator=(const Waf&) = delete;

  // shutdown(): the pool answers every queued inspection before it joins; then the stored
  // transactions go, then the rules. What was shed or evicted is also said once here, for
  // hosts without plugin metrics (WafMetrics exports it live on ABI 1.1 hosts).
  ~Waf() {
    const PoolStats pool = pool_->stats();
    pool_.reset();
    const TableStats t = table_.stats();
    log_.info("inspections shed (queue full): " + std::to_string(pool.refused) +
              ", expired in the queue: " + std::to_string(pool.expired) +
              "; response table: stored " + std::to_string(t.stored) + ", joined " +
              std::to_string(t.taken) + ", expired " + std::to_string(t.expired) + ", evicted " +
              std::to_string(t.evicted) + ", refused " + std::to_string(t.refused) +
              ", not found " + std::to_string(t.missing));
  }

  const Settings& settings() const noexcept { return settings_; }
  const Engine& engine() const noexcept { return *engine_; }
  Table& table() noexcept { return table_; }
  WafMetrics& metrics() noexcept { return metrics_; }

  void answer(spoa::VarWriter& writer, const Verdict& verdict, std::string_view id) {
    ReplySink sink(writer);
    write_answer(verdict, settings_.dialect, id, sink);
  }

  void answer_failure(spoa::VarWriter& writer, Failure failure, std::string_view app,
                      std::string_view id) {
    Verdict v;
    v.app = std::string(app);
    v.failure = failure;
    answer(writer, v, id);
  }

 private:
  static Settings read_settings(const spoa::Config& config) {
    ConfigPairs pairs;
    for (const spoa::ConfigEntry& e : config)
      pairs.emplace_back(e.key, e.value);
    try {
      return parse_settings(pairs);
    } catch (const SettingsError& e) {
      throw spoa::Error(e.what());
    }
  }

  static std::unique_ptr<Engine> load(const Settings& settings, spoa::Logger log) {
    try {
      // Every match that logs, at debug level: the audit log (audit_log per application)
      // is the record meant for people; these lines help while writing exclusions.
      return std::make_unique<Engine>(
          settings, [log](std::string_view line) { log.debug(std::string(line)); });
    } catch (const RulesError& e) {
      throw spoa::Error(e.what());
    }
  }

  spoa::Result on_message(const spoa::Message& message, spoa::Reply& reply, bool response) {
    Decoded decoded = decode(message, settings_.header_limit, response);
    const std::string app_name = decoded.app.empty() ? settings_.default_app : decoded.app;
    const Application* app = engine_->find(app_name);
    if (app == nullptr) {
      answer_failure(reply, Failure::no_app, app_name, decoded.id);
      return spoa::Result::done;
    }
    if (decoded.error) {
      log_.warn("message '" + std::string(message.name()) + "': " + *decoded.error);
      answer_failure(reply, Failure::bad_request, app_name, decoded.id);
      return spoa::Result::done;
    }
    const std::size_t body = response ? decoded.response.body.size() : decoded.request.body.size();
    if (!response && body > app->settings.body_limit) {
      answer_failure(reply, Failure::too_big, app_name, decoded.id);
      return spoa::Result::done;
    }
    if (response && decoded.id.empty()) {
      log_.warn("message '" + std::string(message.name()) + "': no id argument (unique-id)");
      answer_failure(reply, Failure::bad_request, app_name, decoded.id);
      return spoa::Result::done;
    }
    if (!response && decoded.id.empty() && settings_.dialect == Dialect::coraza)
      decoded.id = decoded.request.id = random_id();

    auto job =
        std::make_unique<InspectionJob>(*this, *app, std::move(decoded), reply.defer(), response);
    if (auto refused = pool_->submit(std::move(job))) {
      metrics_.shed();
      auto* j = static_cast<InspectionJob*>(refused.get());
      answer_failure(j->pending(), Failure::overload, app_name, {});
      j->pending().complete(spoa::Result::done);
    }
    return spoa::Result::pending;
  }

  spoa::Logger log_;
  Settings settings_;
  std::unique_ptr<Engine> engine_;
  Table table_;
  WafMetrics metrics_;  // after table_, before pool_: the pool's drain still counts
  std::unique_ptr<InspectionPool> pool_;
};

void InspectionJob::expire() noexcept {
  waf_.metrics().expired();
  try {
    waf_.answer_failure(pending_, Failure::timeout, app_.settings.name, decoded_.id);
  } catch (...) {
    // Nothing to say it with: the ACK goes out without variables.
  }
  pending_.complete(spoa::Result::done);
}

void InspectionJob::run() noexcept {
  const std::string& id = decoded_.id;
  try {
    if (!response_) {
      auto tx = std::make_unique<Transaction>(waf_.engine(), app_, id);
      const Verdict verdict = tx->request(decoded_.request);
      waf_.answer(pending_, verdict, id);
      if (app_.settings.response && verdict.action == Action::pass && !id.empty()) {
        waf_.table().put(id, std::move(tx));
        waf_.metrics().publish(waf_.table());
      }
    } else {
      std::unique_ptr<Transaction> tx = waf_.table().take(id);
      waf_.metrics().publish(waf_.table());
      if (!tx) {
        waf_.answer_failure(pending_, Failure::no_transaction, app_.settings.name, id);
      } else {
        const Verdict verdict = tx->response(decoded_.response);
        waf_.answer(pending_, verdict, id);
      }
    }
  } catch (...) {
    waf_.answer_failure(pending_, Failure::internal, app_.settings.name, id);
  }
  pending_.complete(spoa::Result::done);
}

}  // namespace

SPOA_PLUGIN(Waf, "waf", SPOA_WAF_VERSION)
