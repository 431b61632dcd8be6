// The spoa_host_api table: the only door from plugin code into the host.
#include <algorithm>
#include <string_view>

#include "host/plugin_instance.hpp"
#include "host/request.hpp"
#include "host/value_conversion.hpp"
#include "log/log.hpp"
#include "spop/ack.hpp"

namespace spoa::host {

namespace {

// HAProxy drops variables whose full name (scope.prefix.name) is over 63 bytes or has
// characters outside [A-Za-z0-9_.] without telling anyone (spop.md §9, §10.9); refusing
// them here gives the plugin author an error code instead of a silent no-op.
bool valid_variable_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
  });
}

log::Level to_level(int32_t level) {
  switch (level) {
    case SPOA_LOG_TRACE:
      return log::Level::trace;
    case SPOA_LOG_DEBUG:
      return log::Level::debug;
    case SPOA_LOG_INFO:
      return log::Level::info;
    case SPOA_LOG_WARN:
      return log::Level::warn;
    case SPOA_LOG_ERROR:
      return log::Level::error;
  }
  return log::Level::error;
}

void api_log(spoa_instance* instance, int32_t level, spoa_str text) {
  if (instance == nullptr || (text.ptr == nullptr && text.len != 0)) return;
  const std::string& name = PluginInstance::from_handle(instance)->name();
  // SPOA_PLUGIN= on the journal, so `journalctl SPOA_PLUGIN=NAME` shows the plugin's own lines.
  log::event(to_level(level), {.plugin = name}, "plugin {}: {}", name,
             std::string_view(text.ptr, text.len));
}

int32_t api_register_message(spoa_instance* instance, spoa_str name, spoa_message_handler handler,
                             void* user) {
  if (instance == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  return PluginInstance::from_handle(instance)->register_message(name, handler, user);
}

// Resolves a handle and checks it may still take actions.
Request* live_request(spoa_request* handle) {
  if (handle == nullptr) return nullptr;
  uint16_t generation = 0;
  Request* request = Request::from_handle(handle, generation);
  return request->accepts_actions(generation) ? request : nullptr;
}

int32_t append_action(Request& request, size_t size, uint32_t& counter, auto&& encode) {
  const size_t used = request.actions.size();
  if (used + size > request.action_limit) {
    if (request.instance != nullptr) {
      request.instance->counters().actions_dropped.fetch_add(1, std::memory_order_relaxed);
    }
    return SPOA_ERR_TOO_BIG;
  }
  request.actions.resize(used + size);
  const size_t written = encode(std::span<uint8_t>(request.actions.data() + used, size));
  request.actions.resize(used + written);
  if (written != size) return SPOA_ERR_TOO_BIG;
  ++counter;  // for the actions_total metric
  return SPOA_OK;
}

bool valid_scope(int32_t scope) {
  return scope >= SPOA_SCOPE_PROC && scope <= SPOA_SCOPE_RES;
}

int32_t api_set_var(spoa_request* handle, int32_t scope, spoa_str name, const spoa_value* value) {
  Request* request = live_request(handle);
  if (request == nullptr) return SPOA_ERR_NOT_ALLOWED;
  if (value == nullptr || !valid_scope(scope) || (name.ptr == nullptr && name.len != 0)) {
    return SPOA_ERR_INVALID_ARGUMENT;
  }
  const std::string_view var_name(name.ptr, name.len);
  if (!valid_variable_name(var_name)) return SPOA_ERR_BAD_NAME;
  const auto converted = from_abi(*value);
  if (!converted) return SPOA_ERR_INVALID_ARGUMENT;
  const auto spop_scope = static_cast<spop::Scope>(scope);
  return append_action(*request, spop::set_var_size(var_name, *converted), request->set_vars,
                       [&](std::span<uint8_t> out) {
                         return spop::encode_set_var(out, spop_scope, var_name, *converted);
                       });
}

int32_t api_unset_var(spoa_request* handle, int32_t scope, spoa_str name) {
  Request* request = live_request(handle);
  if (request == nullptr) return SPOA_ERR_NOT_ALLOWED;
  if (!valid_scope(scope) || (name.ptr == nullptr && name.len != 0)) {
    return SPOA_ERR_INVALID_ARGUMENT;
  }
  const std::string_view var_name(name.ptr, name.len);
  if (!valid_variable_name(var_name)) return SPOA_ERR_BAD_NAME;
  const auto spop_scope = static_cast<spop::Scope>(scope);
  return append_action(
      *request, spop::unset_var_size(var_name), request->unset_vars,
      [&](std::span<uint8_t> out) { return spop::encode_unset_var(out, spop_scope, var_name); });
}

int32_t api_complete(spoa_request* handle, int32_t result) {
  if (handle == nullptr) return SPOA_ERR_NOT_ALLOWED;  // plugin.h: OK or NOT_ALLOWED only
  uint16_t generation = 0;
  Request* request = Request::from_handle(handle, generation);
  const int32_t normalised = result == SPOA_DONE ? SPOA_DONE : SPOA_FAILED;
  if (!request->try_complete(generation, normalised)) {
    // The request may already be recycled, so its plugin cannot be named safely here.
    log::warn(
        "a plugin called complete() on a request that is already complete or stale; "
        "ignored (complete() must be called exactly once per PENDING)");
    return SPOA_ERR_NOT_ALLOWED;
  }
  if (result != SPOA_DONE && result != SPOA_FAILED) {
    // Still ours until the home thread takes the completion, so the instance is stable.
    log::warn(
        "plugin {}: complete() called with {}, which is neither SPOA_DONE nor "
        "SPOA_FAILED; treated as FAILED",
        request->instance != nullptr ? request->instance->name() : "?", result);
  }
  request->home().post_completion(request, generation);
  return SPOA_OK;
}

size_t api_claimed_messages(spoa_instance* instance, spoa_str* names, size_t capacity) {
  if (instance == nullptr) return 0;
  const auto& messages = PluginInstance::from_handle(instance)->settings().messages;
  for (size_t i = 0; i < messages.size() && i < capacity && names != nullptr; ++i) {
    names[i] = {messages[i].data(), messages[i].size()};
  }
  return messages.size();
}

constexpr spoa_host_api table = {
    .struct_size = sizeof(spoa_host_api),
    .abi_major = SPOA_ABI_MAJOR,
    .abi_minor = SPOA_ABI_MINOR,
    .log = api_log,
    .register_message = api_register_message,
    .set_var = api_set_var,
    .unset_var = api_unset_var,
    .complete = api_complete,
    .claimed_messages = api_claimed_messages,
};

}  // namespace

const spoa_host_api& host_api() {
  return table;
}

}  // namespace spoa::host
