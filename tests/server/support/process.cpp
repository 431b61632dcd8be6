#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <system_error>
#include <thread>

extern char** environ;

namespace spoa::test {
namespace {

using namespace std::chrono_literals;

constexpr auto poll_interval = 5ms;

std::string env_name(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

std::vector<std::string> child_environment(const std::vector<std::string>& overrides) {
  std::vector<std::string> result;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const std::string name = env_name(text);
    if (name == "JOURNAL_STREAM") continue;
    bool overridden = false;
    for (const auto& o : overrides)
      overridden = overridden || env_name(o) == name;
    if (!overridden) result.push_back(text);
  }
  result.insert(result.end(), overrides.begin(), overrides.end());
  return result;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& s : strings)
    result.push_back(s.data());
  result.push_back(nullptr);
  return result;
}

}  // namespace

Process::Process(const std::string& program, const std::vector<std::string>& args,
                 const ProcessOptions& options) {
  std::vector<std::string> argv_strings{program};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<std::string> env_strings = child_environment(options.env);
  std::vector<char*> argv = pointers(argv_strings);
  std::vector<char*> envp = pointers(env_strings);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  const std::string out = output_.file("stdout");
  const std::string err = output_.file("stderr");
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  // glibc clears FD_CLOEXEC when both fds are the same, so {3, 3} hands fd 3 down as is.
  for (const auto& [from, to] : options.fds)
    posix_spawn_file_actions_adddup2(&actions, from, to);

  // The test binary may ignore or block signals (gtest does not, but a runner might); the
  // child must start with the defaults, or SIGTERM tests would test nothing.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigfillset(&defaults);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  const int result =
      posix_spawn(&pid_, program.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (result != 0) {
    throw std::system_error(result, std::generic_category(), "posix_spawn " + program);
  }
}

Process::~Process() {
  if (!status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void Process::send_signal(int number) const {
  if (!status_) ::kill(pid_, number);
}

bool Process::poll_exit() {
  if (status_) return true;
  int status = 0;
  const pid_t result = ::waitpid(pid_, &status, WNOHANG);
  if (result != pid_) return false;
  status_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return true;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!poll_exit()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(poll_interval);
  }
  return status_;
}

std::string Process::stdout_text() const {
  return read_file(output_.file("stdout"));
}
std::string Process::stderr_text() const {
  return read_file(output_.file("stderr"));
}

std::optional<std::vector<std::string>> Process::wait_for_stderr(
    const std::regex& pattern, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    // Checked once more after the child ended: its last words are in the file by then.
    const bool ended = poll_exit();
    const std::string text = stderr_text();
    std::smatch match;
    if (std::regex_search(text, match, pattern)) {
      return std::vector<std::string>(match.begin(), match.end());
    }
    if (ended || std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(poll_interval);
  }
}

RunResult run(const std::string& program, const std::vector<std::string>& args,
              std::chrono::milliseconds timeout) {
  Process process(program, args);
  RunResult result;
  result.status = process.wait(timeout);
  if (!result.status) {
    process.send_signal(SIGKILL);
    process.wait(5s);
  }
  result.out = process.stdout_text();
  result.err = process.stderr_text();
  return result;
}

}  // namespace spoa::test
