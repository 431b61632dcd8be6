// iprep-bench: how long a list of N networks takes to load (read + parse + build, on the
// loader's thread, which is what keeps the I/O threads free), how much memory it takes per
// network, and how long one lookup takes, for IPv4 and IPv6.
//
// Times are this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), the honest figure on a
// shared 2-core machine; wall time is printed beside it. The lists are synthetic: the
// prefix-length mix of FireHOL level 1-4 style lists for IPv4 (mostly /32 and /24); for
// IPv6 random /32../64 networks inside 2000::/3 and 5% single /128 addresses; a fixed seed
// so runs compare.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "list_formats.hpp"
#include "reputation.hpp"
#include "spoa/support/text_lines.hpp"

namespace {

using spoa::iprep::IpAddress;
using spoa::support::uint128;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
double wall_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return 0;
}

std::string v4_list(std::size_t n, std::mt19937_64& rng) {
  std::string text;
  text.reserve(n * 18);
  char buffer[32];
  for (std::size_t i = 0; i < n; ++i) {
    const auto a = static_cast<std::uint32_t>(rng());
    const unsigned pick = static_cast<unsigned>(rng() % 100);
    const unsigned len = pick < 70 ? 32 : pick < 90 ? 24 : 16 + static_cast<unsigned>(rng() % 16);
    const std::uint32_t masked = len == 32 ? a : a & (~0u << (32 - len));
    std::snprintf(buffer, sizeof buffer, "%u.%u.%u.%u/%u\n", masked >> 24, (masked >> 16) & 255,
                  (masked >> 8) & 255, masked & 255, len);
    text += buffer;
  }
  return text;
}

uint128 random_v6(std::mt19937_64& rng) {
  return (uint128{0x2000u | (rng() & 0x1fffu)} << 112) | (uint128{rng() & 0xffffffffffffu} << 64) |
         uint128{rng()};
}

std::string v6_list(std::size_t n, std::mt19937_64& rng) {
  std::string text;
  text.reserve(n * 30);
  for (std::size_t i = 0; i < n; ++i) {
    // 95% networks of /32 to /64 (published lists), 5% single addresses (CrowdSec bans).
    const unsigned len = rng() % 100 < 5 ? 128 : 32 + static_cast<unsigned>(rng() % 33);
    const auto p = spoa::support::Prefix::of(IpAddress::v6(random_v6(rng)), len);
    text += p.to_string();
    text += '\n';
  }
  return text;
}

struct Result {
  double load_cpu = 0, load_wall = 0, lookup_ns = 0, chained_ns = 0, judge_ns = 0, hit_rate = 0;
  std::size_t bytes = 0, networks = 0;
  long rss_kib = 0;
};

