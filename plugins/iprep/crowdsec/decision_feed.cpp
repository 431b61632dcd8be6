#include "decision_feed.hpp"

#include <exception>

namespace spoa::iprep::crowdsec {

DecisionFeed::DecisionFeed(std::string name, Options options, Fetch fetch,
                           std::shared_ptr<support::Snapshot<SourceData>> output,
                           std::shared_ptr<support::SourceHealth> health, support::LogSink log,
                           Now now)
    : name_(std::move(name)),
      options_(std::move(options)),
      fetch_(std::move(fetch)),
      output_(std::move(output)),
      health_(std::move(health)),
      log_(std::move(log)),
      now_(std::move(now)),
      store_(options_.types) {}

DecisionFeed::~DecisionFeed() {
  stop();
}

bool DecisionFeed::pull() noexcept {
  std::lock_guard lock(mutex_);
  const bool startup = !synced_;
  // Only addresses and networks can be judged; asking for just those keeps country or AS
  // decisions (which LAPI also streams) out of the answer.
  const std::string target = std::string("v1/decisions/stream?startup=") +
                             (startup ? "true" : "false") + "&scopes=ip,range";
  try {
    const std::string body = fetch_(target);
    const Clock::time_point now = now_();
    const StreamUpdate update = parse_stream(body, now);
    if (startup)
      store_.replace(update);
    else
      store_.apply(update);
    store_.expire(now);
    output_->publish(store_.build(now));
    health_->loaded(store_.size());
    // Every pull is logged at debug (the e2e test counts them); startup pulls at info.
    if (log_) {
      log_(startup ? support::Severity::info : support::Severity::debug,
           "source '" + name_ + "': " + (startup ? "startup pull" : "pull") + ", " +
               std::to_string(update.added.size()) + " new, " +
               std::to_string(update.deleted.size()) + " deleted, " +
               std::to_string(store_.size()) + " in force");
    }
    synced_ = true;
    return true;
  } catch (const std::exception& e) {
    synced_ = false;
    health_->failed(e.what());
    // The decisions in force keep serving but still run out on time.
    try {
      const Clock::time_point now = now_();
      store_.expire(now);
      output_->publish(store_.build(now));
    } catch (...) {
    }
    if (log_)
      log_(support::Severity::error, "source '" + name_ + "': " + e.what() + "; keeping the " +
                                         std::to_string(store_.size()) +
                                         " decisions in force, next pull starts over");
    return false;
  }
}

void DecisionFeed::start() {
  if (thread_) return;
  thread_ = std::make_unique<support::PeriodicThread>(options_.poll_interval, [this] { pull(); });
}

void DecisionFeed::stop() {
  thread_.reset();
}

}  // namespace spoa::iprep::crowdsec
