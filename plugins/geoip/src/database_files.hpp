// The configured databases as watched data files of the support library (plugins/support):
// the same stat() polling, last-good-version rule and per-source health as every bundled
// plugin's data files. A database "entry" is a distinct data record of the tree.
#pragma once

#include <memory>
#include <vector>

#include "geoip_lookup.hpp"
#include "spoa/support/log_sink.hpp"
#include "spoa/support/source_health.hpp"
#include "spoa/support/watched_file.hpp"

namespace spoa::geoip {

struct DatabaseFile {
  DatabaseSlot* slot = nullptr;
  std::shared_ptr<support::SourceHealth> health;
  std::shared_ptr<support::WatchedFile> file;
};

// One per slot of `geoip`, in its order; `geoip` must outlive them. Each load logs
// "database NAME: loaded FILE: SUMMARY" ("reloaded" after the first), and a failure is
// thrown as "database NAME: FILE: reason" for the watched file to log and count.
std::vector<DatabaseFile> database_files(Geoip& geoip, const support::LogSink& log);

}  // namespace spoa::geoip
