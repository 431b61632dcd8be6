#include "database_watcher.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <ctime>

namespace spoa::geoip {

std::optional<FileSignature> FileSignature::of(const std::string& path) noexcept {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  FileSignature s;
  s.device = st.st_dev;
  s.inode = st.st_ino;
  s.size = static_cast<unsigned long long>(st.st_size);
  s.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  s.ctime_ns = static_cast<long long>(st.st_ctim.tv_sec) * 1000000000LL + st.st_ctim.tv_nsec;
  return s;
}

DatabaseWatcher::DatabaseWatcher(Geoip& geoip, Log log) : geoip_(geoip), log_(std::move(log)) {
  for (const auto& slot : geoip_.slots())
    seen_.push_back(FileSignature::of(slot->config().file));
}

DatabaseWatcher::~DatabaseWatcher() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DatabaseWatcher::start(std::chrono::milliseconds interval, std::chrono::milliseconds tick,
                            std::function<void()> on_tick) {
  if (!on_tick) tick = {};
  if ((interval.count() == 0 && tick.count() == 0) || thread_.joinable()) return;
  thread_ = std::thread(
      [this, interval, tick, on_tick = std::move(on_tick)] { run(interval, tick, on_tick); });
}

void DatabaseWatcher::run(std::chrono::milliseconds interval, std::chrono::milliseconds tick,
                          std::function<void()> on_tick) {
  using clock = std::chrono::steady_clock;
  clock::time_point next_check = clock::now() + interval;
  clock::time_point next_tick = clock::now() + tick;
  std::unique_lock lock(mutex_);
  while (true) {
    clock::time_point wake_at = clock::time_point::max();
    if (interval.count() != 0) wake_at = next_check;
    if (tick.count() != 0) wake_at = std::min(wake_at, next_tick);
    if (wake_.wait_until(lock, wake_at, [this] { return stop_; })) return;
    lock.unlock();
    const clock::time_point now = clock::now();
    if (interval.count() != 0 && now >= next_check) {
      check_now();
      next_check = clock::now() + interval;
    }
    if (tick.count() != 0 && now >= next_tick) {
      on_tick();
      next_tick = clock::now() + tick;
    }
    lock.lock();
  }
}

namespace {
std::string time_text(std::chrono::system_clock::time_point t) {
  const std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  char text[32] = "?";
  if (gmtime_r(&s, &tm) != nullptr) std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}
}  // namespace

int DatabaseWatcher::check_now() {
  std::lock_guard lock(check_mutex_);
  int reloaded = 0;
  for (std::size_t i = 0; i < geoip_.slots().size(); ++i) {
    DatabaseSlot& slot = *geoip_.slots()[i];
    const std::optional<FileSignature> now = FileSignature::of(slot.config().file);
    if (now == seen_[i]) continue;
    seen_[i] = now;
    const std::string name = "database " + slot.config().name + ": ";
    const auto previous = slot.current();
    const std::string kept = previous ? "; still answering with the version loaded at " +
                                            time_text(previous->loaded_at())
                                      : "; no version to answer with";
    if (!now) {
      log_(Level::error, name + slot.config().file + " is gone" + kept);
      if (on_load_) on_load_(slot, false);
      continue;
    }
    try {
      const auto loaded = slot.load();
      ++reloaded;
      log_(Level::info, name + "reloaded " + slot.config().file + ": " + loaded->summary());
      if (on_load_) on_load_(slot, true);
    } catch (const std::exception& e) {
      log_(Level::error, name + e.what() + kept);
      if (on_load_) on_load_(slot, false);
    }
  }
  return reloaded;
}

}  // namespace spoa::geoip
