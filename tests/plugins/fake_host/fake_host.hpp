// A stand-in for spoa-host's side of the plugin ABI: it loads a plugin the way the server
// does, hands it a function table that records every call, and enforces the rules of
// plugin.h (register only during init, no set_var after complete, one complete per
// request, a frame-size budget) so plugin tests run without a server or a socket.
#pragma once

#include <spoa/plugin.h>

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace spoa::testing {

// An SPOP value with its own storage.
struct TypedValue {
  uint32_t type = SPOA_TYPE_NULL;
  spoa_value scalar{};  // the union member for every type but STRING/BINARY
  std::string bytes;    // STRING and BINARY

  static TypedValue null();
  static TypedValue boolean(bool v);
  static TypedValue int32(int32_t v);
  static TypedValue uint32(uint32_t v);
  static TypedValue int64(int64_t v);
  static TypedValue uint64(uint64_t v);
  static TypedValue ipv4(std::array<uint8_t, 4> v);
  static TypedValue ipv6(std::array<uint8_t, 16> v);
  static TypedValue ipv4(std::string_view text);  // "10.0.0.1"; throws std::invalid_argument
  static TypedValue ipv6(std::string_view text);  // "2001:db8::1"
  static TypedValue string(std::string_view v);
  static TypedValue binary(std::string_view v);
  static TypedValue copy_of(const spoa_value& v);

  // Points into *this: valid while it lives unchanged.
  spoa_value view() const;
  // `string "hello"`, `int64 -1`, `ipv4 10.0.0.1`, `binary 00ff` (as spoa-host --test prints them),
  // `null`, `bool true`.
  std::string to_string() const;

  friend bool operator==(const TypedValue& a, const TypedValue& b);
};

struct TestArg {
  std::string name;
  TypedValue value;
};

// "name=type:value" as spoa-host --test takes it: type is null, bool, int32, uint32, int64,
// uint64, ipv4, ipv6, string or binary (hex digits); "name=null" needs no value; an empty
// name is an unnamed argument. Throws std::invalid_argument.
TestArg parse_test_arg(std::string_view text);

struct Action {
  enum class Kind { set_var, unset_var };
  Kind kind = Kind::set_var;
  uint32_t scope = SPOA_SCOPE_TXN;
  std::string name;
  TypedValue value;  // NULL for unset_var

  // `set-var txn.greeting string "hello"` / `unset-var txn.greeting`
  std::string to_string() const;
  friend bool operator==(const Action& a, const Action& b);
};

Action set_var(spoa_scope scope, std::string name, TypedValue value);
Action unset_var(spoa_scope scope, std::string name);

struct LogLine {
  int32_t level;  // as the plugin passed it: a spoa_log_level, or anything else it chose
  std::string text;
};

struct RefusedCall {
  std::string what;  // "set_var greeting", "complete", ...
  spoa_status status;
};

enum class RequestState {
  in_handler,  // the handler is running
  pending,     // the handler returned PENDING, complete() not called yet
  finished     // answered: no set_var, unset_var or complete any more
};

struct RequestRecord {
  uint64_t id = 0;
  std::string message;
  RequestState state = RequestState::in_handler;
  int32_t handler_return = -1;              // the raw value, not clamped to spoa_result
  std::optional<spoa_result> completion;    // from the one accepted complete(): DONE or FAILED
  std::optional<int32_t> completion_value;  // what that complete() passed (42 counts as FAILED)
  bool completed_before_return = false;
  int complete_calls = 0;
  std::thread::id handler_thread;
  std::thread::id complete_thread;
  std::chrono::steady_clock::time_point called_at;
  std::chrono::steady_clock::time_point finished_at;
  std::vector<Action> actions;  // accepted set_var/unset_var calls, in order
  std::vector<RefusedCall> refused;
  bool abandoned = false;         // FakeHost::abandon() was called for it (ABI 1.1)
  bool abandon_callback = false;  // the plugin registered on_abandon()

  // What the host would answer HAProxy for this message: DONE or FAILED.
  std::optional<spoa_result> outcome() const;
};

class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One plugin instance in a fake host. Not copyable; thread-safe for the plugin's calls.
class FakeHost {
 public:
  FakeHost();
  ~FakeHost();
  FakeHost(const FakeHost&) = delete;
  FakeHost& operator=(const FakeHost&) = delete;

  // dlopen()s the file and checks the descriptor as spoa-host does. Throws LoadError
  // saying why (dlerror() text, missing entry symbol, ABI major/minor mismatch).
  void load(const std::string& path);
  // For a plugin compiled into the test binary.
  void attach(const spoa_plugin_descriptor* descriptor);
  const spoa_plugin_descriptor& descriptor() const;

  // Runs init(). `claimed` is the instance's `messages` list from the server config, which
  // is also what the table's claimed_messages() answers. Returns the plugin's error text
  // on failure.
  std::optional<std::string> init(const std::vector<std::pair<std::string, std::string>>& config,
                                  const std::vector<std::string>& claimed);
  bool registered(std::string_view message) const;
  std::vector<std::string> registered_messages() const;

  // Calls the handler of `message` on this thread; returns the request id.
  uint64_t call(std::string_view message, const std::vector<TestArg>& args);
  // The handler's raw return value (for readability in tests).
  int32_t call_and_return(std::string_view message, const std::vector<TestArg>& args);

  RequestRecord request(uint64_t id) const;
  bool wait_finished(uint64_t id, std::chrono::milliseconds timeout) const;

  // Runs the plugin's shutdown(); later calls from the plugin are counted as violations.
  void shutdown();
  bool is_shut_down() const;

  // The per-message action budget (the real host derives it from max-frame-size).
  void set_max_actions_size(size_t bytes);

  // Hands the plugin a shorter function table, as a host of an older minor (or a
  // hand-made table) would: struct_size says `bytes` and every entry past it is null.
  // Call before init().
  void set_table_size(size_t bytes);
  // How many times the plugin called claimed_messages().
  int claimed_messages_calls() const;

  // ---- ABI 1.1 ------------------------------------------------------------------------
  // What instance_name() answers (default "fake").
  void set_instance_name(std::string name);
  // The [plugins.NAME.config] table as TOML text: host->config() answers its typed tree
  // (with FILE:LINE:COL, FILE being `file`), and init() with an empty `config` hands the
  // plugin its flat view as the real host would. Throws std::invalid_argument with the
  // parse error. Call before init().
  void set_config_toml(const std::string& toml, const std::string& file = "fake.toml");
  // The facts request_context() answers for the calls that follow.
  struct Context {
    uint64_t stream_id = 1;
    uint64_t frame_id = 1;
    std::chrono::steady_clock::time_point deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(1);
    std::string engine_id = "fake-engine";
    std::string peer = "127.0.0.1:40000";
    bool pool = false;
  };
  void set_request_context(Context context);
  // As the real host at the deadline: marks the request abandoned (request_abandoned()
  // answers 1, set_var NOT_ALLOWED, complete() NOT_ALLOWED) and runs the plugin's
  // on_abandon callback on this thread. False if it was already finished.
  bool abandon(uint64_t id);
  // Plugin metrics: the value of a counter series / the observations of a histogram
  // series, by metric name (without spoa_plugin_) and label values in order.
  std::optional<uint64_t> counter(std::string_view metric,
                                  const std::vector<std::string>& labels = {}) const;
  std::vector<double> observations(std::string_view metric,
                                   const std::vector<std::string>& labels = {}) const;
  std::optional<double> gauge(std::string_view metric,
                              const std::vector<std::string>& labels = {}) const;
  bool metric_defined(std::string_view metric) const;

  std::vector<LogLine> logs() const;
  bool logged(spoa_log_level level, std::string_view substring) const;
  // Calls the plugin made after shutdown() returned, or otherwise outside the rules
  // (register_message outside init, log after shutdown...): each described in a line.
  std::vector<std::string> violations() const;

  const spoa_host_api& table() const { return table_; }
  spoa_instance* instance_handle();

  // Printing every log line to stderr as it arrives helps when a test fails.
  static void set_verbose(bool on);

 private:
  struct Slot {
    FakeHost* host;
    RequestRecord record;
  };

  static void on_log(spoa_instance* instance, int32_t level, spoa_str text);
  static int32_t on_register(spoa_instance* instance, spoa_str name, spoa_message_handler handler,
                             void* user);
  static int32_t on_set_var(spoa_request* request, int32_t scope, spoa_str name,
                            const spoa_value* value);
  static int32_t on_unset_var(spoa_request* request, int32_t scope, spoa_str name);
  static int32_t on_complete(spoa_request* request, int32_t result);
  static size_t on_claimed_messages(spoa_instance* instance, spoa_str* names, size_t capacity);
  static spoa_str on_instance_name(spoa_instance* instance);
  static const spoa_config_value* on_config(spoa_instance* instance);
  static int32_t on_request_context(spoa_request* request, spoa_request_context* context);
  static int32_t on_request_abandoned(spoa_request* request);
  static int32_t on_abandon(spoa_request* request, void (*callback)(void*, spoa_request*),
                            void* user);
  static int32_t on_define_metric(spoa_instance* instance, const spoa_metric_desc* desc,
                                  spoa_metric** metric);
  static int32_t on_metric_add(spoa_metric* metric, const spoa_str* labels, size_t nlabels,
                               uint64_t delta);
  static int32_t on_metric_observe(spoa_metric* metric, const spoa_str* labels, size_t nlabels,
                                   double value);
  static int32_t on_metric_set(spoa_metric* metric, const spoa_str* labels, size_t nlabels,
                               double value);

  struct Metric {
    FakeHost* host;
    spoa_metric_desc desc;
    std::string name;
    size_t nlabels;
    std::map<std::vector<std::string>, uint64_t> counters;
    std::map<std::vector<std::string>, std::vector<double>> observations;
    std::map<std::vector<std::string>, double> gauges;
  };
  struct CallbackSlot {
    void (*callback)(void*, spoa_request*) = nullptr;
    void* user = nullptr;
  };

  spoa_status add_action(Slot& slot, Action action, std::string_view raw_name);
  size_t actions_size(const RequestRecord& record) const;
  Slot& slot_of(uint64_t id) const;

  spoa_host_api table_{};
  void* library_ = nullptr;
  const spoa_plugin_descriptor* descriptor_ = nullptr;
  void* state_ = nullptr;
  bool initialized_ = false;

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  bool in_init_ = false;
  std::thread::id init_thread_;
  bool shut_down_ = false;
  std::vector<std::string> claimed_;  // set once in init(), before the plugin runs
  int claimed_messages_calls_ = 0;
  std::map<std::string, std::pair<spoa_message_handler, void*>, std::less<>> handlers_;
  // deque: a Slot's address is the request handle the plugin holds, so it never moves.
  std::deque<Slot> slots_;
  size_t max_actions_size_;
  std::vector<LogLine> logs_;
  std::vector<std::string> violations_;
  // ABI 1.1
  std::string instance_name_ = "fake";
  std::shared_ptr<void> config_;  // the parsed text and its tree (fake_host.cpp)
  const spoa_config_value* config_root_ = nullptr;
  std::vector<std::pair<std::string, std::string>> config_flat_;
  bool config_set_ = false;
  Context context_;
  std::map<uint64_t, CallbackSlot> callbacks_;
  std::deque<Metric> metrics_;
  thread_local static const Slot* in_handler_;
};

// Readable gtest failure messages.
inline void PrintTo(const TypedValue& v, std::ostream* os) {
  *os << v.to_string();
}
inline void PrintTo(const Action& a, std::ostream* os) {
  *os << a.to_string();
}

const char* to_string(spoa_status status);
const char* log_level_name(int32_t level);  // "info", or "level?" for a value out of range

}  // namespace spoa::testing
