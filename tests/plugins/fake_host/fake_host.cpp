#include "fake_host.hpp"

#include "config/load.hpp"
#include "host/config_tree.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <limits>
#include <type_traits>

namespace spoa::testing {
namespace {

std::atomic<bool> verbose{false};

std::string_view sv(spoa_str s) {
  return s.len == 0 ? std::string_view() : std::string_view(s.ptr, s.len);
}

// The scope byte as haproxy.cfg spells it.
const char* scope_name(uint32_t scope) {
  static const char* const names[] = {"proc", "sess", "txn", "req", "res"};
  return scope < 5 ? names[scope] : "bad-scope";
}

// spop.md §2: the length of a varint, to charge actions against the frame budget.
size_t varint_size(uint64_t v) {
  if (v < 240) return 1;
  size_t n = 1;
  v = (v - 240) >> 4;
  while (v >= 128) {
    ++n;
    v = (v - 128) >> 7;
  }
  return n + 1;
}

size_t typed_size(const TypedValue& v) {
  switch (v.type) {
    case SPOA_TYPE_INT32:
      return 1 + varint_size(static_cast<uint64_t>(static_cast<int64_t>(v.scalar.u.int32)));
    case SPOA_TYPE_UINT32:
      return 1 + varint_size(v.scalar.u.uint32);
    case SPOA_TYPE_INT64:
      return 1 + varint_size(static_cast<uint64_t>(v.scalar.u.int64));
    case SPOA_TYPE_UINT64:
      return 1 + varint_size(v.scalar.u.uint64);
    case SPOA_TYPE_IPV4:
      return 1 + 4;
    case SPOA_TYPE_IPV6:
      return 1 + 16;
    case SPOA_TYPE_STRING:
    case SPOA_TYPE_BINARY:
      return 1 + varint_size(v.bytes.size()) + v.bytes.size();
    default:
      return 1;
  }
}

// plugin.h, SPOA_ERR_BAD_NAME: empty, longer than 63 bytes, or outside [A-Za-z0-9_.].
bool legal_var_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string hex(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    char buf[4];
    std::snprintf(buf, sizeof buf, "%02x", c);
    out += buf;
  }
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <class T>
T parse_integer(std::string_view text, std::string_view what) {
  const std::string s(text);
  if (s.empty()) throw std::invalid_argument(std::string(what) + ": empty integer");
  size_t used = 0;
  try {
    if constexpr (std::is_signed_v<T>) {
      const long long v = std::stoll(s, &used, 0);
      if (used == s.size() && v >= std::numeric_limits<T>::min() &&
          v <= std::numeric_limits<T>::max())
        return static_cast<T>(v);
    } else {
      if (s[0] != '-') {
        const unsigned long long v = std::stoull(s, &used, 0);
        if (used == s.size() && v <= std::numeric_limits<T>::max()) return static_cast<T>(v);
      }
    }
  } catch (const std::exception&) {
  }
  throw std::invalid_argument(std::string(what) + ": '" + s +
                              "' is out of range or not an integer");
}

}  // namespace

// ---- TypedValue --------------------------------------------------------------------------

TypedValue TypedValue::null() {
  return TypedValue{};
}
TypedValue TypedValue::boolean(bool v) {
  TypedValue t;
  t.type = SPOA_TYPE_BOOL;
  t.scalar.u.boolean = v ? 1 : 0;
  return t;
}
TypedValue TypedValue::int32(int32_t v) {
  TypedValue t;
  t.type = SPOA_TYPE_INT32;
  t.scalar.u.int32 = v;
  return t;
}
TypedValue TypedValue::uint32(uint32_t v) {
  TypedValue t;
  t.type = SPOA_TYPE_UINT32;
  t.scalar.u.uint32 = v;
  return t;
}
TypedValue TypedValue::int64(int64_t v) {
  TypedValue t;
  t.type = SPOA_TYPE_INT64;
  t.scalar.u.int64 = v;
  return t;
}
TypedValue TypedValue::uint64(uint64_t v) {
  TypedValue t;
  t.type = SPOA_TYPE_UINT64;
  t.scalar.u.uint64 = v;
  return t;
}
TypedValue TypedValue::ipv4(std::array<uint8_t, 4> v) {
  TypedValue t;
  t.type = SPOA_TYPE_IPV4;
  std::memcpy(t.scalar.u.ipv4, v.data(), v.size());
  return t;
}
TypedValue TypedValue::ipv6(std::array<uint8_t, 16> v) {
  TypedValue t;
  t.type = SPOA_TYPE_IPV6;
  std::memcpy(t.scalar.u.ipv6, v.data(), v.size());
  return t;
}
TypedValue TypedValue::ipv4(std::string_view text) {
  std::array<uint8_t, 4> a{};
  if (inet_pton(AF_INET, std::string(text).c_str(), a.data()) != 1)
    throw std::invalid_argument("'" + std::string(text) + "' is not an IPv4 address");
  return ipv4(a);
}
TypedValue TypedValue::ipv6(std::string_view text) {
  std::array<uint8_t, 16> a{};
  if (inet_pton(AF_INET6, std::string(text).c_str(), a.data()) != 1)
    throw std::invalid_argument("'" + std::string(text) + "' is not an IPv6 address");
  return ipv6(a);
}
TypedValue TypedValue::string(std::string_view v) {
  TypedValue t;
  t.type = SPOA_TYPE_STRING;
  t.bytes.assign(v);
  return t;
}
TypedValue TypedValue::binary(std::string_view v) {
  TypedValue t;
  t.type = SPOA_TYPE_BINARY;
  t.bytes.assign(v);
  return t;
}
TypedValue TypedValue::copy_of(const spoa_value& v) {
  TypedValue t;
  t.type = v.type;
  if (v.type == SPOA_TYPE_STRING || v.type == SPOA_TYPE_BINARY) {
    t.bytes.assign(sv(v.u.bytes));
  } else {
    t.scalar = v;
  }
  t.scalar.type = v.type;
  return t;
}

spoa_value TypedValue::view() const {
  spoa_value v = scalar;
  v.type = type;
  if (type == SPOA_TYPE_STRING || type == SPOA_TYPE_BINARY) {
    v.u.bytes.ptr = bytes.data();
    v.u.bytes.len = bytes.size();
  }
  return v;
}

std::string TypedValue::to_string() const {
  switch (type) {
    case SPOA_TYPE_NULL:
      return "null";
    case SPOA_TYPE_BOOL:
      return scalar.u.boolean ? "bool true" : "bool false";
    case SPOA_TYPE_INT32:
      return "int32 " + std::to_string(scalar.u.int32);
    case SPOA_TYPE_UINT32:
      return "uint32 " + std::to_string(scalar.u.uint32);
    case SPOA_TYPE_INT64:
      return "int64 " + std::to_string(scalar.u.int64);
    case SPOA_TYPE_UINT64:
      return "uint64 " + std::to_string(scalar.u.uint64);
    case SPOA_TYPE_IPV4:
    case SPOA_TYPE_IPV6: {
      char buf[INET6_ADDRSTRLEN];
      const bool v4 = type == SPOA_TYPE_IPV4;
      inet_ntop(
          v4 ? AF_INET : AF_INET6,
          v4 ? static_cast<const void*>(scalar.u.ipv4) : static_cast<const void*>(scalar.u.ipv6),
          buf, sizeof buf);
      return std::string(v4 ? "ipv4 " : "ipv6 ") + buf;
    }
    case SPOA_TYPE_STRING:
      return "string " + quoted(bytes);
    case SPOA_TYPE_BINARY:
      return "binary " + hex(bytes);
    default:
      return "type-" + std::to_string(type);
  }
}

bool operator==(const TypedValue& a, const TypedValue& b) {
  if (a.type != b.type) return false;
  switch (a.type) {
    case SPOA_TYPE_NULL:
      return true;
    case SPOA_TYPE_BOOL:
      return (a.scalar.u.boolean != 0) == (b.scalar.u.boolean != 0);
    case SPOA_TYPE_INT32:
      return a.scalar.u.int32 == b.scalar.u.int32;
    case SPOA_TYPE_UINT32:
      return a.scalar.u.uint32 == b.scalar.u.uint32;
    case SPOA_TYPE_INT64:
      return a.scalar.u.int64 == b.scalar.u.int64;
    case SPOA_TYPE_UINT64:
      return a.scalar.u.uint64 == b.scalar.u.uint64;
    case SPOA_TYPE_IPV4:
      return std::memcmp(a.scalar.u.ipv4, b.scalar.u.ipv4, 4) == 0;
    case SPOA_TYPE_IPV6:
      return std::memcmp(a.scalar.u.ipv6, b.scalar.u.ipv6, 16) == 0;
    case SPOA_TYPE_STRING:
    case SPOA_TYPE_BINARY:
      return a.bytes == b.bytes;
    default:
      return false;
  }
}

TestArg parse_test_arg(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos)
    throw std::invalid_argument("'" + std::string(text) + "': expected name=type:value");
  TestArg arg;
  arg.name.assign(text.substr(0, eq));
  const std::string_view rest = text.substr(eq + 1);
  const size_t colon = rest.find(':');
  const std::string_view type = rest.substr(0, colon);
  const std::string_view value =
      colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  const std::string what = "argument '" + arg.name + "'";
  if (type == "null") {
    arg.value = TypedValue::null();
  } else if (colon == std::string_view::npos) {
    throw std::invalid_argument(what + ": expected type:value after '='");
  } else if (type == "bool") {
    if (value == "true" || value == "1")
      arg.value = TypedValue::boolean(true);
    else if (value == "false" || value == "0")
      arg.value = TypedValue::boolean(false);
    else
      throw std::invalid_argument(what + ": bool is true or false");
  } else if (type == "int32") {
    arg.value = TypedValue::int32(parse_integer<int32_t>(value, what));
  } else if (type == "uint32") {
    arg.value = TypedValue::uint32(parse_integer<uint32_t>(value, what));
  } else if (type == "int64") {
    arg.value = TypedValue::int64(parse_integer<int64_t>(value, what));
  } else if (type == "uint64") {
    arg.value = TypedValue::uint64(parse_integer<uint64_t>(value, what));
  } else if (type == "ipv4") {
    arg.value = TypedValue::ipv4(value);
  } else if (type == "ipv6") {
    arg.value = TypedValue::ipv6(value);
  } else if (type == "string") {
    arg.value = TypedValue::string(value);
  } else if (type == "binary") {
    std::string_view digits = value;
    if (digits.substr(0, 2) == "0x") digits.remove_prefix(2);
    if (digits.size() % 2 != 0) throw std::invalid_argument(what + ": odd number of hex digits");
    std::string bytes;
    for (size_t i = 0; i < digits.size(); i += 2) {
      const int hi = hex_digit(digits[i]);
      const int lo = hex_digit(digits[i + 1]);
      if (hi < 0 || lo < 0) throw std::invalid_argument(what + ": binary takes hex digits");
      bytes += static_cast<char>(hi * 16 + lo);
    }
    arg.value = TypedValue::binary(bytes);
  } else {
    throw std::invalid_argument(what + ": unknown type '" + std::string(type) +
                                "' (null, bool, int32, uint32, int64, uint64, ipv4, ipv6, "
                                "string, binary)");
  }
  return arg;
}

