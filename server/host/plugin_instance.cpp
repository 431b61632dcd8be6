#include "host/plugin_instance.hpp"

#include <algorithm>
#include <array>

#include "log/log.hpp"

namespace spoa::host {

PluginInstance::PluginInstance(std::shared_ptr<PluginLibrary> library,
                               config::PluginSettings settings)
    : library_(std::move(library)), settings_(std::move(settings)) {}

PluginInstance::~PluginInstance() {
  if (started_ && library_->descriptor().shutdown != nullptr) {
    library_->descriptor().shutdown(state_);
  }
}

bool PluginInstance::init(std::string& error) {
  // The plugin sees the settings as NUL-terminated views into our own strings.
  std::vector<spoa_config_entry> entries;
  entries.reserve(settings_.settings.size());
  for (const auto& [key, value] : settings_.settings) {
    entries.push_back({{key.c_str(), key.size()}, {value.c_str(), value.size()}});
  }
  std::array<char, 1024> reason{};
  initialising_ = true;
  const int rc = library_->descriptor().init(&host_api(), handle(), entries.data(), entries.size(),
                                             &state_, reason.data(), reason.size());
  initialising_ = false;
  reason.back() = '\0';
  if (rc != 0) {
    error = reason[0] != '\0' ? std::string(reason.data()) : "init returned " + std::to_string(rc);
    handlers_.clear();
    return false;
  }
  started_ = true;
  for (const auto& message : settings_.messages) {
    const bool registered = std::any_of(handlers_.begin(), handlers_.end(),
                                        [&](const auto& h) { return h.message == message; });
    if (!registered) {
      log::warn(
          "plugin {}: message \"{}\" is mapped to it in the config, but the plugin did "
          "not register a handler for it; it will get empty ACKs",
          name(), message);
    }
  }
  return true;
}

spoa_status PluginInstance::register_message(spoa_str name, spoa_message_handler handler,
                                             void* user) {
  if (!initialising_) return SPOA_ERR_NOT_ALLOWED;
  if (handler == nullptr || (name.ptr == nullptr && name.len != 0)) {
    return SPOA_ERR_INVALID_ARGUMENT;
  }
  const std::string_view wanted(name.ptr, name.len);
  const auto& claimed = settings_.messages;
  if (std::find(claimed.begin(), claimed.end(), wanted) == claimed.end()) {
    return SPOA_ERR_NOT_CLAIMED;
  }
  for (const auto& existing : handlers_) {
    if (existing.message == wanted) return SPOA_ERR_DUPLICATE;
  }
  handlers_.push_back({std::string(wanted), handler, user});
  return SPOA_OK;
}

}  // namespace spoa::host
