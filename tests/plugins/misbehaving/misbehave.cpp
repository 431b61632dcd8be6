// misbehave.so: a plugin that breaks the rules on request, so the host's defences (and
// plugin.hpp's) can be tested. The behaviour is chosen per message by the STRING argument
// `mode`; see tests/plugins/README.md for the list.
#include <spoa/plugin.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

bool is_mode(const spoa_arg& arg, std::string_view mode) {
  return spoa::to_view(arg.name) == "mode" && arg.value.type == SPOA_TYPE_STRING &&
         spoa::to_view(arg.value.u.bytes) == mode;
}

// The handler the host sees. It answers `bad_return` itself, with a value that is no
// spoa_result (the ABI carries an int32_t, so this is well defined even in C++), and hands
// every other message to the plugin.hpp handler in `user`.
std::int32_t raw_handler(void* user, spoa_request* request, spoa_str message, const spoa_arg* args,
                         size_t nargs) noexcept {
  const auto* wrapped = static_cast<const spoa::CHandler*>(user);
  for (size_t i = 0; i < nargs; ++i) {
    // plugin.h: "Any other value is treated as SPOA_FAILED".
    if (is_mode(args[i], "bad_return")) return 42;
  }
  return wrapped->function(wrapped->user, request, message, args, nargs);
}

class Misbehave {
 public:
  explicit Misbehave(spoa::InitContext& ctx) : host_(&ctx.host()), log_(ctx.logger()) {
    const spoa::Config& config = ctx.config();
    config.reject_unknown({"messages"});
    wrapped_ = ctx.wrap([this](const spoa::Message& m, spoa::Reply& r) { return answer(m, r); });
    // Every message the instance is given, or only those of the optional `messages` key.
    const std::vector<std::string_view> claimed = ctx.messages();
    for (std::string_view name : claimed)
      claimed_.append(claimed_.empty() ? "" : ",").append(name);
    const std::vector<std::string_view> names =
        config.contains("messages") ? config.get_list("messages") : claimed;
    for (std::string_view name : names) {
      const spoa::Status status = spoa::detail::to_status(
          ctx.host().register_message(ctx.instance(), spoa::to_str(name), &raw_handler, &wrapped_));
      if (status != spoa::Status::ok)
        throw spoa::Error("cannot register '" + std::string(name) +
                          "': " + std::string(to_string(status)));
    }
  }

  Misbehave(const Misbehave&) = delete;
  Misbehave& operator=(const Misbehave&) = delete;

