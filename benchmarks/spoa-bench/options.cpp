#include "options.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace bench {

namespace {

const char* const usage_text = R"(usage: spoa-bench [options]

Load generator for SPOP agents (HAProxy SPOE), built on spoa-host's codec.

Target and shape
  --connect ADDR          agent address: HOST:PORT, [IPV6]:PORT or unix:/path
                          (default 127.0.0.1:12345)
  --connections N         connections (default 1)
  --inflight P            NOTIFYs in flight per connection (default 1; P > 1 needs the
                          agent to announce pipelining)
  --threads T             client threads, each owning its connections (default 1)
  --duration D            measured window, e.g. 10s, 500ms, 2m (default 10s)
  --count N               measure N NOTIFYs (or N health checks) instead of a duration
  --warmup D              traffic before the window, not measured (default 1s)
  --timeout D             longest wait for an ACK / a handshake step (default 2s)

Workload
  --message NAME          SPOE message name (default echo)
  --arg NAME=TYPE:VALUE   a message argument, repeatable, in order. TYPE is one of
                          ipv4 ipv6 string binary-hex string-size binary-size int32
                          uint32 int64 uint64 bool null; *-size:N makes N bytes.
                          Default: --arg ip=ipv4:10.0.0.1 --arg path=string:/index.html
  --verify echo|any       echo (default): every named argument must come back as a
                          SET-VAR of the same name, type and value in --scope;
                          any: the ACK only has to decode
  --scope S               variable scope for --verify echo and --serve: proc sess txn
                          req res (default txn)
  --max-frame-size N      max-frame-size sent in the HAPROXY-HELLO (default 16380)
  --capabilities LIST     capabilities sent in the HAPROXY-HELLO (default
                          "pipelining,async", HAProxy 2.x's)

Modes (default: NOTIFY load)
  --healthcheck           each connection loops: connect, HELLO healthcheck=true,
                          AGENT-HELLO, reset; measures checks/s and connect->HELLO time
  --idle                  open --connections, HELLO, hold them --duration without
                          traffic, then DISCONNECT (memory checks)
  --ready-file PATH       --idle: create PATH once every connection is up
  --serve ADDR            be an agent on ADDR answering every NOTIFY with a fixed ACK
                          (a SET-VAR in --scope per named --arg); runs until SIGINT/
                          SIGTERM, or --duration if given; --threads event loops

Output
  --agent-pid PID         also report the agent's CPU time per frame (/proc/PID/stat,
                          measured window only)
  --json                  one JSON line on stdout instead of the table
  --label TEXT            copied into the JSON line
  -h, --help              this text

Exit status: 0 when every NOTIFY got a valid ACK; 1 on any error (connect failure,
DISCONNECT from the agent, bad or unknown ACK, timeout); 2 on a bad command line.
)";

[[noreturn]] void bad(const std::string& why) {
  std::fprintf(stderr, "spoa-bench: %s (see --help)\n", why.c_str());
  std::exit(2);
}

template <typename T>
T parse_number(std::string_view text, const char* what) {
  T v{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size())
    bad(std::string(what) + ": not a number: '" + std::string(text) + "'");
  return v;
}

// "10s", "500ms", "2m", "250us", "1h"; a bare number is seconds.
double parse_duration(std::string_view text, const char* what) {
  struct Unit {
    std::string_view suffix;
    double seconds;
  };
  static constexpr Unit units[] = {
      {"ms", 1e-3}, {"us", 1e-6}, {"s", 1.0}, {"m", 60.0}, {"h", 3600.0}};
  for (const Unit& u : units) {
    if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
      const std::string_view number = text.substr(0, text.size() - u.suffix.size());
      if (number.find_first_not_of("0123456789.") != std::string_view::npos) continue;
      return std::strtod(std::string(number).c_str(), nullptr) * u.seconds;
    }
  }
  if (text.empty() || text.find_first_not_of("0123456789.") != std::string_view::npos)
    bad(std::string(what) + ": not a duration: '" + std::string(text) + "'");
  return std::strtod(std::string(text).c_str(), nullptr);
}

// Deterministic filler, shaped like header text for strings and like anything for binary.
std::string filler(size_t n, bool text) {
  std::string s(n, '\0');
  uint32_t x = 2463534242u;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = text ? static_cast<char>('a' + x % 26) : static_cast<char>(x & 0xFF);
  }
  return s;
}

uint8_t parse_hex_byte(std::string_view two) {
  unsigned v = 0;
  const auto [end, ec] = std::from_chars(two.data(), two.data() + two.size(), v, 16);
  if (ec != std::errc{} || end != two.data() + two.size())
    bad("bad hex byte '" + std::string(two) + "'");
  return static_cast<uint8_t>(v);
}

