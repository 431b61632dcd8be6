#pragma once
// One generation of plugins: every instance of a config, started, with the table that maps
// message names to handlers. Immutable once built; a reload builds a new one beside it.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "host/plugin_instance.hpp"
#include "host/request.hpp"
#include "metrics/names.hpp"

namespace spoa::host {

class ExecutionPool;

struct Route {
  PluginInstance* instance;
  spoa_message_handler handler;
  void* user;
  std::string message;
  const RouteName* name = nullptr;  // (instance, message), interned for log lines
  ExecutionPool* pool = nullptr;    // execution = "pool": where the handler runs
  bool legacy_args = false;         // built against plugin.h 1.0: 40-byte spoa_arg
  // Metrics series (metrics/names.hpp), keyed by name so that they outlive this generation.
  uint32_t plugin_series = metrics::no_series;
  uint32_t message_series = metrics::no_series;
};

struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

class Generation {
 public:
  // Loads and initialises every plugin of `config`, in file order. On any failure the
  // instances already started are shut down again and `errors` says why, each located at
  // the plugin's `path` in the config.
  static std::shared_ptr<Generation> load(const config::Config& config, uint64_t number,
                                          std::vector<config::Diagnostic>& errors);

  // Shuts the instances down in reverse start order, then unloads the libraries.
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  const Route* find(std::string_view message) const {
    const auto it = routes_.find(message);
    return it == routes_.end() ? nullptr : &it->second;
  }
  uint64_t number() const { return number_; }
  const std::vector<std::unique_ptr<PluginInstance>>& instances() const { return instances_; }

 private:
  explicit Generation(uint64_t number) : number_(number) {}

  uint64_t number_;
  std::vector<std::unique_ptr<PluginInstance>> instances_;
  std::unordered_map<std::string, Route, TransparentHash, std::equal_to<>> routes_;
};

}  // namespace spoa::host