  ~Misbehave() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread& t : threads_)
      t.join();
  }

 private:
  spoa::Result answer(const spoa::Message& message, spoa::Reply& reply) {
    const auto mode_arg = message.find("mode");
    const std::string mode(mode_arg ? mode_arg->as_string().value_or("") : "");

    if (mode == "fail") {
      // The var must not reach HAProxy: a FAILED message contributes no actions.
      reply.set(spoa::Scope::txn, "before_fail", true);
      return spoa::Result::failed;
    }
    if (mode == "throw") throw std::runtime_error("misbehave: thrown on purpose");
    if (mode == "throw_other") throw 42;
    if (mode == "pending_without_defer") return spoa::Result::pending;
    if (mode == "drop_pending") {
      spoa::PendingRequest dropped = reply.defer();
      return spoa::Result::pending;  // `dropped` answers FAILED on its way out
    }
    if (mode == "throw_after_defer") {
      spoa::PendingRequest pending = reply.defer();
      throw std::runtime_error("misbehave: thrown after defer()");
    }
    if (mode == "never_complete") {
      // Keeps nothing: only the host's processing deadline can answer this one.
      static_cast<void>(reply.defer().release());
      return spoa::Result::pending;
    }
    if (mode == "complete_inline") {
      spoa::PendingRequest pending = reply.defer();
      pending.set(spoa::Scope::txn, "inline", true);
      pending.complete(spoa::Result::done);
      return spoa::Result::pending;
    }
    if (mode == "claimed") {
      reply.set(spoa::Scope::txn, "claimed", claimed_);
      reply.set(spoa::Scope::txn, "message", message.name());
      return spoa::Result::done;
    }
    if (mode == "bad_complete") {
      // The action must not reach HAProxy: complete() with 42 counts as FAILED.
      spoa_request* raw = reply.defer().release();
      const spoa_value v = bool_value(true);
      host_->set_var(raw, SPOA_SCOPE_TXN, spoa::to_str("before_bad_complete"), &v);
      const spoa::Status status = spoa::detail::to_status(host_->complete(raw, 42));
      log_.info("bad_complete: complete(42) returned " + std::string(to_string(status)));
      return spoa::Result::pending;
    }
    if (mode == "bad_scope") {
      // Scopes cross the ABI as int32_t (and spoa::Scope has it as its underlying type, so
      // these casts are well defined): the host must refuse values out of range.
      const spoa::Status low = reply.set(static_cast<spoa::Scope>(-1), "bad_low", true);
      const spoa::Status high = reply.set(static_cast<spoa::Scope>(99), "bad_high", true);
      reply.set(spoa::Scope::txn, "bad_scope_refused",
                low == spoa::Status::invalid_argument && high == spoa::Status::invalid_argument);
      return spoa::Result::done;
    }
    if (mode == "set_after_complete") {
      spoa_request* raw = reply.defer().release();
      host_->complete(raw, SPOA_DONE);
      const spoa_value v = bool_value(true);
      const auto status = static_cast<spoa::Status>(
          host_->set_var(raw, SPOA_SCOPE_TXN, spoa::to_str("after_complete"), &v));
      log_.info("set_after_complete: set_var after complete() returned " +
                std::string(to_string(status)));
      return spoa::Result::pending;
    }
    if (mode == "double_complete") {
      spoa_request* raw = reply.defer().release();
      start_thread([this, raw] {
        const auto first = static_cast<spoa::Status>(host_->complete(raw, SPOA_DONE));
        const auto second = static_cast<spoa::Status>(host_->complete(raw, SPOA_DONE));
        log_.info("double_complete: first complete() returned " + std::string(to_string(first)) +
                  ", second returned " + std::string(to_string(second)));
      });
      return spoa::Result::pending;
    }
    if (mode == "big") {
      const std::string big(20000, 'x');
      const spoa::Status status = reply.set(spoa::Scope::txn, "big", big);
      if (status == spoa::Status::too_big) {
        reply.set(spoa::Scope::txn, "too_big_refused", true);
      } else {
        log_.warn("big: a 20000-byte variable was not refused, set_var returned " +
                  std::string(to_string(status)));
      }
      return spoa::Result::done;
    }
    if (mode == "slow") {
      std::int64_t delay_ms = 100;
      if (const auto d = message.find("delay_ms")) delay_ms = d->as_int64().value_or(-1);
      if (delay_ms < 0 || delay_ms > 3600 * 1000) return spoa::Result::failed;
      std::optional<spoa::OwnedValue> tag;
      if (const auto t = message.find("tag")) tag.emplace(t->value());
      const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(delay_ms);
      start_thread(
          [this, deadline, delay_ms, tag = std::move(tag), pending = reply.defer()]() mutable {
            {
              std::unique_lock<std::mutex> lock(mutex_);
              wake_.wait_until(lock, deadline, [this] { return stopping_; });
              if (stopping_) {
                lock.unlock();
                pending.complete(spoa::Result::failed);
                return;
              }
            }
            pending.set(spoa::Scope::txn, "delay_ms", delay_ms);
            if (tag) pending.set(spoa::Scope::txn, "tag", *tag);
            pending.complete(spoa::Result::done);
          });
      return spoa::Result::pending;
    }
    if (mode.empty()) return spoa::Result::done;
    log_.warn("unknown mode '" + mode + "'");
    return spoa::Result::failed;
  }

  template <class F>
  void start_thread(F&& f) {
    std::lock_guard<std::mutex> lock(mutex_);
    threads_.emplace_back(std::forward<F>(f));
  }

  static spoa_value bool_value(bool b) {
    spoa_value v{};
    v.type = SPOA_TYPE_BOOL;
    v.u.boolean = b ? 1 : 0;
    return v;
  }

  const spoa_host_api* host_;
  spoa::Logger log_;
  spoa::CHandler wrapped_{};
  std::string claimed_;  // the instance's messages, comma-joined
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

SPOA_PLUGIN(Misbehave, "misbehave", "0.0.0")
