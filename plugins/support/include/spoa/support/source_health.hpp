// The state of one data source (a list file, a database, a decision stream) as metrics and
// logs report it: how many entries the data in use has, when it was last loaded, and the
// last failure if the newest attempt failed. Written by the loader thread, read by metric
// scrapes and --test; both are rare, so a mutex suffices.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

namespace spoa::support {

class SourceHealth {
 public:
  struct View {
    std::string name;
    std::size_t entries = 0;     // in the data being served
    std::uint64_t loads_ok = 0;  // successful loads since start
    std::uint64_t loads_failed = 0;
    // Unix time in seconds; 0 = never.
    double last_success = 0;
    double last_failure = 0;
    bool has_data = false;   // something was loaded at least once
    bool last_ok = false;    // the newest attempt succeeded
    std::string last_error;  // of the newest failure
  };

  explicit SourceHealth(std::string name) { view_.name = std::move(name); }

  void loaded(std::size_t entries,
              std::chrono::system_clock::time_point when = std::chrono::system_clock::now());
  void failed(std::string error,
              std::chrono::system_clock::time_point when = std::chrono::system_clock::now());
  View view() const;

 private:
  mutable std::mutex mutex_;
  View view_;
};

}  // namespace spoa::support
