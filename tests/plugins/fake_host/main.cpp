// spoa-fake-host: loads one plugin into the fake host and answers one message, printing
// the actions the way `spoa-host --test` does. Lets a shell or CMake script check a built
// .so without a server:
//
//   spoa-fake-host --plugin ./example-c.so [--messages a,b] [--config key=value]...
//                  [--timeout-ms N] --test MESSAGE [name=type:value]...
//
// --messages is the instance's `messages` list, what the table's claimed_messages()
// answers (default: MESSAGE alone).
// stdout: one line per action (`set-var txn.greeting string "hello"`), then
// `result done|failed`. Plugin log lines go to stderr. Exit status: 0 done, 1 failed,
// 2 usage, load or init error, 3 no complete() within the timeout.
#include "fake_host.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

namespace {

int usage(const std::string& why) {
  std::cerr << "spoa-fake-host: " << why << "\n"
            << "usage: spoa-fake-host --plugin FILE [--messages a,b] [--config key=value]...\n"
            << "                      [--timeout-ms N] --test MESSAGE [name=type:value]...\n";
  return 2;
}

std::vector<std::string> split_commas(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const size_t comma = s.find(',');
    if (comma != 0) out.emplace_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using spoa::testing::FakeHost;
  std::string plugin;
  std::string message;
  std::vector<std::string> claimed;
  std::vector<std::pair<std::string, std::string>> config;
  std::vector<spoa::testing::TestArg> args;
  long timeout_ms = 5000;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string_view a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(std::string(a) + " needs a value");
        return argv[++i];
      };
      if (a == "--plugin") {
        plugin = value();
      } else if (a == "--messages") {
        claimed = split_commas(value());
      } else if (a == "--config") {
        const std::string kv = value();
        const size_t eq = kv.find('=');
        if (eq == std::string::npos) throw std::invalid_argument("--config takes key=value");
        config.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
      } else if (a == "--timeout-ms") {
        timeout_ms = std::stol(value());
      } else if (a == "--test") {
        message = value();
        for (++i; i < argc; ++i)
          args.push_back(spoa::testing::parse_test_arg(argv[i]));
      } else {
        throw std::invalid_argument("unknown option " + std::string(a));
      }
    }
  } catch (const std::exception& e) {
    return usage(e.what());
  }
  if (plugin.empty() || message.empty()) return usage("--plugin and --test are required");
  if (claimed.empty()) claimed.push_back(message);

  FakeHost::set_verbose(true);
  FakeHost host;
  try {
    host.load(plugin);
  } catch (const std::exception& e) {
    std::cerr << "spoa-fake-host: " << e.what() << "\n";
    return 2;
  }
  if (const auto error = host.init(config, claimed)) {
    std::cerr << "spoa-fake-host: " << plugin << ": init failed: " << *error << "\n";
    return 2;
  }
  if (!host.registered(message)) {
    std::cerr << "spoa-fake-host: the plugin did not register message '" << message << "'\n";
    return 2;
  }
  const uint64_t id = host.call(message, args);
  const bool finished = host.wait_finished(id, std::chrono::milliseconds(timeout_ms));
  const spoa::testing::RequestRecord r = host.request(id);
  host.shutdown();
  const bool done = finished && r.outcome() == SPOA_DONE;
  // A failed message contributes no actions to the ACK.
  for (const auto& action : r.actions)
    (done ? std::cout : std::cerr) << action.to_string() << "\n";
  if (!finished) {
    std::cout << "result timeout\n";
    return 3;
  }
  std::cout << "result " << (done ? "done" : "failed") << "\n";
  const auto violations = host.violations();
  for (const auto& v : violations)
    std::cerr << "spoa-fake-host: plugin broke a rule: " << v << "\n";
  return done && violations.empty() ? 0 : 1;
}
