// probe.so: a test-only plugin that uses every ABI 1.1 addition, so that the tests can
// see each one work through the real spoa-host binary (host_abi_test.cpp). Messages:
//   context       sets stream_id, frame_id, engine_id, peer, deadline_left_ms, pool
//   config        sets what it read from its structured config (see read_config)
//   count         adds 1 to probe_calls_total{message="count",result=<arg result>},
//                 observes <arg value> in probe_value and sets probe_last_value to it
//   wait_abandon  answers PENDING and never completes on its own: the host's abandonment
//                 callback counts probe_abandoned_total{how="callback"} and completes
//   block         blocks (pool mode) until request_abandoned() says 1, then counts
//                 probe_abandoned_total{how="polled"}; with arg ignore=true it blocks for
//                 arg ms milliseconds whatever happens
//   late          answers DONE, then a plugin thread calls set_var, unset_var and complete
//                 on the sealed request; probe_late_calls_total{call,status} counts what
//                 each returned
//   late_pending  answers PENDING; a plugin thread completes it, then calls set_var,
//                 unset_var and complete again (counted the same way)
// Config: feeds (array of tables), limits.per_second, must_be_string, init_sleep_ms.
#include <spoa/plugin.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;

std::string status_label(std::int32_t status) {
  switch (status) {
    case SPOA_OK:
      return "ok";
    case SPOA_ERR_NOT_ALLOWED:
      return "not_allowed";
    case SPOA_ERR_INVALID_ARGUMENT:
      return "invalid_argument";
    case SPOA_ERR_HOST_FAILURE:
      return "host_failure";
    default:
      return "other";
  }
}

class Probe {
 public:
  explicit Probe(spoa::InitContext& ctx) : host_(&ctx.host()), log_(ctx.logger()) {
    name_ = std::string(ctx.name());
    read_config(ctx.settings());
    // A slow init(), to see a reload build its generation off the main thread.
    if (const auto sleep = ctx.settings()["init_sleep_ms"]; sleep)
      std::this_thread::sleep_for(std::chrono::milliseconds(sleep.integer()));
    calls_ =
        ctx.counter("probe_calls_total", "Calls by message and result.", {"message", "result"}, 4);
    values_ = ctx.histogram("probe_value", "Values observed.", {}, {1, 10, 100});
    last_ = ctx.gauge("probe_last_value", "The last value observed.");
    abandoned_ = ctx.counter("probe_abandoned_total", "Abandonment notices.", {"how"});
    late_ = ctx.counter("probe_late_calls_total", "Late calls by call and status.",
                        {"call", "status"}, 32);
    for (std::string_view message : ctx.messages()) {
      if (message == "late" || message == "late_pending") {
        // Raw C handlers: these need the request handle itself.
        const std::int32_t status =
            host_->register_message(ctx.instance(), spoa::to_str(message),
                                    message == "late" ? &Probe::late : &Probe::late_pending, this);
        if (status != SPOA_OK) throw spoa::Error("cannot register " + std::string(message));
      } else {
        ctx.on(message, this, &Probe::answer);
      }
    }
  }