// ---- Action ------------------------------------------------------------------------------

std::string Action::to_string() const {
  const std::string target = std::string(scope_name(scope)) + "." + name;
  if (kind == Kind::unset_var) return "unset-var " + target;
  return "set-var " + target + " " + value.to_string();
}

bool operator==(const Action& a, const Action& b) {
  return a.kind == b.kind && a.scope == b.scope && a.name == b.name && a.value == b.value;
}

Action set_var(spoa_scope scope, std::string name, TypedValue value) {
  return Action{Action::Kind::set_var, static_cast<uint32_t>(scope), std::move(name),
                std::move(value)};
}
Action unset_var(spoa_scope scope, std::string name) {
  return Action{Action::Kind::unset_var, static_cast<uint32_t>(scope), std::move(name), {}};
}

std::optional<spoa_result> RequestRecord::outcome() const {
  if (state != RequestState::finished) return std::nullopt;
  if (handler_return == SPOA_DONE) return SPOA_DONE;
  if (handler_return == SPOA_PENDING && completion) return completion;
  return SPOA_FAILED;
}

// ---- FakeHost ----------------------------------------------------------------------------

FakeHost::FakeHost() : max_actions_size_(16380 - 25) {
  table_.struct_size = sizeof(spoa_host_api);
  table_.abi_major = SPOA_ABI_MAJOR;
  table_.abi_minor = SPOA_ABI_MINOR;
  table_.log = &FakeHost::on_log;
  table_.register_message = &FakeHost::on_register;
  table_.set_var = &FakeHost::on_set_var;
  table_.unset_var = &FakeHost::on_unset_var;
  table_.complete = &FakeHost::on_complete;
  table_.claimed_messages = &FakeHost::on_claimed_messages;
  table_.instance_name = &FakeHost::on_instance_name;
  table_.config = &FakeHost::on_config;
  table_.request_context = &FakeHost::on_request_context;
  table_.request_abandoned = &FakeHost::on_request_abandoned;
  table_.on_abandon = &FakeHost::on_abandon;
  table_.define_metric = &FakeHost::on_define_metric;
  table_.metric_add = &FakeHost::on_metric_add;
  table_.metric_observe = &FakeHost::on_metric_observe;
  table_.metric_set = &FakeHost::on_metric_set;
  set_config_toml("");
}

