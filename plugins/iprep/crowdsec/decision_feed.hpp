// One CrowdSec source: a startup pull, then a pull of the changes every poll interval, on
// its own thread; each pull that changes anything (or lets a decision expire) publishes a
// new table. A failed pull keeps the decisions in force (they still expire on time), and
// the next pull starts over with startup=true: after an error we cannot know which
// changes the local API already counts as delivered to us.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "../source_data.hpp"
#include "decision_stream.hpp"
#include "spoa/support/log_sink.hpp"
#include "spoa/support/periodic_thread.hpp"
#include "spoa/support/snapshot.hpp"
#include "spoa/support/source_health.hpp"

namespace spoa::iprep::crowdsec {

class DecisionFeed {
 public:
  // GETs a target relative to the local API's base URL and returns the body; throws on
  // failure. LapiClient::get in production, a scripted function in tests.
  using Fetch = std::function<std::string(const std::string& target)>;
  using Now = std::function<Clock::time_point()>;

  struct Options {
    std::set<std::string> types;  // empty: all
    std::chrono::milliseconds poll_interval{10000};
  };

  DecisionFeed(
      std::string name, Options options, Fetch fetch,
      std::shared_ptr<support::Snapshot<SourceData>> output,
      std::shared_ptr<support::SourceHealth> health, support::LogSink log,
      Now now = [] { return Clock::now(); });
  ~DecisionFeed();

  // One pull on the caller's thread. Never throws; false if it failed.
  bool pull() noexcept;
  // Starts the polling thread (pull() every poll interval).
  void start();
  void stop();

 private:
  std::string name_;
  Options options_;
  Fetch fetch_;
  std::shared_ptr<support::Snapshot<SourceData>> output_;
  std::shared_ptr<support::SourceHealth> health_;
  support::LogSink log_;
  Now now_;
  std::mutex mutex_;  // one pull at a time
  DecisionStore store_;
  bool synced_ = false;  // a startup pull succeeded and no pull failed since
  std::unique_ptr<support::PeriodicThread> thread_;
};

}  // namespace spoa::iprep::crowdsec
