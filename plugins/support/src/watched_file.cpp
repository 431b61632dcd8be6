#include "spoa/support/watched_file.hpp"

#include <sys/stat.h>

#include <exception>

namespace spoa::support {

WatchedFile::WatchedFile(std::string path, Loader load, std::shared_ptr<SourceHealth> health,
                         LogSink log)
    : path_(std::move(path)),
      load_(std::move(load)),
      health_(std::move(health)),
      log_(std::move(log)) {}

std::optional<WatchedFile::Signature> WatchedFile::stat_file() const noexcept {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) return std::nullopt;
  Signature s;
  s.device = st.st_dev;
  s.inode = st.st_ino;
  s.size = static_cast<unsigned long long>(st.st_size);
  s.mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  s.ctime_ns = static_cast<long long>(st.st_ctim.tv_sec) * 1000000000LL + st.st_ctim.tv_nsec;
  return s;
}

std::size_t WatchedFile::attempt() {
  // The signature is taken before reading: a write that lands during the parse changes it
  // again, so the next poll reloads instead of keeping a half-read version for good.
  last_seen_ = stat_file();
  try {
    const std::size_t entries = load_(path_);
    health_->loaded(entries);
    missing_reported_ = false;
    return entries;
  } catch (const std::exception& e) {
    health_->failed(e.what());
    throw;
  }
}

void WatchedFile::load_now() {
  std::lock_guard lock(mutex_);
  attempt();
}

bool WatchedFile::refresh() noexcept {
  std::lock_guard lock(mutex_);
  const auto now = stat_file();
  if (!now) {
    if (!missing_reported_ && log_) {
      log_(Severity::warn, path_ + ": cannot be read any more; keeping the version loaded last");
    }
    if (!missing_reported_) health_->failed(path_ + ": missing");
    missing_reported_ = true;
    last_seen_.reset();
    return false;
  }
  if (last_seen_ && *now == *last_seen_) return false;
  try {
    const std::size_t entries = attempt();
    if (log_) log_(Severity::info, path_ + ": reloaded, " + std::to_string(entries) + " entries");
    return true;
  } catch (const std::exception& e) {
    if (log_) log_(Severity::error, std::string(e.what()) + "; keeping the version loaded last");
    return false;
  } catch (...) {
    if (log_) log_(Severity::error, path_ + ": unknown error; keeping the version loaded last");
    return false;
  }
}

void FileWatcher::watch(std::shared_ptr<WatchedFile> file) {
  std::lock_guard lock(mutex_);
  files_.push_back(std::move(file));
}

void FileWatcher::start() {
  if (thread_) return;
  thread_ = std::make_unique<PeriodicThread>(interval_, [this] { check_now(); });
}

void FileWatcher::stop() {
  thread_.reset();
}

void FileWatcher::check_now() noexcept {
  std::vector<std::shared_ptr<WatchedFile>> files;
  {
    std::lock_guard lock(mutex_);
    files = files_;
  }
  for (const auto& f : files)
    f->refresh();
}

}  // namespace spoa::support