thread_local const FakeHost::Slot* FakeHost::in_handler_ = nullptr;

namespace {
// What set_config_toml() keeps alive: the tree's strings point into `text`.
struct ParsedConfig {
  spoa::config::PluginConfigText text;
  std::string file;
  std::unique_ptr<spoa::host::ConfigTree> tree;
};
}  // namespace

void FakeHost::set_config_toml(const std::string& toml, const std::string& file) {
  if (initialized_) throw std::logic_error("FakeHost::set_config_toml after init");
  std::vector<spoa::config::Diagnostic> errors;
  auto parsed = spoa::config::parse_plugin_config(toml, file, errors);
  if (!parsed) {
    std::string text;
    for (const auto& e : errors)
      text += (text.empty() ? "" : "; ") + e.to_string();
    throw std::invalid_argument("FakeHost::set_config_toml: " + text);
  }
  auto holder = std::make_shared<ParsedConfig>();
  holder->text = std::move(*parsed);
  holder->file = file;
  holder->tree = std::make_unique<spoa::host::ConfigTree>(holder->text.tree, holder->file);
  config_root_ = holder->tree->root();
  config_flat_ = holder->text.flat;
  config_set_ = !toml.empty();
  config_ = holder;
}

void FakeHost::set_instance_name(std::string name) {
  std::lock_guard<std::mutex> lock(mutex_);
  instance_name_ = std::move(name);
}

void FakeHost::set_request_context(Context context) {
  std::lock_guard<std::mutex> lock(mutex_);
  context_ = std::move(context);
}

bool FakeHost::abandon(uint64_t id) {
  CallbackSlot callback;
  spoa_request* handle = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Slot& slot = slot_of(id);
    RequestRecord& r = slot.record;
    if (r.state == RequestState::finished || r.completion || r.abandoned) return false;
    r.abandoned = true;
    if (const auto it = callbacks_.find(id); it != callbacks_.end()) callback = it->second;
    handle = reinterpret_cast<spoa_request*>(&slot);
  }
  changed_.notify_all();
  if (callback.callback != nullptr) callback.callback(callback.user, handle);
  return true;
}