Result run(const char* family, const std::string& text, const std::string& path,
           std::size_t lookups, std::mt19937_64& rng, bool v6) {
  { std::ofstream(path) << text; }
  Result r;
  const long rss_before = rss_kib();
  const double c0 = thread_cpu_seconds(), w0 = wall_seconds();
  // Exactly what the loader thread does for a list source.
  const std::string file = spoa::support::read_file(path);
  auto data = spoa::iprep::parse_list(file, path, spoa::iprep::ListFormat::plain, {"bench", {}});
  r.load_cpu = thread_cpu_seconds() - c0;
  r.load_wall = wall_seconds() - w0;
  r.rss_kib = rss_kib() - rss_before;
  r.bytes = data->table.memory_bytes();
  r.networks = data->table.size();

  // Addresses: half taken from the list (hits), half random.
  std::vector<IpAddress> queries;
  queries.reserve(lookups);
  {
    spoa::support::TextLines lines(text);
    std::string_view line;
    std::size_t number = 0;
    std::vector<IpAddress> listed;
    while (lines.next(line, number) && listed.size() < lookups / 2)
      listed.push_back(spoa::support::Prefix::parse(line)->network);
    for (std::size_t i = 0; i < lookups; ++i) {
      if (i % 2 == 0 && !listed.empty()) {
        queries.push_back(listed[rng() % listed.size()]);
      } else {
        queries.push_back(v6 ? IpAddress::v6(random_v6(rng))
                             : IpAddress::v4(static_cast<std::uint32_t>(rng())));
      }
    }
    std::shuffle(queries.begin(), queries.end(), rng);
  }
  std::size_t hits = 0;
  double t = thread_cpu_seconds();
  for (const IpAddress& q : queries)
    hits += data->table.lookup(q).has_value() ? 1 : 0;
  r.lookup_ns = (thread_cpu_seconds() - t) * 1e9 / static_cast<double>(queries.size());
  r.hit_rate = static_cast<double>(hits) / static_cast<double>(queries.size());

  // The same lookups, each address chosen by the one before's answer: no two lookups'
  // memory reads overlap, so this is one lookup's latency rather than the throughput of
  // independent ones (a handler does other work between two lookups). `zero` is 0, but the
  // compiler cannot know, so the next index really waits for this lookup's value.
  static volatile std::uint32_t zero = 0;
  const std::uint32_t z = zero;
  std::size_t next = 0;
  t = thread_cpu_seconds();
  for (std::size_t i = 0; i < queries.size(); ++i) {
    const auto m = data->table.lookup(queries[next]);
    next = (next + 1 + (m ? m->value & z : 0)) % queries.size();
  }
  r.chained_ns = (thread_cpu_seconds() - t) * 1e9 / static_cast<double>(queries.size());

  // The whole verdict as the handler asks it (snapshot load, match, attributes).
  std::vector<spoa::iprep::Source> sources(1);
  sources[0].name = "bench";
  sources[0].action = "deny";
  sources[0].data->publish(std::move(data));
  const spoa::iprep::Reputation reputation(std::move(sources));
  const auto now = std::chrono::system_clock::now();
  std::size_t listed = 0;
  t = thread_cpu_seconds();
  for (const IpAddress& q : queries)
    listed += reputation.judge(q, now).listed ? 1 : 0;
  r.judge_ns = (thread_cpu_seconds() - t) * 1e9 / static_cast<double>(queries.size());
  if (listed != hits) std::fprintf(stderr, "%s: judge and lookup disagree\n", family);
  std::remove(path.c_str());
  return r;
}

void print(const char* family, std::size_t n, const Result& r) {
  std::printf(
      "%s: %zu lines -> %zu networks; load %.3f s CPU (%.3f s wall); table %.1f MiB = %.1f "
      "bytes/prefix (RSS +%.1f MiB); lookup %.1f ns, chained %.1f ns, full verdict %.1f ns (CPU, "
      "%.0f%% hits)\n",
      family, n, r.networks, r.load_cpu, r.load_wall, static_cast<double>(r.bytes) / 1048576.0,
      static_cast<double>(r.bytes) / static_cast<double>(r.networks),
      static_cast<double>(r.rss_kib) / 1024.0, r.lookup_ns, r.chained_ns, r.judge_ns,
      r.hit_rate * 100);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t prefixes = 1000000, lookups = 5000000;
  std::string dir = "/tmp";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--prefixes" && i + 1 < argc) {
      prefixes = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--lookups" && i + 1 < argc) {
      lookups = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else {
      std::fprintf(stderr, "usage: iprep-bench [--prefixes N] [--lookups N] [--dir DIR]\n");
      return 2;
    }
  }
  std::mt19937_64 rng(12);
  const std::string base = dir + "/iprep-bench-" + std::to_string(::getpid());
  const std::string v4 = v4_list(prefixes, rng);
  print("IPv4", prefixes, run("IPv4", v4, base + "-v4.netset", lookups, rng, false));
  const std::string v6 = v6_list(prefixes, rng);
  print("IPv6", prefixes, run("IPv6", v6, base + "-v6.netset", lookups, rng, true));
  return 0;
}
