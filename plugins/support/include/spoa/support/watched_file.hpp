// Data files that are reloaded when they change. The plugin's loader parses a whole file
// into a new table and publishes it (a Snapshot); if parsing throws, nothing is published,
// the previous version keeps serving, and the log says `path:line: what` plus that the
// last good version stays. Changes are noticed by polling stat() (device, inode, size,
// mtime, ctime), which sees both in-place writes and the atomic rename(2) that list
// updaters (FireHOL's update-ipsets, cron + curl + mv) use, and needs no inotify watch
// per directory.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "spoa/support/log_sink.hpp"
#include "spoa/support/periodic_thread.hpp"
#include "spoa/support/source_health.hpp"

namespace spoa::support {

class WatchedFile {
 public:
  // Parses `path`, publishes the result and returns its number of entries; throws
  // ParseError (or any std::exception) when the file cannot be used.
  using Loader = std::function<std::size_t(const std::string& path)>;

  WatchedFile(std::string path, Loader load, std::shared_ptr<SourceHealth> health, LogSink log);

  // Loads unconditionally and rethrows the loader's error (at init, so that a broken file
  // stops --check-config and the start instead of being served empty).
  void load_now();
  // Loads if the file changed since the last attempt. Never throws: failures go to the log
  // and the health record. True when a new version was published.
  bool refresh() noexcept;

  const std::string& path() const noexcept { return path_; }
  const std::shared_ptr<SourceHealth>& health() const noexcept { return health_; }

 private:
  struct Signature {
    unsigned long long device = 0, inode = 0, size = 0;
    long long mtime_ns = 0, ctime_ns = 0;
    friend bool operator==(const Signature&, const Signature&) = default;
  };
  std::optional<Signature> stat_file() const noexcept;
  std::size_t attempt();

  std::string path_;
  Loader load_;
  std::shared_ptr<SourceHealth> health_;
  LogSink log_;
  std::mutex mutex_;  // one load at a time (the watcher thread, or load_now at init)
  std::optional<Signature> last_seen_;
  bool missing_reported_ = false;
};

// Polls a set of WatchedFiles from one background thread.
class FileWatcher {
 public:
  explicit FileWatcher(std::chrono::milliseconds interval) : interval_(interval) {}
  ~FileWatcher() { stop(); }

  void watch(std::shared_ptr<WatchedFile> file);
  // Starts the polling thread (call after the initial load_now()s).
  void start();
  void stop();
  // One pass over every file on the caller's thread.
  void check_now() noexcept;

 private:
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::vector<std::shared_ptr<WatchedFile>> files_;
  std::unique_ptr<PeriodicThread> thread_;
};

}  // namespace spoa::support
