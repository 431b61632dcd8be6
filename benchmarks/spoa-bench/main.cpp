// spoa-bench: SPOP load generator for HAProxy SPOE agents, and (--serve) the
// precomputed-ACK agent used as the end-to-end yardstick. See benchmarks/README.md.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "address.hpp"
#include "client.hpp"
#include "options.hpp"
#include "proc_stat.hpp"
#include "report.hpp"
#include "serve.hpp"
#include "workload.hpp"

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void on_signal(int) {
  g_stop.store(true);
}

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

// Sleeps in short slices until `done()` or `deadline_ns`, passing a signal on to the threads.
template <typename Done>
void wait_until(bench::Shared& shared, int64_t deadline_ns, Done done) {
  while (!done() && bench::now_ns() < deadline_ns) {
    if (g_stop.load()) shared.stop.store(true);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace bench;
  const Options options = parse_options(argc, argv);
  Workload workload;
  try {
    workload = build_workload(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "spoa-bench: %s\n", e.what());
    return 2;
  }
  install_signals();
  if (options.mode == Mode::serve) return serve(options, workload, g_stop);

  const auto address = parse_address(options.address);
  if (!address) {
    std::fprintf(stderr, "spoa-bench: bad address '%s' (HOST:PORT, [IPV6]:PORT or unix:/path)\n",
                 options.address.c_str());
    return 2;
  }
  const long wanted_fds = static_cast<long>(options.connections) + 64;
  if (const long got = raise_fd_limit(wanted_fds); got < wanted_fds)
    std::fprintf(stderr, "spoa-bench: warning: RLIMIT_NOFILE is %ld, %ld wanted\n", got,
                 wanted_fds);

  Shared shared{options, workload, *address};
  shared.count_left.store(static_cast<int64_t>(options.count));
  std::vector<std::unique_ptr<ClientThread>> loops;
  for (unsigned t = 0; t < options.threads; ++t) {
    std::vector<unsigned> ids;
    for (unsigned c = t; c < options.connections; c += options.threads)
      ids.push_back(c);
    loops.push_back(std::make_unique<ClientThread>(shared, t, std::move(ids)));
  }
  std::vector<std::thread> threads;
  for (auto& l : loops)
    threads.emplace_back([&l] { l->run(); });
  const unsigned n = options.threads;

  // Every connection up (or failed; each step is bounded by --timeout).
  wait_until(shared, INT64_MAX, [&] { return shared.ready.load() == n || shared.stop.load(); });
  if (options.mode == Mode::idle && !options.ready_file.empty())
    std::ofstream(options.ready_file) << "ready\n";

  const int64_t start = now_ns();
  shared.start_ns.store(start);
  const int64_t measure_start = start + static_cast<int64_t>(options.warmup_s * 1e9);
  wait_until(shared, measure_start, [&] { return shared.window_done.load() == n; });

  Report report;
  report.options = &options;
  report.workload = &workload;
  const pid_t agent = options.agent_pid;
  const auto agent_cpu0 = agent ? process_cpu_seconds(agent) : std::nullopt;
  if (agent) report.agent_rss_start_kib = process_rss_kib(agent);
  const double own0 = own_cpu_seconds();

  wait_until(shared, INT64_MAX, [&] { return shared.window_done.load() == n; });
  const int64_t end = now_ns();
  const auto agent_cpu1 = agent ? process_cpu_seconds(agent) : std::nullopt;
  if (agent) report.agent_rss_end_kib = process_rss_kib(agent);
  report.bench_cpu_s = own_cpu_seconds() - own0;
  if (agent_cpu0 && agent_cpu1) report.agent_cpu_s = *agent_cpu1 - *agent_cpu0;

  for (auto& t : threads)
    t.join();
  report.interrupted = g_stop.load();

  int64_t last = 0;
  for (auto& l : loops) {
    const ThreadResult& r = l->result();
    ThreadResult& total = report.total;
    total.latency.merge(r.latency);
    total.measured += r.measured;
    total.answered += r.answered;
    total.sent += r.sent;
    total.connections_up += r.connections_up;
    total.disconnect_replies += r.disconnect_replies;
    total.closed_without_reply += r.closed_without_reply;
    total.errors += r.errors;
    for (const auto& [kind, count] : r.error_kinds)
      total.error_kinds[kind] += count;
    for (const auto& s : r.error_samples) {
      if (total.error_samples.size() < 20) total.error_samples.push_back(s);
    }
    if (total.agent_version.empty()) {
      total.agent_version = r.agent_version;
      total.agent_capabilities = r.agent_capabilities;
      total.agent_max_frame_size = r.agent_max_frame_size;
    }
    last = std::max(last, r.last_measured_ns);
  }
  const int64_t window_end = options.mode == Mode::idle || last == 0 ? end : last;
  report.window_s = static_cast<double>(std::max<int64_t>(window_end - measure_start, 1)) / 1e9;
  report.frames_per_s = static_cast<double>(report.total.measured) / report.window_s;

  if (options.json) {
    print_json(report);
  } else {
    print_table(report);
  }
  std::fflush(stdout);

  const ThreadResult& t = report.total;
  if (t.errors != 0) return 1;
  if (options.mode == Mode::idle && t.connections_up != options.connections) return 1;
  if (options.mode != Mode::idle && t.measured == 0 && !report.interrupted) {
    std::fprintf(stderr, "spoa-bench: nothing was measured\n");
    return 1;
  }
  return 0;
}
