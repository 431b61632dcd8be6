#pragma once
// spoa-bench command line. `spoa-bench --help` prints the full list.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "spop/types.hpp"
#include "spop/value.hpp"

namespace bench {

enum class Mode {
  notify,       // the load: NOTIFY -> ACK on every connection
  healthcheck,  // connect, HELLO with healthcheck=true, AGENT-HELLO, reset; again
  idle,         // open the connections, HELLO, hold them open without traffic
  serve,        // be the agent: answer every NOTIFY with one precomputed ACK
};

enum class Verify { echo, any };

// One --arg NAME=TYPE:VALUE. `bytes` owns the data that `value` views.
struct ArgSpec {
  std::string name;
  std::string spec;  // as written after '=' (reports)
  spop::DataType type = spop::DataType::null;
  uint64_t integer = 0;
  std::string bytes;

  spop::Value value() const noexcept { return {type, integer, bytes}; }
};

struct Options {
  Mode mode = Mode::notify;
  std::string address = "127.0.0.1:12345";  // --connect, or --serve's listen address
  unsigned connections = 1;
  unsigned inflight = 1;
  unsigned threads = 1;
  // Measured window: a duration, or a count of NOTIFYs (health checks in that mode).
  double duration_s = 10.0;
  uint64_t count = 0;  // 0: duration mode
  bool duration_given = false;
  double warmup_s = 1.0;
  double timeout_s = 2.0;  // per NOTIFY (send -> ACK) and per handshake step
  std::string message = "echo";
  std::vector<ArgSpec> args;
  Verify verify = Verify::echo;
  spop::Scope scope = spop::Scope::txn;  // echo's variable scope; --serve's too
  uint32_t max_frame_size = spop::default_max_frame_size;
  std::string capabilities = "pipelining,async";  // HAPROXY-HELLO, as HAProxy 2.x sends
  int agent_pid = 0;
  bool json = false;
  std::string label;             // copied into the JSON line, for scripts
  std::string ready_file;        // --idle: written once every connection is up
  unsigned max_connecting = 64;  // connects in progress at once, per thread
};

// Parses argv. On --help prints usage and exits 0; on a bad command line prints why and
// exits 2.
Options parse_options(int argc, char** argv);

std::string describe(const ArgSpec& arg);

}  // namespace bench
