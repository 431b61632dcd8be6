#include "config/command_line.hpp"

#include <algorithm>
#include <boost/program_options.hpp>
#include <charconv>
#include <sstream>

#include "config/listen_address.hpp"
#include "config/log_level.hpp"

namespace spoa::config {
namespace {

namespace po = boost::program_options;

std::string in_quotes(std::string_view text) {
  return '"' + std::string(text) + '"';
}

std::string known_test_types() {
  std::string list;
  for (const std::string_view type : test_arg_types) {
    if (!list.empty()) list += ", ";
    list += type;
  }
  return list;
}

std::optional<unsigned> parse_threads(std::string_view text, std::string& error) {
  unsigned value = 0;
  const auto [end, code] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || code != std::errc() || end != text.data() + text.size() ||
      value > max_threads) {
    error = "--threads: expected a number from 0 to " + std::to_string(max_threads) +
            " (0 = one per CPU), got " + in_quotes(text);
    return std::nullopt;
  }
  return value;
}

std::string check_threads(unsigned threads) {
  if (threads <= max_threads) return {};
  return "--threads: expected a number from 0 to " + std::to_string(max_threads) +
         " (0 = one per CPU), got " + std::to_string(threads);
}

std::string check_log_level(std::string_view text) {
  if (parse_log_level(text)) return {};
  return "--log-level: expected trace, debug, info, warn or error, got " + in_quotes(text);
}

std::string check_listen(std::string_view text, std::optional<ListenAddress>* out = nullptr) {
  std::string error;
  auto address = parse_listen_address(text, error);
  if (!address) return "--listen: " + error;
  if (out != nullptr) *out = std::move(address);
  return {};
}

std::optional<TestArg> parse_test_arg(std::string_view text, std::string& error) {
  const std::string expected =
      "--test: expected arguments as NAME=TYPE:VALUE (e.g. ip=ipv4:192.0.2.1, or "
      "=string:x for an unnamed one), got " +
      in_quotes(text);
  const size_t equals = text.find('=');
  if (equals == std::string_view::npos) {
    error = expected;
    return std::nullopt;
  }
  TestArg arg;
  arg.name = std::string(text.substr(0, equals));
  const std::string_view rest = text.substr(equals + 1);
  const size_t colon = rest.find(':');
  arg.type = std::string(rest.substr(0, colon));
  if (colon != std::string_view::npos) arg.value = std::string(rest.substr(colon + 1));
  const bool known = std::find(std::begin(test_arg_types), std::end(test_arg_types), arg.type) !=
                     std::end(test_arg_types);
  if (!known) {
    error = arg.type.empty() ? expected
                             : "--test: unknown type " + in_quotes(arg.type) + " in " +
                                   in_quotes(text) + "; expected one of " + known_test_types();
    return std::nullopt;
  }
  // null carries no value, so "NAME=null" is complete as it is.
  if (colon == std::string_view::npos && arg.type != "null") {
    error = expected;
    return std::nullopt;
  }
  return arg;
}

std::string usage(const po::options_description& options) {
  std::ostringstream text;
  text << "Usage: spoa-host [OPTIONS]\n"
          "       spoa-host [OPTIONS] --test MESSAGE [NAME=TYPE:VALUE ...]\n"
          "\n"
          "HAProxy SPOE agent: answers the messages of HAProxy's SPOE filter with the\n"
          "plugins its TOML config maps them to.\n"
          "\n"
       << options << "\n"
       << "--test sends one NOTIFY carrying MESSAGE to its plugin and prints the actions.\n"
          "Each argument is NAME=TYPE:VALUE, where TYPE is one of\n  "
       << known_test_types() << "\nand an empty NAME makes an unnamed argument (=string:x).\n";
  return text.str();
}

}  // namespace

