#pragma once
// Small helpers shared by the ops tests (systemd notify, socket activation, reload).
#include <chrono>
#include <string>
#include <vector>

namespace spoa::ops {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Generous: sanitizer builds start slowly on a loaded 2-CPU machine. Waits return as soon as
// the event happens, so this only bounds a failure.
inline constexpr std::chrono::milliseconds startup_timeout = 30s;

// A loopback TCP port nobody listens on right now ("127.0.0.1:PORT"): bound to port 0,
// read back and closed again.
std::string free_loopback_address();

// Writes `content` to PATH.new, then rename()s it over `path`: a reader sees the old file or
// the new one, never half of one (as editors and config management do).
void write_atomically(const std::string& path, const std::string& content);

// Copies `source` to DESTINATION.new, then rename()s it over `destination`, as dpkg
// replaces a file: the old inode stays intact for whoever has it mapped.
void install_file(const std::string& source, const std::string& destination);

// The sanitizer runtime options of this process ("ASAN_OPTIONS=...", ...), for children
// whose environment is rebuilt from scratch (systemd-socket-activate passes only -E ones).
std::vector<std::string> sanitizer_environment();

// "127.0.0.1:41234" -> connect works right now (a TCP connect within 1 s).
bool accepts_connections(const std::string& address);

}  // namespace spoa::ops
