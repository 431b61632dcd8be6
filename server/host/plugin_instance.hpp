#pragma once
// One [plugins.NAME] of the config: a library, the plugin's state pointer, the message
// handlers it registered, its structured config and, with execution = "pool", its threads.
#include <spoa/plugin.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "host/config_tree.hpp"
#include "host/plugin_library.hpp"

namespace spoa::host {

class ExecutionPool;

struct MessageHandler {
  std::string message;
  spoa_message_handler handler;
  void* user;
};

class PluginInstance {
 public:
  PluginInstance(std::shared_ptr<PluginLibrary> library, config::PluginSettings settings);
  // Stops the pool, then calls shutdown() if init() succeeded. A pool handler stuck past
  // the grace period leaves the plugin loaded and not shut down (its code still runs).
  ~PluginInstance();
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  // Runs the plugin's init(), guarded: an exception escaping it is a failure with its
  // what() as the reason. On failure returns false with the reason in `error`.
  bool init(std::string& error);

  const std::string& name() const { return settings_.instance; }
  const config::PluginSettings& settings() const { return settings_; }
  const PluginLibrary& library() const { return *library_; }
  const std::vector<MessageHandler>& handlers() const { return handlers_; }
  const spoa_config_value* config_tree() const { return tree_.root(); }
  ExecutionPool* pool() const { return pool_.get(); }
  bool initialising() const { return initialising_; }

  spoa_instance* handle() { return reinterpret_cast<spoa_instance*>(this); }
  static PluginInstance* from_handle(spoa_instance* handle) {
    return reinterpret_cast<PluginInstance*>(handle);
  }

  // Behind spoa_host_api::register_message.
  spoa_status register_message(spoa_str name, spoa_message_handler handler, void* user);

  // A variable name that would not reach HAProxy with a typical var-prefix: warned once per
  // name and instance. Any thread.
  void warn_long_variable_name(std::string_view name, int32_t scope);

  // How long stop waits for running pool handlers before giving up on them.
  static constexpr std::chrono::seconds pool_stop_grace{5};

 private:
  std::shared_ptr<PluginLibrary> library_;
  config::PluginSettings settings_;
  ConfigTree tree_;
  std::vector<MessageHandler> handlers_;
  std::unique_ptr<ExecutionPool> pool_;
  void* state_ = nullptr;
  bool initialising_ = false;
  bool started_ = false;
  std::mutex long_names_mutex_;
  std::set<std::string, std::less<>> long_names_;
};

// The function table handed to every plugin's init().
const spoa_host_api& host_api();

// The longest variable name that reaches HAProxy in `scope` with a var-prefix of
// `prefix_length` bytes: HAProxy drops "<scope>.<prefix>.<name>" over 63 bytes.
size_t longest_variable_name(int32_t scope, size_t prefix_length);
// The prefix length the warnings assume ("a typical prefix").
inline constexpr size_t typical_prefix_length = 8;

}  // namespace spoa::host
