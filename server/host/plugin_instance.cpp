#include "host/plugin_instance.hpp"

#include <algorithm>
#include <array>
#include <exception>

#include "host/execution_pool.hpp"
#include "log/log.hpp"

namespace spoa::host {

size_t longest_variable_name(int32_t scope, size_t prefix_length) {
  static constexpr std::array<size_t, 5> scope_lengths = {4, 4, 3, 3, 3};  // proc sess txn req res
  const size_t scope_length =
      scope >= 0 && scope < 5 ? scope_lengths[static_cast<size_t>(scope)] : 4;
  const size_t used = scope_length + 1 + prefix_length + 1;
  return used >= 63 ? 0 : 63 - used;
}

PluginInstance::PluginInstance(std::shared_ptr<PluginLibrary> library,
                               config::PluginSettings settings)
    : library_(std::move(library)),
      settings_(std::move(settings)),
      tree_(settings_.tree, settings_.path_location.file) {}

PluginInstance::~PluginInstance() {
  if (pool_ && !pool_->stop(pool_stop_grace)) {
    // A handler still runs the plugin's code: neither shutdown() (it would free state the
    // handler uses) nor dlclose(). Leaked on purpose; the process exit ends the thread.
    (void)pool_.release();
    (void)new std::shared_ptr<PluginLibrary>(library_);
    log::error("plugin {}: not shut down: a pool handler never returned", name());
    return;
  }
  pool_.reset();
  if (!started_ || library_->descriptor().shutdown == nullptr) return;
  try {
    library_->descriptor().shutdown(state_);
  } catch (const std::exception& e) {
    log::error("plugin {}: shutdown() threw through the C ABI: {}", name(), e.what());
  } catch (...) {
    log::error("plugin {}: shutdown() threw through the C ABI", name());
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
  int rc = 1;
  try {
    rc = library_->descriptor().init(&host_api(), handle(), entries.data(), entries.size(), &state_,
                                     reason.data(), reason.size());
  } catch (const std::exception& e) {
    initialising_ = false;
    handlers_.clear();
    error = std::string("init() threw through the C ABI: ") + e.what();
    return false;
  } catch (...) {
    initialising_ = false;
    handlers_.clear();
    error = "init() threw through the C ABI";
    return false;
  }
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
  if (settings_.execution == config::Execution::pool) {
    pool_ = std::make_unique<ExecutionPool>(name(), settings_.pool_threads, settings_.pool_queue);
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

void PluginInstance::warn_long_variable_name(std::string_view name, int32_t scope) {
  {
    std::lock_guard lock(long_names_mutex_);
    if (long_names_.size() > 256 || !long_names_.emplace(name).second) return;
  }
  const size_t scope_length = scope == SPOA_SCOPE_PROC || scope == SPOA_SCOPE_SESS ? 4 : 3;
  const size_t used = scope_length + 2 + name.size();
  const std::string room = used >= 63
                               ? std::string("any var-prefix")
                               : "a var-prefix longer than " + std::to_string(63 - used) + " bytes";
  log::event(log::Level::warn, {.plugin = this->name()},
             "plugin {}: variable name \"{}\" ({} bytes) does not reach HAProxy with {}: "
             "HAProxy silently drops a variable whose full name \"<scope>.<var-prefix>.<name>\" "
             "is over 63 bytes (sdk/README.md, \"Variable names\")",
             this->name(), name, name.size(), room);
}

}  // namespace spoa::host
