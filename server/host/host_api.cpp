// The spoa_host_api table: the only door from plugin code into the host. Every entry is
// noexcept and catches whatever the host throws inside (std::bad_alloc, mostly): an
// exception must never unwind into a plugin's C frames. Such a failure answers
// SPOA_ERR_HOST_FAILURE.
#include <algorithm>
#include <array>
#include <exception>
#include <string_view>

#include "host/dispatcher.hpp"
#include "host/plugin_instance.hpp"
#include "host/plugin_metrics.hpp"
#include "host/request.hpp"
#include "host/value_conversion.hpp"
#include "log/log.hpp"
#include "spop/ack.hpp"

namespace spoa::host {

namespace {

// HAProxy drops variables whose full name (scope.prefix.name) is over 63 bytes or has
// characters outside [A-Za-z0-9_.] without telling anyone (spop.md §9, §10.9); refusing
// them here gives the plugin author an error code instead of a silent no-op.
constexpr std::array<bool, 256> variable_name_chars = [] {
  std::array<bool, 256> allowed{};
  for (int c = 0; c < 256; ++c) {
    allowed[static_cast<size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                      (c >= '0' && c <= '9') || c == '_' || c == '.';
  }
  return allowed;
}();

bool valid_variable_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (const char c : name) {
    if (!variable_name_chars[static_cast<unsigned char>(c)]) return false;
  }
  return true;
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

void host_failure(std::string_view function) noexcept {
  try {
    try {
      throw;
    } catch (const std::exception& e) {
      log::error("host: {}() failed inside the host: {}; answered SPOA_ERR_HOST_FAILURE", function,
                 e.what());
    } catch (...) {
      log::error("host: {}() failed inside the host; answered SPOA_ERR_HOST_FAILURE", function);
    }
  } catch (...) {
    // Even the log line failed (out of memory): nothing more to do.
  }
}

// Why a request refused a call, for the log line.
std::string_view refusal(Request::State state, uint64_t generation) {
  if (state.generation() != generation) {
    return "is stale (the request finished and its slot was reused)";
  }
  switch (state.phase()) {
    case Phase::idle:
      return "is finished (its handler returned DONE or FAILED, or complete() was called, and "
             "its ACK is sent)";
    case Phase::done:
      return "is sealed (DONE: its handler returned or complete() was called)";
    case Phase::failed:
      return "is sealed (FAILED: its handler returned or complete() was called)";
    case Phase::abandoned:
      return "was abandoned by the host (processing deadline, connection closed, or daemon "
             "stopping)";
    case Phase::running:
    case Phase::pending:
      break;
  }
  return "is in use by another call";
}

// A late or stale call: NOT_ALLOWED, and a line naming the plugin and message whenever the
// slot still remembers them.
int32_t refuse(const Request& request, uint64_t generation, Request::State state,
               std::string_view function, log::Level level = log::Level::warn) {
  const RouteName* name = request.name_of(generation);
  if (name != nullptr) {
    log::limited(log::Category::plugin, level, {.plugin = name->plugin, .message = name->message},
                 "plugin {}: {}() on a request for message \"{}\" that {}; refused with "
                 "SPOA_ERR_NOT_ALLOWED",
                 name->plugin, function, name->message, refusal(state, generation));
  } else {
    log::limited(log::Category::plugin, level, {},
                 "a plugin called {}() on a request handle that {}; refused with "
                 "SPOA_ERR_NOT_ALLOWED (the plugin is unknown: the slot was reused since)",
                 function, refusal(state, generation));
  }
  return SPOA_ERR_NOT_ALLOWED;
}

int32_t refuse_unknown(std::string_view function) {
  log::limited(log::Category::plugin, log::Level::warn, {},
               "a plugin called {}() with a value that is not a request handle; refused with "
               "SPOA_ERR_NOT_ALLOWED",
               function);
  return SPOA_ERR_NOT_ALLOWED;
}

void post_home(Request& request, uint64_t generation) {
  request.pool().home().post_completion(request, generation);
}

void api_log(spoa_instance* instance, int32_t level, spoa_str text) noexcept {
  if (instance == nullptr || (text.ptr == nullptr && text.len != 0)) return;
  try {
    const std::string& name = PluginInstance::from_handle(instance)->name();
    // SPOA_PLUGIN= on the journal, so `journalctl SPOA_PLUGIN=NAME` shows the plugin's own lines.
    log::event(to_level(level), {.plugin = name}, "plugin {}: {}", name,
               std::string_view(text.ptr, text.len));
  } catch (...) {
    // plugin.h: a line that cannot be written is dropped.
  }
}

int32_t api_register_message(spoa_instance* instance, spoa_str name, spoa_message_handler handler,
                             void* user) noexcept {
  if (instance == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  try {
    return PluginInstance::from_handle(instance)->register_message(name, handler, user);
  } catch (...) {
    host_failure("register_message");
    return SPOA_ERR_HOST_FAILURE;
  }
}

// Holds the right to append actions to a live request for the scope.
class ActionWriter {
 public:
  ActionWriter(Request& request, uint64_t generation) : request_(request) {
    ok_ = request.begin_write(generation, refused_);
  }
  ~ActionWriter() {
    if (ok_) request_.end_write();
  }
  ActionWriter(const ActionWriter&) = delete;
  ActionWriter& operator=(const ActionWriter&) = delete;
  bool ok() const { return ok_; }
  Request::State refused() const { return refused_; }

 private:
  Request& request_;
  Request::State refused_{};
  bool ok_ = false;
};

int32_t append_action(Request& request, size_t size, uint32_t& counter, auto&& encode) {
  const size_t used = request.actions.size();
  if (used + size > request.action_limit) return SPOA_ERR_TOO_BIG;
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

// The checks every variable action shares; the name a long-name warning is about.
[[gnu::always_inline]] inline int32_t check_variable(Request& request, int32_t scope,
                                                     spoa_str name) {
  if (!valid_scope(scope) || (name.ptr == nullptr && name.len != 0)) {
    return SPOA_ERR_INVALID_ARGUMENT;
  }
  const std::string_view var_name(name.ptr, name.len);
  if (!valid_variable_name(var_name)) return SPOA_ERR_BAD_NAME;
  // 49 = the least room any scope leaves with the typical prefix: the common short name
  // costs one comparison.
  if (var_name.size() > 49 &&
      var_name.size() > longest_variable_name(scope, typical_prefix_length) &&
      request.instance != nullptr) {
    request.instance->warn_long_variable_name(var_name, scope);
  }
  return SPOA_OK;
}

int32_t api_set_var(spoa_request* handle, int32_t scope, spoa_str name,
                    const spoa_value* value) noexcept {
  try {
    uint64_t generation = 0;
    Request* request = Request::resolve(handle, generation);
    if (request == nullptr) return refuse_unknown("set_var");
    const ActionWriter writer(*request, generation);
    if (!writer.ok()) return refuse(*request, generation, writer.refused(), "set_var");
    if (value == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
    if (const int32_t status = check_variable(*request, scope, name); status != SPOA_OK) {
      return status;
    }
    const auto converted = from_abi(*value);
    if (!converted) return SPOA_ERR_INVALID_ARGUMENT;
    const std::string_view var_name(name.ptr, name.len);
    const auto spop_scope = static_cast<spop::Scope>(scope);
    return append_action(*request, spop::set_var_size(var_name, *converted), request->set_vars,
                         [&](std::span<uint8_t> out) {
                           return spop::encode_set_var(out, spop_scope, var_name, *converted);
                         });
  } catch (...) {
    host_failure("set_var");
    return SPOA_ERR_HOST_FAILURE;
  }
}

int32_t api_unset_var(spoa_request* handle, int32_t scope, spoa_str name) noexcept {
  try {
    uint64_t generation = 0;
    Request* request = Request::resolve(handle, generation);
    if (request == nullptr) return refuse_unknown("unset_var");
    const ActionWriter writer(*request, generation);
    if (!writer.ok()) return refuse(*request, generation, writer.refused(), "unset_var");
    if (const int32_t status = check_variable(*request, scope, name); status != SPOA_OK) {
      return status;
    }
    const std::string_view var_name(name.ptr, name.len);
    const auto spop_scope = static_cast<spop::Scope>(scope);
    return append_action(
        *request, spop::unset_var_size(var_name), request->unset_vars,
        [&](std::span<uint8_t> out) { return spop::encode_unset_var(out, spop_scope, var_name); });
  } catch (...) {
    host_failure("unset_var");
    return SPOA_ERR_HOST_FAILURE;
  }
}

int32_t api_complete(spoa_request* handle, int32_t result) noexcept {
  try {
    uint64_t generation = 0;
    Request* request = Request::resolve(handle, generation);
    if (request == nullptr) return refuse_unknown("complete");
    const int32_t normalised = result == SPOA_DONE ? SPOA_DONE : SPOA_FAILED;
    Request::State before{};
    if (request->try_complete(generation, normalised, before)) {
      if (result != SPOA_DONE && result != SPOA_FAILED) {
        const RouteName* name = request->name_of(generation);
        log::limited(log::Category::plugin, log::Level::warn, {},
                     "plugin {}: complete() for message \"{}\" called with {}, which is neither "
                     "SPOA_DONE nor SPOA_FAILED; treated as FAILED",
                     name != nullptr ? name->plugin : "?", name != nullptr ? name->message : "?",
                     result);
      }
      // Before the handler returned, its own thread delivers the result when it does.
      if (before.returned()) post_home(*request, generation);
      return SPOA_OK;
    }
    Request::State after{};
    if (before.generation() == generation && before.phase() == Phase::abandoned &&
        request->complete_abandoned(generation, after)) {
      // Expected after an abandonment (plugin.h): the plugin could not know in time.
      refuse(*request, generation, before, "complete", log::Level::info);
      if (after.host_done() && after.plugin_done()) post_home(*request, generation);
      return SPOA_ERR_NOT_ALLOWED;
    }
    return refuse(*request, generation, before, "complete");
  } catch (...) {
    host_failure("complete");
    return SPOA_ERR_HOST_FAILURE;
  }
}

size_t api_claimed_messages(spoa_instance* instance, spoa_str* names, size_t capacity) noexcept {
  if (instance == nullptr) return 0;
  const auto& messages = PluginInstance::from_handle(instance)->settings().messages;
  for (size_t i = 0; i < messages.size() && i < capacity && names != nullptr; ++i) {
    names[i] = {messages[i].data(), messages[i].size()};
  }
  return messages.size();
}

spoa_str api_instance_name(spoa_instance* instance) noexcept {
  if (instance == nullptr) return {"", 0};
  const std::string& name = PluginInstance::from_handle(instance)->name();
  return {name.c_str(), name.size()};
}

const spoa_config_value* api_config(spoa_instance* instance) noexcept {
  if (instance == nullptr) return nullptr;
  return PluginInstance::from_handle(instance)->config_tree();
}

int32_t api_request_context(spoa_request* handle, spoa_request_context* context) noexcept {
  if (context == nullptr ||
      context->struct_size < offsetof(spoa_request_context, stream_id) + sizeof(uint64_t)) {
    return SPOA_ERR_INVALID_ARGUMENT;
  }
  uint64_t generation = 0;
  Request* request = Request::resolve(handle, generation);
  if (request == nullptr) return refuse_unknown("request_context");
  const Request::State state = request->state();
  if (!request->on_handler_thread() || state.generation() != generation) {
    // Not during its handler call: the facts' views may already be gone.
    return SPOA_ERR_NOT_ALLOWED;
  }
  // A pool job has its own copies; an inline handler (facts null) runs on the home thread
  // and reads its NotifyCall, alive and unchanged while the handler runs.
  RequestFacts inline_facts;
  if (request->facts == nullptr) {
    if (request->call == nullptr) return SPOA_ERR_NOT_ALLOWED;
    const NotifyCall& call = *request->call;
    inline_facts = {call.stream_id, call.frame_id, call.deadline, call.engine_id, call.peer, false};
  }
  const RequestFacts& facts = request->facts != nullptr ? *request->facts : inline_facts;
  spoa_request_context full{};
  full.struct_size = sizeof full;
  full.stream_id = facts.stream_id;
  full.frame_id = facts.frame_id;
  full.deadline_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(facts.deadline.time_since_epoch())
          .count();
  full.flags = facts.pool ? SPOA_REQUEST_POOL : 0u;
  full.engine_id = {facts.engine_id.data(), facts.engine_id.size()};
  full.peer = {facts.peer.data(), facts.peer.size()};
  // NUL-terminated views (plugin.h): the connection's strings are std::string, the pool
  // job's too; an empty one points at a literal.
  if (full.engine_id.len == 0) full.engine_id.ptr = "";
  if (full.peer.len == 0) full.peer.ptr = "";
  const size_t fill = std::min(context->struct_size, sizeof full);
  const size_t caller_size = context->struct_size;
  std::memcpy(context, &full, fill);
  context->struct_size = caller_size;
  return SPOA_OK;
}

int32_t api_request_abandoned(spoa_request* handle) noexcept {
  uint64_t generation = 0;
  Request* request = Request::resolve(handle, generation);
  if (request == nullptr) return 1;
  const Request::State state = request->state();
  if (state.generation() != generation) return 1;
  return state.phase() == Phase::running || state.phase() == Phase::pending ? 0 : 1;
}

int32_t api_on_abandon(spoa_request* handle, void (*callback)(void*, spoa_request*),
                       void* user) noexcept {
  if (callback == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  uint64_t generation = 0;
  Request* request = Request::resolve(handle, generation);
  if (request == nullptr) return refuse_unknown("on_abandon");
  Request::State refused{};
  if (!request->set_abandon_callback(generation, callback, user, refused)) {
    // Abandoned already is an answer, not a bug: no log line for it.
    if (refused.generation() == generation && refused.phase() == Phase::abandoned) {
      return SPOA_ERR_NOT_ALLOWED;
    }
    return refuse(*request, generation, refused, "on_abandon");
  }
  return SPOA_OK;
}

int32_t api_define_metric(spoa_instance* instance, const spoa_metric_desc* desc,
                          spoa_metric** metric) noexcept {
  if (instance == nullptr || metric == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  PluginInstance& owner = *PluginInstance::from_handle(instance);
  if (!owner.initialising()) return SPOA_ERR_NOT_ALLOWED;
  PluginMetric* defined = nullptr;
  const int32_t status = define_plugin_metric(owner.name(), desc, defined);
  if (status == SPOA_OK) *metric = defined->handle();
  return status;
}

int32_t api_metric_add(spoa_metric* metric, const spoa_str* labels, size_t nlabels,
                       uint64_t delta) noexcept {
  if (metric == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  return PluginMetric::from_handle(metric)->add(labels, nlabels, delta);
}

int32_t api_metric_observe(spoa_metric* metric, const spoa_str* labels, size_t nlabels,
                           double value) noexcept {
  if (metric == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  return PluginMetric::from_handle(metric)->observe(labels, nlabels, value);
}

int32_t api_metric_set(spoa_metric* metric, const spoa_str* labels, size_t nlabels,
                       double value) noexcept {
  if (metric == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  return PluginMetric::from_handle(metric)->set(labels, nlabels, value);
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
    .instance_name = api_instance_name,
    .config = api_config,
    .request_context = api_request_context,
    .request_abandoned = api_request_abandoned,
    .on_abandon = api_on_abandon,
    .define_metric = api_define_metric,
    .metric_add = api_metric_add,
    .metric_observe = api_metric_observe,
    .metric_set = api_metric_set,
};

}  // namespace

const spoa_host_api& host_api() {
  return table;
}

}  // namespace spoa::host