ArgSpec parse_arg(std::string_view text) {
  ArgSpec a;
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos)
    bad("--arg wants NAME=TYPE:VALUE, got '" + std::string(text) + "'");
  a.name = std::string(text.substr(0, eq));
  a.spec = std::string(text.substr(eq + 1));
  const std::string_view spec = text.substr(eq + 1);
  const size_t colon = spec.find(':');
  const std::string_view type = spec.substr(0, colon);
  const std::string_view value =
      colon == std::string_view::npos ? std::string_view{} : spec.substr(colon + 1);
  using spop::DataType;
  if (type == "null") {
    a.type = DataType::null;
  } else if (type == "bool") {
    a.type = DataType::boolean;
    if (value != "true" && value != "false") bad("--arg " + a.name + ": bool is true or false");
    a.integer = value == "true" ? 1 : 0;
  } else if (type == "int32" || type == "int64") {
    a.type = type == "int32" ? DataType::int32 : DataType::int64;
    a.integer = static_cast<uint64_t>(parse_number<int64_t>(value, "--arg"));
  } else if (type == "uint32" || type == "uint64") {
    a.type = type == "uint32" ? DataType::uint32 : DataType::uint64;
    a.integer = parse_number<uint64_t>(value, "--arg");
  } else if (type == "ipv4" || type == "ipv6") {
    const bool v4 = type == "ipv4";
    a.type = v4 ? DataType::ipv4 : DataType::ipv6;
    unsigned char buf[16];
    if (inet_pton(v4 ? AF_INET : AF_INET6, std::string(value).c_str(), buf) != 1)
      bad("--arg " + a.name + ": bad address '" + std::string(value) + "'");
    a.bytes.assign(reinterpret_cast<const char*>(buf), v4 ? 4 : 16);
  } else if (type == "string") {
    a.type = DataType::string;
    a.bytes = std::string(value);
  } else if (type == "binary-hex") {
    a.type = DataType::binary;
    if (value.size() % 2 != 0) bad("--arg " + a.name + ": odd number of hex digits");
    for (size_t i = 0; i < value.size(); i += 2)
      a.bytes.push_back(static_cast<char>(parse_hex_byte(value.substr(i, 2))));
  } else if (type == "string-size" || type == "binary-size") {
    a.type = type == "string-size" ? DataType::string : DataType::binary;
    a.bytes = filler(parse_number<size_t>(value, "--arg size"), a.type == DataType::string);
  } else {
    bad("--arg " + a.name + ": unknown type '" + std::string(type) + "'");
  }
  return a;
}

}  // namespace

std::string describe(const ArgSpec& arg) {
  return arg.name + "=" + arg.spec;
}

Options parse_options(int argc, char** argv) {
  Options o;
  bool serve = false;
  bool healthcheck = false;
  bool idle = false;
  std::string verify = "echo";
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) bad(std::string(flag) + " needs a value");
      return argv[++i];
    };
    if (flag == "-h" || flag == "--help") {
      std::fputs(usage_text, stdout);
      std::exit(0);
    } else if (flag == "--connect") {
      o.address = std::string(value());
    } else if (flag == "--serve") {
      o.address = std::string(value());
      serve = true;
    } else if (flag == "--connections") {
      o.connections = parse_number<unsigned>(value(), "--connections");
    } else if (flag == "--inflight") {
      o.inflight = parse_number<unsigned>(value(), "--inflight");
    } else if (flag == "--threads") {
      o.threads = parse_number<unsigned>(value(), "--threads");
    } else if (flag == "--duration") {
      o.duration_s = parse_duration(value(), "--duration");
      o.duration_given = true;
    } else if (flag == "--count") {
      o.count = parse_number<uint64_t>(value(), "--count");
    } else if (flag == "--warmup") {
      o.warmup_s = parse_duration(value(), "--warmup");
    } else if (flag == "--timeout") {
      o.timeout_s = parse_duration(value(), "--timeout");
    } else if (flag == "--message") {
      o.message = std::string(value());
    } else if (flag == "--arg") {
      o.args.push_back(parse_arg(value()));
    } else if (flag == "--verify") {
      verify = std::string(value());
    } else if (flag == "--scope") {
      const std::string_view s = value();
      static constexpr std::string_view names[] = {"proc", "sess", "txn", "req", "res"};
      bool found = false;
      for (size_t k = 0; k < 5; ++k) {
        if (s == names[k]) {
          o.scope = static_cast<spop::Scope>(k);
          found = true;
        }
      }
      if (!found) bad("--scope: one of proc sess txn req res");
    } else if (flag == "--max-frame-size") {
      o.max_frame_size = parse_number<uint32_t>(value(), "--max-frame-size");
    } else if (flag == "--capabilities") {
      o.capabilities = std::string(value());
    } else if (flag == "--healthcheck") {
      healthcheck = true;
    } else if (flag == "--idle") {
      idle = true;
    } else if (flag == "--ready-file") {
      o.ready_file = std::string(value());
    } else if (flag == "--agent-pid") {
      o.agent_pid = parse_number<int>(value(), "--agent-pid");
    } else if (flag == "--json") {
      o.json = true;
    } else if (flag == "--label") {
      o.label = std::string(value());
    } else {
      bad("unknown option '" + std::string(flag) + "'");
    }
  }
  if (serve + healthcheck + idle > 1) bad("--serve, --healthcheck and --idle exclude each other");
  o.mode = serve ? Mode::serve : healthcheck ? Mode::healthcheck : idle ? Mode::idle : Mode::notify;
  if (verify == "echo") {
    o.verify = Verify::echo;
  } else if (verify == "any") {
    o.verify = Verify::any;
  } else {
    bad("--verify: echo or any");
  }
  if (o.connections == 0 || o.inflight == 0 || o.threads == 0) bad("counts must be >= 1");
  if (o.inflight > 65536) bad("--inflight: at most 65536");
  if (o.threads > o.connections && o.mode != Mode::serve) o.threads = o.connections;
  if (o.duration_s <= 0 && o.count == 0) bad("--duration must be > 0");
  if (o.count != 0 && o.duration_given) bad("--count and --duration exclude each other");
  if (o.max_frame_size < spop::min_max_frame_size) bad("--max-frame-size: at least 256");
  if (o.timeout_s <= 0) bad("--timeout must be > 0");
  if (o.mode == Mode::idle) o.warmup_s = 0;
  if (o.args.empty()) {
    o.args.push_back(parse_arg("ip=ipv4:10.0.0.1"));
    o.args.push_back(parse_arg("path=string:/index.html"));
  }
  if (o.args.size() > 255) bad("at most 255 --arg");
  return o;
}

}  // namespace bench
