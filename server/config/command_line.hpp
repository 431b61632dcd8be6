#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/settings.hpp"

namespace spoa::config {

// The argument types --test accepts, as SPOP names them (spop.md §3).
inline constexpr std::string_view test_arg_types[] = {
    "null", "bool", "int32", "uint32", "int64", "uint64", "ipv4", "ipv6", "string", "binary"};

// One positional argument after --test MESSAGE, written NAME=TYPE:VALUE. NAME may be empty
// (an unnamed argument: "=string:x"); TYPE is one of test_arg_types; VALUE is everything
// after the first ':' and is checked by the test mode, which knows each type's syntax.
// "NAME=null" may omit the ':'.
struct TestArg {
  std::string name;
  std::string type;
  std::string value;

  friend bool operator==(const TestArg&, const TestArg&) = default;
};

struct CommandLine {
  std::string config_file = "/etc/spoa-host/spoa-host.toml";
  bool check_config = false;
  bool show_version = false;
  bool show_help = false;
  // --listen, repeatable; replaces server.listen as a whole.
  std::vector<std::string> listen;
  std::optional<unsigned> threads;
  std::optional<std::string> log_level;
  // --plugin-dir: hand it to LoadOptions::plugin_dir_override; apply_overrides ignores it.
  std::optional<std::string> plugin_dir;
  // --test MESSAGE and the NAME=TYPE:VALUE arguments that follow it.
  std::optional<std::string> test_message;
  std::vector<TestArg> test_args;
  // The --help text, set even when parsing fails so that it can follow the error.
  std::string help_text;
};

struct CommandLineResult {
  // Set if and only if `error` is empty.
  std::optional<CommandLine> command_line;
  // One line naming the option and what was expected.
  std::string error;
  // The --help text, also when parsing fails.
  std::string help_text;
};

// Parses argv (argv[0] is the program name). Checks every value it can without the config
// file: --threads is a number in range, --log-level a known level, --listen an address,
// test arguments well formed. Unknown options and abbreviations of known ones are errors,
// so that a script's flags mean the same thing in every release.
CommandLineResult parse_command_line(int argc, const char* const argv[]);

// Puts --listen, --threads and --log-level onto a loaded config, after checking them again
// (a CommandLine may be built by hand). Returns one message per bad flag, naming it, and
// then leaves `config` untouched.
std::vector<std::string> apply_overrides(const CommandLine& command_line, Config& config);

}  // namespace spoa::config
