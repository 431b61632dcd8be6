// The CrowdSec local API decision stream (GET /v1/decisions/stream): a JSON object with
// "new" and "deleted" arrays (either may be null) of decisions
//   {"id":1,"origin":"cscli","scenario":"manual 'ban' from 'x'","scope":"Ip",
//    "type":"ban","value":"192.0.2.5","duration":"59m58.2s"}
// The first call of a bouncer passes startup=true and gets every active decision; later
// calls get what changed since that bouncer's previous call. Durations are Go's
// time.Duration text, negative for decisions already over.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "../source_data.hpp"

namespace spoa::iprep::crowdsec {

using Clock = std::chrono::system_clock;

struct Decision {
  std::int64_t id = 0;
  std::string type;   // ban, captcha, or what a profile invents
  std::string scope;  // Ip, Range (Country, AS, ... are not addresses and are skipped)
  std::string value;
  std::string scenario;
  std::string origin;
  std::optional<Prefix> prefix;  // value parsed, for Ip/Range scopes
  Clock::time_point expires;
};

struct StreamUpdate {
  std::vector<Decision> added;
  std::vector<Decision> deleted;
  std::size_t skipped = 0;  // decisions whose scope or value is not an address/network
};

// Go's time.Duration text ("1h2m3.5s", "-19.4ms", "300ms", "0s"); nullopt if malformed.
std::optional<std::chrono::nanoseconds> parse_go_duration(std::string_view text) noexcept;

// Throws std::runtime_error with what is wrong (not JSON, not an object, bad decision).
StreamUpdate parse_stream(std::string_view body, Clock::time_point received);

// The decisions a bouncer currently knows, keyed by decision id, so that deleting one
// decision removes exactly it: another decision for the same address (a ban next to a
// captcha, two scenarios) stays. Deletions are honoured even when they arrive for an id
// the store never saw (matched by scope, value and type then), so a missed "new" cannot
// turn into a ban that outlives its deletion.
class DecisionStore {
 public:
  // Types answered; empty = all.
  explicit DecisionStore(std::set<std::string> types = {}) : types_(std::move(types)) {}

  void replace(const StreamUpdate& full);  // a startup pull
  void apply(const StreamUpdate& delta);   // a later pull
  // Drops what expired by `now`.
  void expire(Clock::time_point now);
  std::size_t size() const noexcept { return by_id_.size(); }

  // A lookup table of the decisions in force at `now`. Where several cover one network,
  // "ban" wins over other types, then the one that lasts longest.
  std::shared_ptr<SourceData> build(Clock::time_point now) const;

 private:
  bool wanted(const Decision& d) const { return types_.empty() || types_.count(d.type) != 0; }
  void erase(const Decision& d);

  std::set<std::string> types_;
  std::map<std::int64_t, Decision> by_id_;
};

}  // namespace spoa::iprep::crowdsec
