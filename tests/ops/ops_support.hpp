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

// A loopback TCP port held for as long as this object lives, "127.0.0.1:PORT". The socket
// is bound to port 0 with SO_REUSEADDR and never listens: the kernel hands this port to no
// other port-0 bind() meanwhile and refuses it to a bind() without SO_REUSEADDR, while a
// server under test (spoa-host, systemd-socket-activate: both set SO_REUSEADDR) can bind
// and listen on it. Unlike "bind port 0, read it, close, hand it on", no other test can
// take the port between the pick and the use. Connects are refused until a server listens.
class ReservedPort {
 public:
  ReservedPort();
  ~ReservedPort();
  ReservedPort(const ReservedPort&) = delete;
  ReservedPort& operator=(const ReservedPort&) = delete;
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string address_;
};

// Writes `content` to PATH.new, then rename()s it over `path`: a reader sees the old file or
// the new one, never half of one (as editors and config management do).
void write_atomically(const std::string& path, const std::string& content);

// Copies `source` to DESTINATION.new, then rename()s it over `destination`, as dpkg
// replaces a file: the old inode stays intact for whoever has it mapped.
void install_file(const std::string& source, const std::string& destination);

// The sanitizer runtime options of this process ("ASAN_OPTIONS=...", ...), for children
// whose environment is rebuilt from scratch (systemd-socket-activate passes only -E ones).
std::vector<std::string> sanitizer_environment();

// "127.0.0.1:41234" -> a listener takes the connection right now. A refused connect fails
// at once; the bound only matters for a listener that never answers.
bool accepts_connections(const std::string& address);

}  // namespace spoa::ops
