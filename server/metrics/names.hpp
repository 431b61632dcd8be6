#pragma once
// The label values of per-plugin and per-message series, and their small integer ids.
//
// Names come only from the config (plugin instance names, the message names they claim),
// registered when a plugin generation is built, never from the wire: a NOTIFY that names a
// message nobody claims is counted in one `unclaimed` series, so a peer cannot create
// series. An id is keyed by name and never reused, so counters of an instance or message
// that survives a reload keep growing across it instead of restarting at zero.
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spoa::metrics {

// No series: an id past what the per-thread arrays hold. Counting into it is a no-op.
inline constexpr uint32_t no_series = std::numeric_limits<uint32_t>::max();

// Bounds on distinct names over the life of the process (configs reloaded many times with
// ever new names); past them new names are simply not counted.
inline constexpr uint32_t max_plugin_series = 4096;
inline constexpr uint32_t max_message_series = 32768;

class SeriesNames {
 public:
  struct Message {
    uint32_t plugin;  // id of the instance that claimed it
    std::string name;
  };

  // Thread-safe; called when a generation is built. The same name gives the same id.
  uint32_t plugin(std::string_view instance);
  // A message is keyed by (instance, message): when a reload moves a message to another
  // instance, its new series starts beside the old one.
  uint32_t message(std::string_view instance, std::string_view message);

  // Snapshots for the scraper, indexed by id.
  std::vector<std::string> plugins() const;
  std::vector<Message> messages() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, uint32_t, std::less<>> plugin_ids_;
  std::map<std::pair<uint32_t, std::string>, uint32_t, std::less<>> message_ids_;
  std::vector<std::string> plugins_;
  std::vector<Message> messages_;
};

// The process's names. Plugin generations are process-wide, so their series ids are too.
SeriesNames& series_names();

}  // namespace spoa::metrics