CommandLineResult parse_command_line(int argc, const char* const argv[]) {
  CommandLine command_line;
  po::options_description visible("Options");
  // Values are read as strings and checked here, so that errors name the flag and say what
  // was expected (Boost's cast would also accept "-1" as an unsigned and wrap it).
  // One option per line reads like the --help it produces.
  // clang-format off
  visible.add_options()
      ("config,c", po::value<std::string>()->value_name("FILE"),
       "config file (default /etc/spoa-host/spoa-host.toml)")
      ("check-config", po::bool_switch(&command_line.check_config),
       "check the config, load and initialise every plugin, print \"configuration OK\" or "
       "each problem as FILE:LINE:COL: message, and exit")
      ("listen", po::value<std::vector<std::string>>()->value_name("ADDR"),
       "listen on HOST:PORT, [IPV6]:PORT or unix:/path instead of server.listen (repeatable)")
      ("threads", po::value<std::string>()->value_name("N"),
       "I/O threads instead of server.threads (0 = one per CPU)")
      ("log-level", po::value<std::string>()->value_name("LEVEL"),
       "trace, debug, info, warn or error, instead of log.level")
      ("plugin-dir", po::value<std::string>()->value_name("DIR"),
       "directory for bare plugin names instead of server.plugin_dir")
      ("test", po::value<std::string>()->value_name("MESSAGE"),
       "send MESSAGE with the arguments that follow to its plugin, print the result, exit")
      ("version", po::bool_switch(&command_line.show_version), "print the version and exit")
      ("help,h", po::bool_switch(&command_line.show_help), "print this help and exit");
  // clang-format on
  po::options_description hidden;
  hidden.add_options()("test-arg", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(visible).add(hidden);
  po::positional_options_description positional;
  positional.add("test-arg", -1);

  CommandLineResult result;
  result.help_text = usage(visible);
  command_line.help_text = result.help_text;

  po::variables_map values;
  try {
    po::store(
        po::command_line_parser(argc, argv)
            .options(all)
            .positional(positional)
            // Abbreviations (--check for --check-config) would make every new option
            // a possible break of somebody's script.
            .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
            .run(),
        values);
    po::notify(values);
  } catch (const po::error& error) {
    result.error = error.what();
    return result;
  }

  if (values.count("config")) command_line.config_file = values["config"].as<std::string>();
  if (values.count("listen")) {
    command_line.listen = values["listen"].as<std::vector<std::string>>();
    for (const std::string& text : command_line.listen) {
      if (std::string error = check_listen(text); !error.empty()) {
        result.error = std::move(error);
        return result;
      }
    }
  }
  if (values.count("threads")) {
    command_line.threads = parse_threads(values["threads"].as<std::string>(), result.error);
    if (!command_line.threads) return result;
  }
  if (values.count("log-level")) {
    command_line.log_level = values["log-level"].as<std::string>();
    if (result.error = check_log_level(*command_line.log_level); !result.error.empty()) {
      return result;
    }
  }
  if (values.count("plugin-dir")) {
    command_line.plugin_dir = values["plugin-dir"].as<std::string>();
    if (command_line.plugin_dir->empty()) {
      result.error = "--plugin-dir: expected a directory, got an empty string";
      return result;
    }
  }
  if (values.count("test")) {
    command_line.test_message = values["test"].as<std::string>();
    if (command_line.test_message->empty()) {
      result.error = "--test: expected a message name, got an empty string";
      return result;
    }
  }
  if (values.count("test-arg")) {
    const auto& texts = values["test-arg"].as<std::vector<std::string>>();
    if (!command_line.test_message) {
      result.error = "unexpected argument " + in_quotes(texts.front()) +
                     "; NAME=TYPE:VALUE arguments follow --test MESSAGE";
      return result;
    }
    for (const std::string& text : texts) {
      auto arg = parse_test_arg(text, result.error);
      if (!arg) return result;
      command_line.test_args.push_back(std::move(*arg));
    }
  }
  result.command_line = std::move(command_line);
  return result;
}

std::vector<std::string> apply_overrides(const CommandLine& command_line, Config& config) {
  std::vector<std::string> errors;
  std::vector<ListenAddress> listen;
  for (const std::string& text : command_line.listen) {
    std::optional<ListenAddress> address;
    if (std::string error = check_listen(text, &address); !error.empty()) {
      errors.push_back(std::move(error));
    } else {
      listen.push_back(std::move(*address));
    }
  }
  if (command_line.threads) {
    if (std::string error = check_threads(*command_line.threads); !error.empty()) {
      errors.push_back(std::move(error));
    }
  }
  std::optional<LogLevel> level;
  if (command_line.log_level) {
    level = parse_log_level(*command_line.log_level);
    if (!level) errors.push_back(check_log_level(*command_line.log_level));
  }
  if (!errors.empty()) return errors;

  if (!listen.empty()) config.server.listen = std::move(listen);
  if (command_line.threads) config.server.threads = *command_line.threads;
  if (level) config.log.level = *level;
  return errors;
}

}  // namespace spoa::config
