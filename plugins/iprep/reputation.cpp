#include "reputation.hpp"

#include <algorithm>

namespace spoa::iprep {

Reputation::Reputation(std::vector<Source> sources) : sources_(std::move(sources)) {
  std::sort(sources_.begin(), sources_.end(), [](const Source& a, const Source& b) {
    if (a.allowlist != b.allowlist) return a.allowlist;
    return a.name < b.name;
  });
}

Verdict Reputation::judge(const IpAddress& address,
                          std::chrono::system_clock::time_point now) const noexcept {
  Verdict best;
  for (const Source& source : sources_) {
    std::shared_ptr<const SourceData> data = source.data->get();
    if (!data) continue;
    const auto match = data->lookup(address, now);
    if (!match) continue;
    if (!source.allowlist && best.prefix && best.prefix->length >= match->prefix.length) continue;
    best.listed = !source.allowlist;
    best.allowed = source.allowlist;
    best.source = &source;
    const Attributes& a = *match->attributes;
    best.action = a.action.empty() ? std::string_view(source.action) : a.action;
    best.label = a.label;
    best.score = a.has_score ? std::optional<std::int32_t>(a.score) : std::nullopt;
    best.prefix = match->prefix;
    best.hold = std::move(data);
    if (source.allowlist) return best;
  }
  return best;
}

}  // namespace spoa::iprep