std::optional<uint64_t> FakeHost::counter(std::string_view metric,
                                          const std::vector<std::string>& labels) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Metric& m : metrics_) {
    if (m.name != metric) continue;
    const auto it = m.counters.find(labels);
    if (it == m.counters.end()) return std::nullopt;
    return it->second;
  }
  return std::nullopt;
}

std::vector<double> FakeHost::observations(std::string_view metric,
                                           const std::vector<std::string>& labels) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Metric& m : metrics_) {
    if (m.name != metric) continue;
    const auto it = m.observations.find(labels);
    if (it != m.observations.end()) return it->second;
  }
  return {};
}

std::optional<double> FakeHost::gauge(std::string_view metric,
                                      const std::vector<std::string>& labels) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Metric& m : metrics_) {
    if (m.name != metric) continue;
    const auto it = m.gauges.find(labels);
    if (it != m.gauges.end()) return it->second;
  }
  return std::nullopt;
}

bool FakeHost::metric_defined(std::string_view metric) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const Metric& m : metrics_) {
    if (m.name == metric) return true;
  }
  return false;
}

FakeHost::~FakeHost() {
  if (initialized_ && !is_shut_down()) shutdown();
  if (library_ != nullptr) dlclose(library_);
}

void FakeHost::set_table_size(size_t bytes) {
  if (initialized_) throw std::logic_error("FakeHost::set_table_size after init");
  if (bytes > sizeof(spoa_host_api)) throw std::logic_error("FakeHost::set_table_size: too big");
  table_.struct_size = bytes;
  // Null every entry that does not fit entirely, as a table of that size would lack it.
  auto cut = [&](auto& entry, size_t offset) {
    if (offset + sizeof(entry) > bytes) entry = nullptr;
  };
  cut(table_.log, offsetof(spoa_host_api, log));
  cut(table_.register_message, offsetof(spoa_host_api, register_message));
  cut(table_.set_var, offsetof(spoa_host_api, set_var));
  cut(table_.unset_var, offsetof(spoa_host_api, unset_var));
  cut(table_.complete, offsetof(spoa_host_api, complete));
  cut(table_.claimed_messages, offsetof(spoa_host_api, claimed_messages));
  cut(table_.instance_name, offsetof(spoa_host_api, instance_name));
  cut(table_.config, offsetof(spoa_host_api, config));
  cut(table_.request_context, offsetof(spoa_host_api, request_context));
  cut(table_.request_abandoned, offsetof(spoa_host_api, request_abandoned));
  cut(table_.on_abandon, offsetof(spoa_host_api, on_abandon));
  cut(table_.define_metric, offsetof(spoa_host_api, define_metric));
  cut(table_.metric_add, offsetof(spoa_host_api, metric_add));
  cut(table_.metric_observe, offsetof(spoa_host_api, metric_observe));
  cut(table_.metric_set, offsetof(spoa_host_api, metric_set));
}

int FakeHost::claimed_messages_calls() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return claimed_messages_calls_;
}

void FakeHost::set_verbose(bool on) {
  verbose = on;
}

spoa_instance* FakeHost::instance_handle() {
  return reinterpret_cast<spoa_instance*>(this);
}

void FakeHost::load(const std::string& path) {
  if (library_ != nullptr || descriptor_ != nullptr) throw LoadError("a plugin is already loaded");
  dlerror();
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    throw LoadError(path + ": cannot load: " + (why ? why : "unknown dlopen error"));
  }
  auto entry = reinterpret_cast<spoa_plugin_entry_fn>(dlsym(library, SPOA_PLUGIN_ENTRY_SYMBOL));
  if (entry == nullptr) {
    dlclose(library);
    throw LoadError(path + ": no " SPOA_PLUGIN_ENTRY_SYMBOL
                           " symbol: not a spoa-host plugin, or built for another ABI major");
  }
  library_ = library;
  try {
    attach(entry());
  } catch (const LoadError& e) {
    descriptor_ = nullptr;
    library_ = nullptr;
    dlclose(library);
    throw LoadError(path + ": " + e.what());
  }
}

void FakeHost::attach(const spoa_plugin_descriptor* d) {
  const std::string host_abi =
      std::to_string(SPOA_ABI_MAJOR) + "." + std::to_string(SPOA_ABI_MINOR);
  if (d == nullptr) throw LoadError("the entry symbol returned no descriptor");
  if (d->struct_size < offsetof(spoa_plugin_descriptor, shutdown) + sizeof(d->shutdown))
    throw LoadError("descriptor too small (" + std::to_string(d->struct_size) + " bytes)");
  if (d->abi_major != SPOA_ABI_MAJOR)
    throw LoadError("built for plugin ABI major " + std::to_string(d->abi_major) +
                    ", this host speaks " + host_abi);
  if (d->abi_minor > SPOA_ABI_MINOR)
    throw LoadError("built against plugin ABI " + std::to_string(d->abi_major) + "." +
                    std::to_string(d->abi_minor) + ", newer than this host's " + host_abi);
  if (d->init == nullptr) throw LoadError("descriptor has no init function");
  descriptor_ = d;
}

