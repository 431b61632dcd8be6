// delay: answers every message late, from its own worker thread. It exists for the tests
// of the asynchronous path: PENDING, completions arriving out of order on a pipelined
// connection, and the processing deadline answering for a plugin that is too slow.
#include <spoa/plugin.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Longer than any sane processing timeout, and small enough that now() + delay cannot
// overflow the clock.
constexpr std::int64_t max_delay_ms = 3600 * 1000;

struct Job {
  spoa::PendingRequest request;
  std::int64_t delay_ms;
  std::optional<spoa::OwnedValue> tag;
};

class Delay {
 public:
  explicit Delay(spoa::InitContext& ctx) : log_(ctx.logger()) {
    const spoa::Config& config = ctx.config();
    config.reject_unknown({"delay", "messages"});

    const std::string_view text = config.get_or("delay", "10ms");
    const auto delay = spoa::parse_duration(text);
    if (!delay || *delay > milliseconds(max_delay_ms))
      throw spoa::Error("config key 'delay': '" + std::string(text) +
                        "' is not a duration such as 100ms or 2s (at most 1h)");
    default_delay_ms_ = std::chrono::duration_cast<milliseconds>(*delay).count();

    // Answers every message the spoa-host config maps to this instance; the optional
    // `messages` key narrows that to some of them.
    if (config.contains("messages")) {
      const auto only = config.get_list("messages");
      if (only.empty()) throw spoa::Error("config key 'messages': no message name");
      ctx.on_each_claimed(only,
                          [this](const spoa::Message& m, spoa::Reply& r) { return answer(m, r); });
    } else {
      ctx.on_each_claimed(this, &Delay::answer);
    }

    // Started last: if anything above throws, there is no thread to stop.
    worker_ = std::thread([this] { run(); });
  }

  Delay(const Delay&) = delete;
  Delay& operator=(const Delay&) = delete;

  // shutdown(): the host must not hear from this instance after it returns, so every
  // request still waiting is answered FAILED here and the worker is joined.
  ~Delay() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    worker_.join();
    for (auto& [deadline, job] : queue_)
      job.request.complete(spoa::Result::failed);
  }

  spoa::Result answer(const spoa::Message& message, spoa::Reply& reply) {
    std::int64_t delay_ms = default_delay_ms_;
    if (const auto arg = message.find("delay_ms")) {
      const auto value = arg->as_int64();
      if (!value || *value < 0 || *value > max_delay_ms) {
        log_.warn("message '" + std::string(message.name()) +
                  "': argument delay_ms must be an integer from 0 to " +
                  std::to_string(max_delay_ms));
        return spoa::Result::failed;
      }
      delay_ms = *value;
    }
    Job job{spoa::PendingRequest(), delay_ms, std::nullopt};
    // Arguments are views into the host's receive buffer: copy before answering later.
    if (const auto tag = message.find("tag")) job.tag.emplace(tag->value());
    job.request = reply.defer();

    const Clock::time_point deadline = Clock::now() + milliseconds(delay_ms);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // multimap keeps equal deadlines in arrival order.
      queue_.emplace(deadline, std::move(job));
    }
    wake_.notify_one();
    return spoa::Result::pending;
  }

 private:
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopping_) {
      if (queue_.empty()) {
        wake_.wait(lock);
        continue;
      }
      const Clock::time_point deadline = queue_.begin()->first;
      if (Clock::now() < deadline) {
        // Woken early by a new job with an earlier deadline, or by shutdown.
        wake_.wait_until(lock, deadline);
        continue;
      }
      Job job = std::move(queue_.begin()->second);
      queue_.erase(queue_.begin());
      // Calling the host with our lock held would serialise handlers behind completions.
      lock.unlock();
      finish(job);
      lock.lock();
    }
  }

  void finish(Job& job) {
    job.request.set(spoa::Scope::txn, "delay_ms", job.delay_ms);
    if (job.tag) job.request.set(spoa::Scope::txn, "tag", *job.tag);
    job.request.complete(spoa::Result::done);
  }

  spoa::Logger log_;
  std::int64_t default_delay_ms_ = 10;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<Clock::time_point, Job> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace

SPOA_PLUGIN(Delay, "delay", SPOA_DELAY_VERSION)
