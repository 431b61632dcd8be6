#include "spoa/support/source_health.hpp"

namespace spoa::support {
namespace {
double unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}
}  // namespace

void SourceHealth::loaded(std::size_t entries, std::chrono::system_clock::time_point when) {
  std::lock_guard lock(mutex_);
  view_.entries = entries;
  ++view_.loads_ok;
  view_.last_success = unix_seconds(when);
  view_.has_data = true;
  view_.last_ok = true;
}

void SourceHealth::failed(std::string error, std::chrono::system_clock::time_point when) {
  std::lock_guard lock(mutex_);
  ++view_.loads_failed;
  view_.last_failure = unix_seconds(when);
  view_.last_ok = false;
  view_.last_error = std::move(error);
}

SourceHealth::View SourceHealth::view() const {
  std::lock_guard lock(mutex_);
  return view_;
}

}  // namespace spoa::support
