#include "config/load.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <sstream>

#include "config/detail/plugin_config.hpp"
#include "config/detail/syntax_error.hpp"
#include "config/detail/toml_reader.hpp"
#include "config/duration.hpp"

namespace spoa::config {
namespace {

namespace fs = std::filesystem;
using detail::join_key;
using detail::TomlReader;

constexpr std::string_view root_keys[] = {"server", "timeouts", "log", "metrics", "plugins"};
constexpr std::string_view server_keys[] = {"listen",          "threads",
                                            "max_frame_size",  "capabilities",
                                            "max_connections", "max_inflight_per_connection",
                                            "plugin_dir"};
constexpr std::string_view timeout_keys[] = {"hello", "idle", "processing", "write"};
constexpr std::string_view log_keys[] = {"level", "target"};
constexpr std::string_view metrics_keys[] = {"listen"};
constexpr std::string_view plugin_keys[] = {"path",      "messages",     "config",
                                            "execution", "pool_threads", "pool_queue"};

constexpr std::string_view default_listen = "127.0.0.1:12345";

std::string in_quotes(std::string_view text) {
  return '"' + std::string(text) + '"';
}

// Two spellings of one socket ("*:80" and "0.0.0.0:80") collide when bound.
bool same_socket(const ListenAddress& a, const ListenAddress& b) {
  return a.kind == b.kind && a.host == b.host && a.port == b.port && a.path == b.path;
}

// The directory in which bare plugin names are looked up, and how to name it in messages.
struct PluginDirectory {
  fs::path path;
  std::string origin;
};

class Loader {
 public:
  Loader(const std::string& file, const LoadOptions& options)
      : reader_(file),
        options_(options),
        config_dir_(fs::absolute(fs::path(file)).lexically_normal().parent_path()) {
    config_.file = file;
  }

  LoadResult load(const toml::value& root) {
    reader_.reject_unknown_keys(root, "", root_keys);
    const toml::value* server = section(root, "server", server_keys);
    const toml::value* timeouts = section(root, "timeouts", timeout_keys);
    const toml::value* log = section(root, "log", log_keys);
    const toml::value* metrics = section(root, "metrics", metrics_keys);

    read_server(server);
    read_timeouts(timeouts);
    read_log(log);
    read_metrics(metrics);
    read_plugins(TomlReader::find(root, "plugins"));

    LoadResult result;
    result.errors = reader_.take_errors();
    if (result.errors.empty()) result.config = std::move(config_);
    return result;
  }

 private:
  // The table [name], checked for unknown keys; nullptr when absent or not a table.
  const toml::value* section(const toml::value& root, std::string_view name,
                             std::span<const std::string_view> keys) {
    const toml::value* table = TomlReader::find(root, name);
    if (table == nullptr || !reader_.expect_table(*table, name)) return nullptr;
    reader_.reject_unknown_keys(*table, name, keys);
    return table;
  }

  template <typename Number>
  void read_server_integer(const toml::value* server, std::string_view key, int64_t min,
                           int64_t max, Number& out) {
    const toml::value* value = TomlReader::find(*server, key);
    if (value == nullptr) return;
    if (const auto number = reader_.integer(*value, join_key("server", key), min, max)) {
      out = static_cast<Number>(*number);
    }
  }

  std::optional<ListenAddress> listen_address(const toml::value& value, std::string_view text,
                                              std::string_view key_path) {
    std::string error;
    auto address = parse_listen_address(text, error);
    if (!address) reader_.error_at(value, std::string(key_path) + ": " + error);
    return address;
  }