const spoa_plugin_descriptor& FakeHost::descriptor() const {
  if (descriptor_ == nullptr) throw std::logic_error("FakeHost: no plugin loaded");
  return *descriptor_;
}

std::optional<std::string> FakeHost::init(
    const std::vector<std::pair<std::string, std::string>>& config,
    const std::vector<std::string>& claimed) {
  if (descriptor_ == nullptr) throw std::logic_error("FakeHost::init before load");
  if (initialized_) throw std::logic_error("FakeHost::init called twice");
  std::vector<spoa_config_entry> entries;
  const auto& flat = config.empty() && config_set_ ? config_flat_ : config;
  for (const auto& [key, value] : flat)
    entries.push_back({{key.c_str(), key.size()}, {value.c_str(), value.size()}});
  {
    std::lock_guard<std::mutex> lock(mutex_);
    claimed_ = claimed;
    in_init_ = true;
    init_thread_ = std::this_thread::get_id();
  }
  // Poisoned so a plugin that returns non-zero without writing a reason shows up.
  char error[256];
  std::memset(error, '?', sizeof error);
  error[sizeof error - 1] = '\0';
  void* state = nullptr;
  const int rc = descriptor_->init(&table_, instance_handle(), entries.data(), entries.size(),
                                   &state, error, sizeof error);
  std::lock_guard<std::mutex> lock(mutex_);
  in_init_ = false;
  if (rc != 0) {
    handlers_.clear();
    return std::string(error);
  }
  state_ = state;
  initialized_ = true;
  return std::nullopt;
}

bool FakeHost::registered(std::string_view message) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return handlers_.find(message) != handlers_.end();
}

std::vector<std::string> FakeHost::registered_messages() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> names;
  for (const auto& h : handlers_)
    names.push_back(h.first);
  return names;
}

uint64_t FakeHost::call(std::string_view message, const std::vector<TestArg>& args) {
  std::pair<spoa_message_handler, void*> handler;
  Slot* slot = nullptr;
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!initialized_ || shut_down_)
      throw std::logic_error("FakeHost::call outside init..shutdown");
    const auto it = handlers_.find(message);
    if (it == handlers_.end())
      throw std::logic_error("FakeHost::call: no handler for message '" + std::string(message) +
                             "'");
    handler = it->second;
    slots_.push_back(Slot{this, RequestRecord{}});
    slot = &slots_.back();
    id = slots_.size();
    slot->record.id = id;
    slot->record.message.assign(message);
    slot->record.handler_thread = std::this_thread::get_id();
    slot->record.called_at = std::chrono::steady_clock::now();
  }
  // Copies, as the real host's receive buffer would be: valid only during the call.
  std::vector<std::string> names;
  std::vector<TypedValue> values;
  names.reserve(args.size());
  values.reserve(args.size());
  std::vector<spoa_arg> raw;
  for (const TestArg& a : args) {
    names.push_back(a.name);
    values.push_back(a.value);
    raw.push_back(
        spoa_arg{{names.back().data(), names.back().size()}, values.back().view(), 0, 0, 0});
  }
  const std::string name(message);
  // Any int32_t may come back (misbehave.so returns 42): plugin.h says it counts as FAILED.
  in_handler_ = slot;
  const int32_t ret = handler.first(handler.second, reinterpret_cast<spoa_request*>(slot),
                                    spoa_str{name.data(), name.size()},
                                    raw.empty() ? nullptr : raw.data(), raw.size());
  in_handler_ = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    RequestRecord& r = slot->record;
    r.handler_return = ret;
    if (ret == SPOA_PENDING && !r.completion) {
      r.state = RequestState::pending;
    } else {
      r.state = RequestState::finished;
      r.finished_at = std::chrono::steady_clock::now();
    }
  }
  changed_.notify_all();
  return id;
}

int32_t FakeHost::call_and_return(std::string_view message, const std::vector<TestArg>& args) {
  return request(call(message, args)).handler_return;
}

FakeHost::Slot& FakeHost::slot_of(uint64_t id) const {
  if (id == 0 || id > slots_.size()) throw std::out_of_range("no request " + std::to_string(id));
  return const_cast<Slot&>(slots_[id - 1]);
}

RequestRecord FakeHost::request(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return slot_of(id).record;
}

bool FakeHost::wait_finished(uint64_t id, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout,
                           [&] { return slot_of(id).record.state == RequestState::finished; });
}

void FakeHost::shutdown() {
  if (!initialized_) throw std::logic_error("FakeHost::shutdown without a successful init");
  if (is_shut_down()) throw std::logic_error("FakeHost::shutdown called twice");
  if (descriptor_->shutdown != nullptr) descriptor_->shutdown(state_);
  std::lock_guard<std::mutex> lock(mutex_);
  shut_down_ = true;
}

bool FakeHost::is_shut_down() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return shut_down_;
}

void FakeHost::set_max_actions_size(size_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  max_actions_size_ = bytes;
}

std::vector<LogLine> FakeHost::logs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return logs_;
}

bool FakeHost::logged(spoa_log_level level, std::string_view substring) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const LogLine& l : logs_) {
    if (l.level == static_cast<int32_t>(level) && l.text.find(substring) != std::string::npos)
      return true;
  }
  return false;
}

std::vector<std::string> FakeHost::violations() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return violations_;
}