  ~Probe() {
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      threads.swap(threads_);
    }
    for (auto& t : threads)
      t.join();
  }

  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  spoa::Result answer(const spoa::Message& message, spoa::Reply& reply) {
    const std::string_view name = message.name();
    if (name == "context") {
      const auto context = reply.context();
      if (!context) return spoa::Result::failed;
      reply.set(spoa::Scope::txn, "stream_id", context->stream_id);
      reply.set(spoa::Scope::txn, "frame_id", context->frame_id);
      reply.set(spoa::Scope::txn, "engine_id", context->engine_id);
      reply.set(spoa::Scope::txn, "peer", context->peer);
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          context->deadline - std::chrono::steady_clock::now());
      reply.set(spoa::Scope::txn, "deadline_left_ms", static_cast<std::int64_t>(left.count()));
      reply.set(spoa::Scope::txn, "pool", context->pool);
      reply.set(spoa::Scope::txn, "instance", name_);
      return spoa::Result::done;
    }
    if (name == "config") {
      reply.set(spoa::Scope::txn, "summary", summary_);
      return spoa::Result::done;
    }
    if (name == "count") {
      const auto result = message.find("result");
      const auto value = message.find("value");
      const std::string label =
          result && result->as_string() ? std::string(*result->as_string()) : std::string("none");
      const spoa::Status status = calls_.add(1, {"count", label});
      if (value && value->as_int64()) {
        values_.observe(static_cast<double>(*value->as_int64()));
        last_.set(static_cast<double>(*value->as_int64()));
      }
      reply.set(spoa::Scope::txn, "status", std::string(spoa::to_string(status)));
      return spoa::Result::done;
    }
    if (name == "wait_abandon") {
      spoa::PendingRequest pending = reply.defer();
      spoa_request* request = pending.release();  // completed by the callback, once
      if (host_->on_abandon(request, &Probe::abandoned_callback, this) != SPOA_OK)
        host_->complete(request, SPOA_FAILED);
      return spoa::Result::pending;
    }
    if (name == "block") {
      log_.info("block: started");
      const auto ignore = message.find("ignore");
      const auto ms = message.find("ms");
      if (ignore && ignore->as_bool() && *ignore->as_bool()) {
        std::this_thread::sleep_for(
            std::chrono::milliseconds(ms && ms->as_int64() ? *ms->as_int64() : 1000));
        reply.set(spoa::Scope::txn, "blocked", true);
        return spoa::Result::done;
      }
      const auto until = std::chrono::steady_clock::now() + 30s;
      while (!reply.abandoned() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(5ms);
      if (reply.abandoned()) abandoned_.add(1, {"polled"});
      return spoa::Result::done;
    }
    return spoa::Result::failed;
  }

 private:
  void read_config(const spoa::ConfigValue& cfg) {
    // feeds: an array of tables, each with url (string), weight (int), ratio (float),
    // enabled (bool); limits: a nested table. The summary lists what was read, typed.
    const spoa::ConfigValue feeds = cfg["feeds"];
    summary_ = "feeds=" + std::to_string(feeds.size());
    for (std::size_t i = 0; i < feeds.size(); ++i) {
      const spoa::ConfigValue feed = feeds.at(i);
      summary_ += ";" + feed.path() + ".url=" + std::string(feed["url"].string());
      summary_ += ";weight=" + std::to_string(feed["weight"].integer());
      if (feed["ratio"]) summary_ += ";ratio=" + std::to_string(feed["ratio"].floating());
      if (feed["enabled"])
        summary_ += std::string(";enabled=") + (feed["enabled"].boolean() ? "true" : "false");
    }
    const spoa::ConfigValue limit = cfg["limits"]["per_second"];
    if (limit)
      summary_ += ";limits.per_second=" + std::to_string(limit.integer()) + "@" + limit.where();
    // A config key with the wrong type fails init with its FILE:LINE:COL.
    if (cfg["must_be_string"]) (void)cfg["must_be_string"].string();
  }

  static void abandoned_callback(void* user, spoa_request* request) {
    auto* self = static_cast<Probe*>(user);
    self->abandoned_.add(1, {"callback"});
    // Still due once after an abandonment (plugin.h): it answers NOT_ALLOWED.
    const std::int32_t status = self->host_->complete(request, SPOA_DONE);
    self->late_.add(1, {"complete_after_abandon", status_label(status)});
  }

  void late_calls(spoa_request* request, const char* prefix) {
    spoa_value v{};
    v.type = SPOA_TYPE_BOOL;
    v.u.boolean = 1;
    const std::string p(prefix);
    late_.add(1, {p + "set_var",
                  status_label(host_->set_var(request, SPOA_SCOPE_TXN, spoa::to_str("late"), &v))});
    late_.add(1, {p + "unset_var",
                  status_label(host_->unset_var(request, SPOA_SCOPE_TXN, spoa::to_str("late")))});
    late_.add(1, {p + "complete", status_label(host_->complete(request, SPOA_DONE))});
  }

  // DONE at once; the thread waits until the host sealed the request, then calls.
  static std::int32_t late(void* user, spoa_request* request, spoa_str, const spoa_arg*,
                           std::size_t) noexcept {
    auto* self = static_cast<Probe*>(user);
    try {
      std::lock_guard<std::mutex> lock(self->mutex_);
      self->threads_.emplace_back([self, request] {
        const auto until = std::chrono::steady_clock::now() + 10s;
        while (self->host_->request_abandoned(request) == 0 &&
               std::chrono::steady_clock::now() < until)
          std::this_thread::sleep_for(1ms);
        self->late_calls(request, "");
      });
    } catch (...) {
      return SPOA_FAILED;
    }
    return SPOA_DONE;
  }

  static std::int32_t late_pending(void* user, spoa_request* request, spoa_str, const spoa_arg*,
                                   std::size_t) noexcept {
    auto* self = static_cast<Probe*>(user);
    try {
      std::lock_guard<std::mutex> lock(self->mutex_);
      self->threads_.emplace_back([self, request] {
        spoa_value v{};
        v.type = SPOA_TYPE_BOOL;
        v.u.boolean = 1;
        self->host_->set_var(request, SPOA_SCOPE_TXN, spoa::to_str("before"), &v);
        self->late_.add(
            1, {"first_complete", status_label(self->host_->complete(request, SPOA_DONE))});
        self->late_calls(request, "pending_");
      });
    } catch (...) {
      return SPOA_FAILED;
    }
    return SPOA_PENDING;
  }

  const spoa_host_api* host_;
  spoa::Logger log_;
  std::string name_;
  std::string summary_;
  spoa::Metric calls_;
  spoa::Metric values_;
  spoa::Metric last_;
  spoa::Metric abandoned_;
  spoa::Metric late_;
  std::mutex mutex_;
  std::vector<std::thread> threads_;
};

}  // namespace

SPOA_PLUGIN(Probe, "probe", "1.1.0")