  void read_server(const toml::value* server) {
    ServerSettings& settings = config_.server;
    std::string ignored;
    settings.listen = {*parse_listen_address(default_listen, ignored)};
    if (server == nullptr) {
      plugin_directory_ = bare_name_directory(std::nullopt);
      return;
    }

    if (const toml::value* listen = TomlReader::find(*server, "listen")) {
      if (const auto elements = reader_.string_array(*listen, "server.listen")) {
        settings.listen.clear();
        if (elements->empty()) {
          reader_.error_at(*listen, "server.listen: expected at least one address, e.g. [\"" +
                                        std::string(default_listen) + "\"]");
        }
        for (const auto& [text, value] : *elements) {
          auto address = listen_address(*value, text, "server.listen");
          if (!address) continue;
          const auto same = std::find_if(
              settings.listen.begin(), settings.listen.end(),
              [&](const ListenAddress& other) { return same_socket(other, *address); });
          if (same != settings.listen.end()) {
            reader_.error_at(*value, "server.listen: " + in_quotes(text) +
                                         " is the same socket as " + in_quotes(same->text) +
                                         ", listed before it");
            continue;
          }
          settings.listen.push_back(std::move(*address));
        }
      }
    }

    read_server_integer(server, "threads", 0, max_threads, settings.threads);
    read_server_integer(server, "max_frame_size", smallest_max_frame_size, largest_max_frame_size,
                        settings.max_frame_size);
    read_server_integer(server, "max_connections", 1, largest_max_connections,
                        settings.max_connections);
    read_server_integer(server, "max_inflight_per_connection", 1,
                        largest_max_inflight_per_connection, settings.max_inflight_per_connection);

    if (const toml::value* capabilities = TomlReader::find(*server, "capabilities")) {
      if (const auto elements = reader_.string_array(*capabilities, "server.capabilities")) {
        settings.capabilities.clear();
        for (const auto& [text, value] : *elements) {
          if (std::find(std::begin(known_capabilities), std::end(known_capabilities), text) ==
              std::end(known_capabilities)) {
            reader_.error_at(*value, "server.capabilities: unknown capability " + in_quotes(text) +
                                         "; expected pipelining, async or fragmentation");
          } else if (std::find(settings.capabilities.begin(), settings.capabilities.end(), text) !=
                     settings.capabilities.end()) {
            reader_.error_at(*value,
                             "server.capabilities: " + in_quotes(text) + " is listed twice");
          } else {
            settings.capabilities.push_back(text);
          }
        }
      }
    }

    std::optional<fs::path> configured_dir;
    if (const toml::value* dir = TomlReader::find(*server, "plugin_dir")) {
      if (const auto text = reader_.string(*dir, "server.plugin_dir")) {
        if (text->empty()) {
          reader_.error_at(*dir, "server.plugin_dir: expected a directory, got an empty string");
        } else {
          configured_dir = (config_dir_ / *text).lexically_normal();
          std::error_code ignored_error;
          // Only worth a message when it decides anything: --plugin-dir overrides it.
          if (!options_.plugin_dir_override && !fs::is_directory(*configured_dir, ignored_error)) {
            reader_.error_at(*dir, "server.plugin_dir: " + configured_dir->string() +
                                       " is not a directory (relative paths start from the "
                                       "config file's folder)");
          }
        }
      }
    }
    plugin_directory_ = bare_name_directory(configured_dir);
  }

  PluginDirectory bare_name_directory(const std::optional<fs::path>& configured) {
    PluginDirectory directory;
    if (options_.plugin_dir_override) {
      directory = {fs::absolute(fs::path(*options_.plugin_dir_override)).lexically_normal(),
                   "--plugin-dir"};
    } else if (configured) {
      directory = {*configured, "server.plugin_dir"};
    } else if (!options_.default_plugin_dir.empty()) {
      directory = {fs::absolute(fs::path(options_.default_plugin_dir)).lexically_normal(),
                   "the built-in plugin directory"};
    }
    config_.server.plugin_dir = directory.path.string();
    return directory;
  }

