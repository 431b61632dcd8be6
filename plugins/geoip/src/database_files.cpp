#include "database_files.hpp"

#include <stdexcept>
#include <string>

namespace spoa::geoip {

std::vector<DatabaseFile> database_files(Geoip& geoip, const support::LogSink& log) {
  std::vector<DatabaseFile> files;
  for (const auto& owned : geoip.slots()) {
    DatabaseSlot* slot = owned.get();
    const std::string name = "database " + slot->config().name + ": ";
    auto health = std::make_shared<support::SourceHealth>(slot->config().name);
    // Only the watched file's mutex-guarded load calls this, so `loaded_once` needs no lock.
    auto loader = [slot, name, log, loaded_once = false](const std::string& path) mutable {
      std::shared_ptr<const LoadedDatabase> loaded;
      try {
        loaded = slot->load();
      } catch (const std::exception& e) {
        throw std::runtime_error(name + e.what());
      }
      if (log)
        log(support::Severity::info,
            name + (loaded_once ? "reloaded " : "loaded ") + path + ": " + loaded->summary());
      loaded_once = true;
      return static_cast<std::size_t>(loaded->report().records);
    };
    auto file =
        std::make_shared<support::WatchedFile>(slot->config().file, std::move(loader), health, log);
    files.push_back({slot, std::move(health), std::move(file)});
  }
  return files;
}

}  // namespace spoa::geoip
