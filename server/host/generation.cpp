#include "host/generation.hpp"

#include <map>

#include "log/log.hpp"
#include "metrics/names.hpp"

namespace spoa::host {

std::shared_ptr<Generation> Generation::load(const config::Config& config, uint64_t number,
                                             std::vector<config::Diagnostic>& errors) {
  std::shared_ptr<Generation> generation(new Generation(number));
  // One library per file: several instances of one .so share the image (dlopen would
  // return the same handle anyway) but get their own init() and state.
  std::map<std::string, std::shared_ptr<PluginLibrary>> libraries;
  for (const auto& settings : config.plugins) {
    auto& library = libraries[settings.path];
    std::string error;
    if (!library) library = PluginLibrary::load(settings.path, error);
    if (!library) {
      libraries.erase(settings.path);
      errors.push_back(
          {settings.path_location, fmt::format("plugins.{}: {}", settings.instance, error)});
      continue;
    }
    auto instance = std::make_unique<PluginInstance>(library, settings);
    if (!instance->init(error)) {
      errors.push_back(
          {settings.path_location, fmt::format("plugins.{}: {}: init failed: {}", settings.instance,
                                               settings.path, error)});
      continue;
    }
    log::debug("plugin {}: started {} ({} {})", settings.instance, settings.path,
               library->descriptor().name, library->descriptor().version);
    // Series ids from config names only (never the wire), stable across reloads.
    auto& names = metrics::series_names();
    const uint32_t plugin_series = names.plugin(settings.instance);
    for (const auto& handler : instance->handlers()) {
      Route route{instance.get(),
                  handler.handler,
                  handler.user,
                  handler.message,
                  intern_route_name(settings.instance, handler.message),
                  instance->pool(),
                  library->built_with_1_0()};
      route.plugin_series = plugin_series;
      route.message_series = names.message(settings.instance, handler.message);
      generation->routes_.emplace(handler.message, std::move(route));
    }
    generation->instances_.push_back(std::move(instance));
  }
  if (!errors.empty()) return nullptr;  // the destructor stops what did start
  return generation;
}

Generation::~Generation() {
  routes_.clear();
  while (!instances_.empty())
    instances_.pop_back();  // reverse start order
}

}  // namespace spoa::host