  void read_timeout(const toml::value* timeouts, std::string_view key,
                    std::chrono::milliseconds& out) {
    const toml::value* value = timeouts == nullptr ? nullptr : TomlReader::find(*timeouts, key);
    if (value == nullptr) return;
    const std::string key_path = join_key("timeouts", key);
    const auto text = reader_.string(*value, key_path);
    if (!text) return;
    std::string error;
    const auto duration = parse_duration(*text, error);
    if (!duration) {
      reader_.error_at(*value, key_path + ": " + error);
    } else if (duration->count() == 0) {
      // A zero deadline would fire before any frame could arrive; there is no "never".
      reader_.error_at(*value, key_path + ": must be longer than 0s" +
                                   (key == "idle" ? std::string(" (to keep idle connections "
                                                                "open, write a long one, "
                                                                "e.g. \"24h\")")
                                                  : std::string()));
    } else {
      out = *duration;
    }
  }

  void read_timeouts(const toml::value* timeouts) {
    read_timeout(timeouts, "hello", config_.timeouts.hello);
    read_timeout(timeouts, "idle", config_.timeouts.idle);
    read_timeout(timeouts, "processing", config_.timeouts.processing);
    read_timeout(timeouts, "write", config_.timeouts.write);
  }

  void read_log(const toml::value* log) {
    if (log == nullptr) return;
    if (const toml::value* value = TomlReader::find(*log, "level")) {
      if (const auto text = reader_.string(*value, "log.level")) {
        if (const auto level = parse_log_level(*text)) {
          config_.log.level = *level;
        } else {
          reader_.error_at(*value, "log.level: expected trace, debug, info, warn or error, got " +
                                       in_quotes(*text));
        }
      }
    }
    if (const toml::value* value = TomlReader::find(*log, "target")) {
      if (const auto text = reader_.string(*value, "log.target")) {
        if (const auto target = parse_log_target(*text)) {
          config_.log.target = *target;
        } else {
          reader_.error_at(*value,
                           "log.target: expected auto, stderr or journal, got " + in_quotes(*text));
        }
      }
    }
  }

  void read_metrics(const toml::value* metrics) {
    const toml::value* value = metrics == nullptr ? nullptr : TomlReader::find(*metrics, "listen");
    if (value == nullptr) return;
    const auto text = reader_.string(*value, "metrics.listen");
    if (!text) return;
    auto address = listen_address(*value, *text, "metrics.listen");
    if (!address) return;
    for (const ListenAddress& server_address : config_.server.listen) {
      if (same_socket(server_address, *address)) {
        reader_.error_at(
            *value, "metrics.listen: " + in_quotes(*text) + " is also a server.listen address");
        return;
      }
    }
    config_.metrics.listen = std::move(*address);
  }

