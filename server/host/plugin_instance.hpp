#pragma once
// One [plugins.NAME] of the config: a library, the plugin's state pointer and the message
// handlers it registered.
#include <spoa/plugin.h>

#include <atomic>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/config.hpp"
#include "host/plugin_library.hpp"

namespace spoa::host {

struct MessageHandler {
  std::string message;
  spoa_message_handler handler;
  void* user;
};

// Outcome counters, bumped from every I/O thread (relaxed atomics; only failures and
// pending calls touch them, never the DONE fast path).
struct PluginCounters {
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> pending{0};
  std::atomic<uint64_t> deadline_missed{0};
  std::atomic<uint64_t> actions_dropped{0};
};

class PluginInstance {
 public:
  PluginInstance(std::shared_ptr<PluginLibrary> library, config::PluginSettings settings);
  ~PluginInstance();  // calls shutdown() if init() succeeded
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  // Runs the plugin's init(). On failure returns false with the reason in `error`.
  bool init(std::string& error);

  const std::string& name() const { return settings_.instance; }
  const config::PluginSettings& settings() const { return settings_; }
  const PluginLibrary& library() const { return *library_; }
  const std::vector<MessageHandler>& handlers() const { return handlers_; }
  PluginCounters& counters() { return counters_; }

  spoa_instance* handle() { return reinterpret_cast<spoa_instance*>(this); }
  static PluginInstance* from_handle(spoa_instance* handle) {
    return reinterpret_cast<PluginInstance*>(handle);
  }

  // Behind spoa_host_api::register_message.
  spoa_status register_message(spoa_str name, spoa_message_handler handler, void* user);

 private:
  std::shared_ptr<PluginLibrary> library_;
  config::PluginSettings settings_;
  std::vector<MessageHandler> handlers_;
  PluginCounters counters_;
  void* state_ = nullptr;
  bool initialising_ = false;
  bool started_ = false;
};

// The function table handed to every plugin's init().
const spoa_host_api& host_api();

}  // namespace spoa::host
