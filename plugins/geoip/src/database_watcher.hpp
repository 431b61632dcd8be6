// Reloads a database when its file is replaced: a thread polls stat() of every database
// file (device, inode, size, mtime, ctime: it sees both rename(2) over the file, as
// geoipupdate does, and writes in place) and loads a changed file off the I/O threads. A
// version that fails to load is logged and not retried until the file changes again; the
// previous version goes on answering.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "geoip_lookup.hpp"

namespace spoa::geoip {

struct FileSignature {
  unsigned long long device = 0, inode = 0, size = 0;
  long long mtime_ns = 0, ctime_ns = 0;
  friend bool operator==(const FileSignature&, const FileSignature&) = default;
  static std::optional<FileSignature> of(const std::string& path) noexcept;
};

class DatabaseWatcher {
 public:
  enum class Level { info, error };
  using Log = std::function<void(Level, const std::string&)>;
  // After every load attempt of a replaced file: the slot, and whether it is now in use.
  using LoadEvent = std::function<void(const DatabaseSlot&, bool loaded)>;

  // Remembers the files' signatures as they are now (the versions just loaded).
  DatabaseWatcher(Geoip& geoip, Log log);
  ~DatabaseWatcher();
  DatabaseWatcher(const DatabaseWatcher&) = delete;
  DatabaseWatcher& operator=(const DatabaseWatcher&) = delete;

  void on_load(LoadEvent event) { on_load_ = std::move(event); }

  // Starts the thread: the files are polled every `interval` (0: never), and `on_tick`
  // (if any) runs every `tick` (metrics are published from there, off the I/O threads).
  void start(std::chrono::milliseconds interval, std::chrono::milliseconds tick = {},
             std::function<void()> on_tick = {});
  // One pass on the caller's thread: reloads what changed. Returns the number reloaded.
  int check_now();

 private:
  void run(std::chrono::milliseconds interval, std::chrono::milliseconds tick,
           std::function<void()> on_tick);

  Geoip& geoip_;
  Log log_;
  LoadEvent on_load_;
  std::mutex check_mutex_;  // one pass at a time
  std::vector<std::optional<FileSignature>> seen_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace spoa::geoip
