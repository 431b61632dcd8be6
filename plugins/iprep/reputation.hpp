// The verdict over all sources of one iprep instance. Allowlist sources are consulted
// first and any match wins (an operator's "never block these" beats every feed). Among the
// other sources the most specific match wins, ties going to the source whose name sorts
// first, so the answer never depends on the order of keys in a config file.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "source_data.hpp"
#include "spoa/support/snapshot.hpp"
#include "spoa/support/source_health.hpp"

namespace spoa::iprep {

struct Source {
  std::string name;
  std::string action;  // "deny", "allow", or any word the operator's rules test
  std::string kind;    // list, netset, ipset, csv, crowdsec (for logs and metrics)
  bool allowlist = false;
  std::shared_ptr<support::Snapshot<SourceData>> data =
      std::make_shared<support::Snapshot<SourceData>>();
  std::shared_ptr<support::SourceHealth> health;
};

struct Verdict {
  bool listed = false;   // matched a source that is not an allowlist
  bool allowed = false;  // matched an allowlist
  const Source* source = nullptr;
  std::string_view action;  // the decision's own type (CrowdSec) or the source's action
  std::string_view label;
  std::optional<std::int32_t> score;
  std::optional<Prefix> prefix;
  std::shared_ptr<const SourceData> hold;  // keeps label/action views alive
};

class Reputation {
 public:
  // Sources are kept in judging order (allowlists, then by name).
  explicit Reputation(std::vector<Source> sources);

  Verdict judge(const IpAddress& address, std::chrono::system_clock::time_point now =
                                              std::chrono::system_clock::now()) const noexcept;

  const std::vector<Source>& sources() const noexcept { return sources_; }

 private:
  std::vector<Source> sources_;
};

}  // namespace spoa::iprep