// ---- the function table ------------------------------------------------------------------

void FakeHost::on_log(spoa_instance* instance, int32_t level, spoa_str text) {
  auto* host = reinterpret_cast<FakeHost*>(instance);
  std::string line(sv(text));
  if (verbose) std::fprintf(stderr, "[plugin %s] %s\n", log_level_name(level), line.c_str());
  std::lock_guard<std::mutex> lock(host->mutex_);
  if (host->shut_down_) host->violations_.push_back("log() after shutdown: " + line);
  host->logs_.push_back(LogLine{level, std::move(line)});
}

int32_t FakeHost::on_register(spoa_instance* instance, spoa_str name, spoa_message_handler handler,
                              void* user) {
  auto* host = reinterpret_cast<FakeHost*>(instance);
  std::lock_guard<std::mutex> lock(host->mutex_);
  const std::string message(sv(name));
  if (!host->in_init_ || host->init_thread_ != std::this_thread::get_id()) {
    host->violations_.push_back("register_message('" + message + "') outside init()");
    return SPOA_ERR_NOT_ALLOWED;
  }
  if (handler == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  bool claimed = false;
  for (const std::string& c : host->claimed_)
    claimed = claimed || c == message;
  if (!claimed) return SPOA_ERR_NOT_CLAIMED;
  if (!host->handlers_.emplace(message, std::make_pair(handler, user)).second)
    return SPOA_ERR_DUPLICATE;
  return SPOA_OK;
}

size_t FakeHost::actions_size(const RequestRecord& record) const {
  size_t total = 0;
  for (const Action& a : record.actions) {
    // action type, nb-args, scope byte, then the name and (for SET-VAR) the typed value.
    total += 3 + varint_size(a.name.size()) + a.name.size();
    if (a.kind == Action::Kind::set_var) total += typed_size(a.value);
  }
  return total;
}

spoa_status FakeHost::add_action(Slot& slot, Action action, std::string_view raw_name) {
  RequestRecord& r = slot.record;
  const std::string what =
      std::string(action.kind == Action::Kind::set_var ? "set_var " : "unset_var ") +
      std::string(raw_name);
  auto refuse = [&](spoa_status status) {
    r.refused.push_back(RefusedCall{what, status});
    return status;
  };
  if (shut_down_) {
    violations_.push_back(what + " after shutdown");
    return refuse(SPOA_ERR_NOT_ALLOWED);
  }
  if (r.state == RequestState::finished || r.completion || r.abandoned)
    return refuse(SPOA_ERR_NOT_ALLOWED);
  if (action.scope > SPOA_SCOPE_RES || action.value.type > SPOA_TYPE_BINARY)
    return refuse(SPOA_ERR_INVALID_ARGUMENT);
  if (!legal_var_name(raw_name)) return refuse(SPOA_ERR_BAD_NAME);
  r.actions.push_back(std::move(action));
  if (actions_size(r) > max_actions_size_) {
    r.actions.pop_back();
    return refuse(SPOA_ERR_TOO_BIG);
  }
  return SPOA_OK;
}

int32_t FakeHost::on_set_var(spoa_request* request, int32_t scope, spoa_str name,
                             const spoa_value* value) {
  if (request == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  Slot& slot = *reinterpret_cast<Slot*>(request);
  std::lock_guard<std::mutex> lock(slot.host->mutex_);
  if (value == nullptr) {
    slot.record.refused.push_back(
        RefusedCall{"set_var " + std::string(sv(name)), SPOA_ERR_INVALID_ARGUMENT});
    return SPOA_ERR_INVALID_ARGUMENT;
  }
  Action action{Action::Kind::set_var, static_cast<uint32_t>(scope), std::string(sv(name)),
                TypedValue{}};
  if (value->type <= SPOA_TYPE_BINARY) {
    action.value = TypedValue::copy_of(*value);
  } else {
    action.value.type = value->type;
  }
  return slot.host->add_action(slot, std::move(action), sv(name));
}

int32_t FakeHost::on_unset_var(spoa_request* request, int32_t scope, spoa_str name) {
  if (request == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  Slot& slot = *reinterpret_cast<Slot*>(request);
  std::lock_guard<std::mutex> lock(slot.host->mutex_);
  Action action{Action::Kind::unset_var, static_cast<uint32_t>(scope), std::string(sv(name)),
                TypedValue{}};
  return slot.host->add_action(slot, std::move(action), sv(name));
}

int32_t FakeHost::on_complete(spoa_request* request, int32_t result) {
  if (request == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  Slot& slot = *reinterpret_cast<Slot*>(request);
  FakeHost* host = slot.host;
  {
    std::lock_guard<std::mutex> lock(host->mutex_);
    RequestRecord& r = slot.record;
    ++r.complete_calls;
    if (host->shut_down_) host->violations_.push_back("complete() after shutdown");
    if (r.abandoned && !r.completion && r.state != RequestState::finished) {
      // plugin.h: still due once after an abandonment; answers NOT_ALLOWED.
      r.completion = result == SPOA_DONE ? SPOA_DONE : SPOA_FAILED;
      r.completion_value = result;
      r.complete_thread = std::this_thread::get_id();
      if (r.state == RequestState::in_handler) {
        r.completed_before_return = true;
      } else {
        r.state = RequestState::finished;
        r.finished_at = std::chrono::steady_clock::now();
      }
      r.refused.push_back(RefusedCall{"complete", SPOA_ERR_NOT_ALLOWED});
      host->changed_.notify_all();
      return SPOA_ERR_NOT_ALLOWED;
    }
    if (r.state == RequestState::finished || r.completion) {
      // plugin.h: "a second call ... is ignored and logged".
      host->logs_.push_back(LogLine{SPOA_LOG_WARN, "host: complete() on request " +
                                                       std::to_string(r.id) +
                                                       " that is already answered: ignored"});
      r.refused.push_back(RefusedCall{"complete", SPOA_ERR_NOT_ALLOWED});
      return SPOA_ERR_NOT_ALLOWED;
    }
    // plugin.h: "any other value counts as SPOA_FAILED", and the call is accepted.
    r.completion = result == SPOA_DONE ? SPOA_DONE : SPOA_FAILED;
    r.completion_value = result;
    r.complete_thread = std::this_thread::get_id();
    if (r.state == RequestState::in_handler) {
      r.completed_before_return = true;
    } else {
      r.state = RequestState::finished;
      r.finished_at = std::chrono::steady_clock::now();
    }
  }
  host->changed_.notify_all();
  return SPOA_OK;
}

size_t FakeHost::on_claimed_messages(spoa_instance* instance, spoa_str* names, size_t capacity) {
  if (instance == nullptr) return 0;
  auto* host = reinterpret_cast<FakeHost*>(instance);
  std::lock_guard<std::mutex> lock(host->mutex_);
  ++host->claimed_messages_calls_;
  // plugin.h: the views live until shutdown() returns, and no host call may follow it.
  if (host->shut_down_) host->violations_.push_back("claimed_messages() after shutdown");
  const std::vector<std::string>& claimed = host->claimed_;
  for (size_t i = 0; names != nullptr && i < capacity && i < claimed.size(); ++i)
    names[i] = spoa_str{claimed[i].data(), claimed[i].size()};
  return claimed.size();
}

spoa_str FakeHost::on_instance_name(spoa_instance* instance) {
  if (instance == nullptr) return {"", 0};
  auto* host = reinterpret_cast<FakeHost*>(instance);
  std::lock_guard<std::mutex> lock(host->mutex_);
  return {host->instance_name_.c_str(), host->instance_name_.size()};
}

const spoa_config_value* FakeHost::on_config(spoa_instance* instance) {
  if (instance == nullptr) return nullptr;
  auto* host = reinterpret_cast<FakeHost*>(instance);
  std::lock_guard<std::mutex> lock(host->mutex_);
  if (host->shut_down_) host->violations_.push_back("config() after shutdown");
  return host->config_root_;
}

int32_t FakeHost::on_request_context(spoa_request* request, spoa_request_context* context) {
  if (request == nullptr || context == nullptr ||
      context->struct_size < offsetof(spoa_request_context, frame_id)) {
    return SPOA_ERR_INVALID_ARGUMENT;
  }
  Slot& slot = *reinterpret_cast<Slot*>(request);
  std::lock_guard<std::mutex> lock(slot.host->mutex_);
  if (in_handler_ != &slot) {
    slot.record.refused.push_back(RefusedCall{"request_context", SPOA_ERR_NOT_ALLOWED});
    return SPOA_ERR_NOT_ALLOWED;
  }
  const Context& c = slot.host->context_;
  spoa_request_context full{};
  full.struct_size = sizeof full;
  full.stream_id = c.stream_id;
  full.frame_id = c.frame_id;
  full.deadline_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(c.deadline.time_since_epoch()).count();
  full.flags = c.pool ? SPOA_REQUEST_POOL : 0u;
  full.engine_id = {c.engine_id.c_str(), c.engine_id.size()};
  full.peer = {c.peer.c_str(), c.peer.size()};
  const size_t size = context->struct_size;
  std::memcpy(context, &full, std::min(size, sizeof full));
  context->struct_size = size;
  return SPOA_OK;
}

int32_t FakeHost::on_request_abandoned(spoa_request* request) {
  if (request == nullptr) return 1;
  Slot& slot = *reinterpret_cast<Slot*>(request);
  std::lock_guard<std::mutex> lock(slot.host->mutex_);
  const RequestRecord& r = slot.record;
  return r.abandoned || r.state == RequestState::finished || r.completion ? 1 : 0;
}

int32_t FakeHost::on_abandon(spoa_request* request, void (*callback)(void*, spoa_request*),
                             void* user) {
  if (request == nullptr || callback == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  Slot& slot = *reinterpret_cast<Slot*>(request);
  std::lock_guard<std::mutex> lock(slot.host->mutex_);
  RequestRecord& r = slot.record;
  if (r.abandoned || r.state == RequestState::finished || r.completion) {
    return SPOA_ERR_NOT_ALLOWED;
  }
  slot.host->callbacks_[r.id] = CallbackSlot{callback, user};
  r.abandon_callback = true;
  return SPOA_OK;
}

int32_t FakeHost::on_define_metric(spoa_instance* instance, const spoa_metric_desc* desc,
                                   spoa_metric** metric) {
  if (instance == nullptr || desc == nullptr || metric == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  auto* host = reinterpret_cast<FakeHost*>(instance);
  std::lock_guard<std::mutex> lock(host->mutex_);
  if (!host->in_init_) {
    host->violations_.push_back("define_metric() outside init()");
    return SPOA_ERR_NOT_ALLOWED;
  }
  if (desc->struct_size < sizeof(spoa_metric_desc)) return SPOA_ERR_INVALID_ARGUMENT;
  if (desc->kind != SPOA_METRIC_COUNTER && desc->kind != SPOA_METRIC_HISTOGRAM &&
      desc->kind != SPOA_METRIC_GAUGE)
    return SPOA_ERR_INVALID_ARGUMENT;
  const std::string name(sv(desc->name));
  if (name.empty() || name.size() > 64) return SPOA_ERR_BAD_NAME;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return SPOA_ERR_BAD_NAME;
  }
  if (desc->nlabels > 4 || (desc->nlabels != 0 && desc->label_names == nullptr))
    return SPOA_ERR_INVALID_ARGUMENT;
  for (const Metric& m : host->metrics_) {
    if (m.name == name) return SPOA_ERR_DUPLICATE;
  }
  host->metrics_.push_back(Metric{host, *desc, name, desc->nlabels, {}, {}, {}});
  *metric = reinterpret_cast<spoa_metric*>(&host->metrics_.back());
  return SPOA_OK;
}

namespace {
std::optional<std::vector<std::string>> label_values(const spoa_str* labels, size_t n,
                                                     size_t expected) {
  if (n != expected || (n != 0 && labels == nullptr)) return std::nullopt;
  std::vector<std::string> values;
  for (size_t i = 0; i < n; ++i)
    values.emplace_back(labels[i].len == 0 ? std::string()
                                           : std::string(labels[i].ptr, labels[i].len));
  return values;
}
}  // namespace

int32_t FakeHost::on_metric_add(spoa_metric* metric, const spoa_str* labels, size_t nlabels,
                                uint64_t delta) {
  if (metric == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  auto& m = *reinterpret_cast<Metric*>(metric);
  std::lock_guard<std::mutex> lock(m.host->mutex_);
  if (m.desc.kind != SPOA_METRIC_COUNTER) return SPOA_ERR_INVALID_ARGUMENT;
  auto values = label_values(labels, nlabels, m.nlabels);
  if (!values) return SPOA_ERR_INVALID_ARGUMENT;
  m.counters[*values] += delta;
  return SPOA_OK;
}

int32_t FakeHost::on_metric_observe(spoa_metric* metric, const spoa_str* labels, size_t nlabels,
                                    double value) {
  if (metric == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  auto& m = *reinterpret_cast<Metric*>(metric);
  std::lock_guard<std::mutex> lock(m.host->mutex_);
  if (m.desc.kind != SPOA_METRIC_HISTOGRAM || value != value) return SPOA_ERR_INVALID_ARGUMENT;
  auto values = label_values(labels, nlabels, m.nlabels);
  if (!values) return SPOA_ERR_INVALID_ARGUMENT;
  m.observations[*values].push_back(value);
  return SPOA_OK;
}

int32_t FakeHost::on_metric_set(spoa_metric* metric, const spoa_str* labels, size_t nlabels,
                                double value) {
  if (metric == nullptr) return SPOA_ERR_INVALID_ARGUMENT;
  auto& m = *reinterpret_cast<Metric*>(metric);
  std::lock_guard<std::mutex> lock(m.host->mutex_);
  if (m.desc.kind != SPOA_METRIC_GAUGE || value != value) return SPOA_ERR_INVALID_ARGUMENT;
  auto values = label_values(labels, nlabels, m.nlabels);
  if (!values) return SPOA_ERR_INVALID_ARGUMENT;
  m.gauges[*values] = value;
  return SPOA_OK;
}

const char* to_string(spoa_status status) {
  switch (static_cast<int>(status)) {
    case SPOA_OK:
      return "SPOA_OK";
    case SPOA_ERR_INVALID_ARGUMENT:
      return "SPOA_ERR_INVALID_ARGUMENT";
    case SPOA_ERR_BAD_NAME:
      return "SPOA_ERR_BAD_NAME";
    case SPOA_ERR_TOO_BIG:
      return "SPOA_ERR_TOO_BIG";
    case SPOA_ERR_NOT_ALLOWED:
      return "SPOA_ERR_NOT_ALLOWED";
    case SPOA_ERR_DUPLICATE:
      return "SPOA_ERR_DUPLICATE";
    case SPOA_ERR_NOT_CLAIMED:
      return "SPOA_ERR_NOT_CLAIMED";
    case SPOA_ERR_HOST_FAILURE:
      return "SPOA_ERR_HOST_FAILURE";
    default:
      return "SPOA_ERR_?";
  }
}

const char* log_level_name(int32_t level) {
  switch (level) {
    case SPOA_LOG_TRACE:
      return "trace";
    case SPOA_LOG_DEBUG:
      return "debug";
    case SPOA_LOG_INFO:
      return "info";
    case SPOA_LOG_WARN:
      return "warn";
    case SPOA_LOG_ERROR:
      return "error";
    default:
      return "level?";
  }
}

}  // namespace spoa::testing
