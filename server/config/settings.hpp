#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/diagnostic.hpp"
#include "config/listen_address.hpp"
#include "config/log_level.hpp"

namespace spoa::config {

// Bounds on [server] values. The config loader and the command line both check them, and
// their error messages quote them.
inline constexpr unsigned max_threads = 1024;
// SPOP's floor (spop.md: HAProxy disconnects below 256) and a ceiling that keeps the
// per-connection buffers (a few frames each) bounded: 16 MiB - 1.
inline constexpr uint32_t smallest_max_frame_size = 256;
inline constexpr uint32_t largest_max_frame_size = 16777215;
inline constexpr uint32_t largest_max_connections = 1000000;
inline constexpr uint32_t largest_max_inflight_per_connection = 65536;

// The SPOP capabilities the server knows how to announce.
inline constexpr std::string_view known_capabilities[] = {"pipelining", "async", "fragmentation"};

struct ServerSettings {
  // Never empty after load_config: defaults to 127.0.0.1:12345.
  std::vector<ListenAddress> listen;
  // 0 = one I/O thread per CPU.
  unsigned threads = 0;
  uint32_t max_frame_size = 16380;
  std::vector<std::string> capabilities{"pipelining"};
  uint32_t max_connections = 10000;
  uint32_t max_inflight_per_connection = 64;
  // After load_config: the absolute directory in which bare plugin names were looked up
  // (--plugin-dir, else server.plugin_dir, else the built-in directory).
  std::string plugin_dir;
};

struct Timeouts {
  std::chrono::milliseconds hello{5000};
  std::chrono::milliseconds idle{600000};
  std::chrono::milliseconds processing{1000};
  // A write to HAProxy that makes no progress for this long closes the connection.
  std::chrono::milliseconds write{10000};
};

struct LogSettings {
  LogLevel level = LogLevel::info;
  LogTarget target = LogTarget::automatic;
};

struct MetricsSettings {
  // nullopt: no metrics endpoint.
  std::optional<ListenAddress> listen;
};

// A value of [plugins.NAME.config] with its type and place, for the plugin's structured
// view (ABI 1.1 host->config()). Tables keep the operator's order.
struct ConfigMember;
struct ConfigNode {
  enum class Type : uint8_t { string, integer, floating, boolean, array, table };
  Type type = Type::table;
  size_t line = 0;
  size_t column = 0;
  std::string text;  // string (dates and times as their RFC 3339 text)
  int64_t integer = 0;
  double floating = 0;
  bool boolean = false;
  std::vector<ConfigNode> items;      // array
  std::vector<ConfigMember> members;  // table, in file order
};
struct ConfigMember {
  std::string key;
  ConfigNode value;
};

// How an instance's handlers run ([plugins.NAME] execution).
enum class Execution : uint8_t {
  inline_io,  // "inline": on the I/O thread that read the NOTIFY; must not block
  pool        // "pool": on pool_threads threads of the instance's own; may block
};

inline constexpr unsigned default_pool_threads = 4;
inline constexpr unsigned max_pool_threads = 256;
inline constexpr uint32_t default_pool_queue = 256;
inline constexpr uint32_t max_pool_queue = 1000000;

// One [plugins.NAME] table.
struct PluginSettings {
  // The NAME of [plugins.NAME]: letters, digits, '_', '-' and '.'.
  std::string instance;
  // Absolute, normalised path of the .so; load_config has checked that it exists.
  std::string path;
  // Where `path` was written, so that a later dlopen failure points at it.
  Location path_location;
  // SPOE message names this instance answers; non-empty, each claimed by no other instance.
  std::vector<std::string> messages;
  // [plugins.NAME.config] flattened, in file order: strings as they are; integers, floats
  // and booleans as TOML writes them (true/false); dates as RFC 3339; nested tables as
  // dotted keys ("a.b"); arrays of scalars joined with ','.
  std::vector<std::pair<std::string, std::string>> settings;
  // [plugins.NAME.config] whole and typed (an empty table when absent).
  ConfigNode tree;
  Execution execution = Execution::inline_io;
  unsigned pool_threads = default_pool_threads;  // with Execution::pool
  uint32_t pool_queue = default_pool_queue;      // waiting calls; a full queue answers FAILED
  // The [plugins.NAME] table.
  Location location;
};

struct Config {
  // The config file, as given to load_config.
  std::string file;
  ServerSettings server;
  Timeouts timeouts;
  LogSettings log;
  MetricsSettings metrics;
  // In file order.
  std::vector<PluginSettings> plugins;
};

}  // namespace spoa::config