  static bool is_instance_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-' || c == '.';
    });
  }

  void read_plugins(const toml::value* plugins) {
    if (plugins == nullptr || !reader_.expect_table(*plugins, "plugins")) return;

    // Instances in file order, so that "claimed twice" is reported at the later one.
    std::vector<std::pair<const std::string*, const toml::value*>> instances;
    for (const auto& [name, table] : plugins->as_table())
      instances.emplace_back(&name, &table);
    std::sort(instances.begin(), instances.end(), [](const auto& a, const auto& b) {
      return detail::first_appearance(*a.second) < detail::first_appearance(*b.second);
    });

    for (const auto& [name, table] : instances) {
      const std::string key_path = join_key("plugins", *name);
      if (!table->is_table()) {
        reader_.error(reader_.key_location(*table, *name), key_path + ": expected a table [" +
                                                               key_path + "], got " +
                                                               detail::describe_type(*table));
        continue;
      }
      if (!is_instance_name(*name)) {
        reader_.error(reader_.location_of(*table),
                      key_path +
                          ": an instance name may hold only letters, digits, '_', '-' "
                          "and '.'");
      }
      reader_.reject_unknown_keys(*table, key_path, plugin_keys);
      config_.plugins.push_back(read_plugin(*name, *table, key_path));
    }
  }

  PluginSettings read_plugin(const std::string& name, const toml::value& table,
                             const std::string& key_path) {
    PluginSettings plugin;
    plugin.instance = name;
    plugin.location = reader_.location_of(table);

    if (const toml::value* path = TomlReader::find(table, "path")) {
      plugin.path_location = reader_.location_of(*path);
      if (const auto text = reader_.string(*path, key_path + ".path")) {
        plugin.path = resolve_plugin_path(*text, *path, key_path + ".path");
      }
    } else {
      reader_.error(plugin.location, key_path +
                                         ".path: missing; expected the plugin's .so file, e.g. "
                                         "path = \"echo.so\"");
    }

    if (const toml::value* messages = TomlReader::find(table, "messages")) {
      read_messages(*messages, key_path + ".messages", plugin);
    } else {
      reader_.error(plugin.location, key_path +
                                         ".messages: missing; expected the SPOE messages this "
                                         "instance answers, e.g. messages = [\"echo\"]");
    }

    if (const toml::value* settings = TomlReader::find(table, "config")) {
      if (reader_.expect_table(*settings, key_path + ".config")) {
        plugin.settings = detail::flatten_plugin_config(*settings, key_path + ".config", reader_);
        plugin.tree = detail::plugin_config_tree(*settings);
      }
    }
    read_execution(table, key_path, plugin);
    return plugin;
  }

  void read_messages(const toml::value& messages, const std::string& key_path,
                     PluginSettings& plugin) {
    const auto elements = reader_.string_array(messages, key_path);
    if (!elements) return;
    if (elements->empty()) {
      reader_.error_at(messages, key_path + ": expected at least one SPOE message name");
    }
    for (const auto& [message, value] : *elements) {
      if (message.empty()) {
        reader_.error_at(*value, key_path + ": a message name cannot be empty");
        continue;
      }
      const auto [claim, inserted] =
          claims_.emplace(message, Claim{plugin.instance, reader_.location_of(*value).line});
      if (inserted) {
        plugin.messages.push_back(message);
      } else if (claim->second.instance == plugin.instance) {
        reader_.error_at(*value, key_path + ": " + in_quotes(message) + " is listed twice");
      } else {
        reader_.error_at(*value, key_path + ": message " + in_quotes(message) +
                                     " is already claimed by plugin instance " +
                                     in_quotes(claim->second.instance) + " (line " +
                                     std::to_string(claim->second.line) +
                                     "); a message goes to exactly one instance");
      }
    }
  }

  // execution = "inline" | "pool", pool_threads, pool_queue (design.md: public names).
  void read_execution(const toml::value& table, const std::string& key_path,
                      PluginSettings& plugin) {
    const toml::value* execution = TomlReader::find(table, "execution");
    if (execution != nullptr) {
      if (const auto text = reader_.string(*execution, key_path + ".execution")) {
        if (*text == "inline") {
          plugin.execution = Execution::inline_io;
        } else if (*text == "pool") {
          plugin.execution = Execution::pool;
        } else {
          reader_.error_at(*execution, key_path +
                                           ".execution: expected \"inline\" or \"pool\", "
                                           "got \"" +
                                           *text + "\"");
        }
      }
    }
    for (const std::string_view key : {"pool_threads", "pool_queue"}) {
      const toml::value* value = TomlReader::find(table, key);
      if (value == nullptr) continue;
      const std::string path = join_key(key_path, key);
      if (plugin.execution != Execution::pool) {
        reader_.error_at(*value, path + ": only meaningful with execution = \"pool\"");
        continue;
      }
      const bool threads = key == "pool_threads";
      const auto number = reader_.integer(
          *value, path, 1, threads ? int64_t{max_pool_threads} : int64_t{max_pool_queue});
      if (!number) continue;
      if (threads) {
        plugin.pool_threads = static_cast<unsigned>(*number);
      } else {
        plugin.pool_queue = static_cast<uint32_t>(*number);
      }
    }
  }

  std::string resolve_plugin_path(const std::string& text, const toml::value& value,
                                  const std::string& key_path) {
    if (text.empty()) {
      reader_.error_at(value, key_path + ": expected the plugin's .so file, got an empty string");
      return {};
    }
    const bool bare_name = text.find('/') == std::string::npos;
    fs::path path;
    if (bare_name) {
      if (plugin_directory_.path.empty()) {
        reader_.error_at(value, key_path + ": " + in_quotes(text) +
                                    " is a bare name but no plugin directory is known; set "
                                    "server.plugin_dir or write a path containing '/'");
        return {};
      }
      path = plugin_directory_.path / text;
    } else {
      path = (config_dir_ / text).lexically_normal();  // an absolute `text` replaces config_dir_
    }

    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (status.type() == fs::file_type::not_found) {
      if (bare_name) {
        reader_.error_at(value, key_path + ": " + in_quotes(text) + " not found in " +
                                    plugin_directory_.path.string() + " (" +
                                    plugin_directory_.origin + ")");
      } else {
        reader_.error_at(value, key_path + ": " + path.string() + " does not exist" +
                                    (fs::path(text).is_relative()
                                         ? std::string(" (relative paths start from the config "
                                                       "file's folder)")
                                         : std::string()));
      }
    } else if (error) {
      reader_.error_at(value,
                       key_path + ": cannot access " + path.string() + ": " + error.message());
    } else if (status.type() == fs::file_type::directory) {
      reader_.error_at(value, key_path + ": " + path.string() +
                                  " is a directory; expected the plugin's .so file");
    }
    return path.string();
  }

  struct Claim {
    std::string instance;
    size_t line;
  };

  TomlReader reader_;
  const LoadOptions& options_;
  fs::path config_dir_;
  Config config_;
  PluginDirectory plugin_directory_;
  std::map<std::string, Claim> claims_;
};

LoadResult single_error(const std::string& file, size_t line, size_t column, std::string message) {
  LoadResult result;
  result.errors.push_back(Diagnostic{Location{file, line, column}, std::move(message)});
  return result;
}

}  // namespace

LoadResult load_config(const std::string& file, const LoadOptions& options) {
  std::error_code error;
  if (fs::is_directory(file, error)) {
    return single_error(file, 0, 0, "is a directory; expected a TOML config file");
  }
  std::ifstream stream(file, std::ios::binary);
  if (!stream) return single_error(file, 0, 0, std::string("cannot open: ") + std::strerror(errno));

  toml::value root;
  try {
    root = toml::parse(stream, file);
  } catch (const toml::syntax_error& syntax_error) {
    return LoadResult{std::nullopt, {detail::diagnostic_from_syntax_error(syntax_error, file)}};
  } catch (const toml::exception& toml_error) {
    return single_error(file, toml_error.location().line(), toml_error.location().column(),
                        toml_error.what());
  } catch (const std::exception& other) {
    return single_error(file, 0, 0, std::string("cannot read: ") + other.what());
  }
  return Loader(file, options).load(root);
}

std::optional<PluginConfigText> parse_plugin_config(const std::string& text,
                                                    const std::string& file,
                                                    std::vector<Diagnostic>& errors) {
  std::istringstream stream(text);
  toml::value root;
  try {
    root = toml::parse(stream, file);
  } catch (const toml::syntax_error& syntax_error) {
    errors.push_back(detail::diagnostic_from_syntax_error(syntax_error, file));
    return std::nullopt;
  } catch (const std::exception& other) {
    errors.push_back({{file, 0, 0}, other.what()});
    return std::nullopt;
  }
  detail::TomlReader reader(file);
  PluginConfigText result;
  result.flat = detail::flatten_plugin_config(root, "config", reader);
  result.tree = detail::plugin_config_tree(root);
  for (auto& diagnostic : reader.take_errors())
    errors.push_back(std::move(diagnostic));
  if (!errors.empty()) return std::nullopt;
  return result;
}

}  // namespace spoa::config
