#include "report.hpp"

#include <cmath>
#include <cstdio>
#include <string_view>

namespace bench {

namespace {

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::notify:
      return "notify";
    case Mode::healthcheck:
      return "healthcheck";
    case Mode::idle:
      return "idle";
    case Mode::serve:
      return "serve";
  }
  return "?";
}

double us(uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

// Percentiles of the HdrHistogram-style spectrum plot: 0, 90, 99, 99.9, ... in quarter
// steps of "nines", up to 99.999 and the max.
std::string spectrum_json(const Histogram& h) {
  std::string out = "[";
  for (int step = 0; step <= 20; ++step) {
    const double nines = step * 0.25;
    const double p = 100.0 * (1.0 - std::pow(10.0, -nines));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s[%.5f,%.3f]", step == 0 ? "" : ",", p, us(h.percentile(p)));
    out += buf;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, ",[100,%.3f]]", us(h.max()));
  return out + buf;
}

std::string buckets_json(const Histogram& h) {
  std::string out = "[";
  bool first = true;
  for (const auto& [value, count] : h.buckets()) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s[%.3f,%llu]", first ? "" : ",", us(value),
                  static_cast<unsigned long long>(count));
    out += buf;
    first = false;
  }
  return out + "]";
}

}  // namespace

std::string json_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

void print_table(const Report& r) {
  const Options& o = *r.options;
  const ThreadResult& t = r.total;
  const Histogram& h = t.latency;
  std::printf("spoa-bench %s -> %s: %u connection(s) x %u in flight, %u thread(s)\n",
              mode_name(o.mode), o.address.c_str(), o.connections, o.inflight, o.threads);
  if (o.mode == Mode::notify) {
    std::printf("  message '%s' (", o.message.c_str());
    for (size_t i = 0; i < o.args.size(); ++i)
      std::printf("%s%s", i ? ", " : "", describe(o.args[i]).substr(0, 60).c_str());
    std::printf("), NOTIFY %zu B, verify %s\n", r.workload->notify_payload.size() + 11,
                o.verify == Verify::echo ? "echo" : "any");
  }
  if (!t.agent_version.empty())
    std::printf("  agent: version %s, max-frame-size %u, capabilities '%s'\n",
                t.agent_version.c_str(), t.agent_max_frame_size, t.agent_capabilities.c_str());
  std::printf("  %-16s %llu\n", o.mode == Mode::healthcheck ? "checks done" : "connections up",
              static_cast<unsigned long long>(t.connections_up));
  if (o.mode != Mode::idle) {
    const char* unit = o.mode == Mode::healthcheck ? "checks" : "frames";
    std::printf("  window           %.3f s after %.1f s warm-up%s\n", r.window_s, o.warmup_s,
                r.interrupted ? " (interrupted)" : "");
    std::printf("  %-16s %llu  (%.0f %s/s)\n", unit, static_cast<unsigned long long>(t.measured),
                r.frames_per_s, unit);
    std::printf(
        "  latency us       min %.1f  mean %.1f  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max "
        "%.1f\n",
        us(h.min()), h.mean() / 1000.0, us(h.percentile(50)), us(h.percentile(90)),
        us(h.percentile(99)), us(h.percentile(99.9)), us(h.max()));
  }
  if (r.agent_cpu_s) {
    std::printf("  agent CPU        %.2f s", *r.agent_cpu_s);
    if (t.measured != 0)
      std::printf("  (%.2f us/%s)", *r.agent_cpu_s * 1e6 / static_cast<double>(t.measured),
                  o.mode == Mode::healthcheck ? "check" : "frame");
    std::printf("\n");
  }
  if (r.agent_rss_start_kib)
    std::printf("  agent RSS        %llu KiB at the start, %llu KiB at the end of the window\n",
                static_cast<unsigned long long>(*r.agent_rss_start_kib),
                static_cast<unsigned long long>(r.agent_rss_end_kib.value_or(0)));
  std::printf("  bench CPU        %.2f s", r.bench_cpu_s);
  if (t.measured != 0)
    std::printf("  (%.2f us/%s)", r.bench_cpu_s * 1e6 / static_cast<double>(t.measured),
                o.mode == Mode::healthcheck ? "check" : "frame");
  std::printf("\n  DISCONNECT       %llu answered, %llu closed without answer\n",
              static_cast<unsigned long long>(t.disconnect_replies),
              static_cast<unsigned long long>(t.closed_without_reply));
  std::printf("  errors           %llu\n", static_cast<unsigned long long>(t.errors));
  for (const auto& [kind, n] : t.error_kinds)
    std::printf("    %-22s %llu\n", kind.c_str(), static_cast<unsigned long long>(n));
  for (const std::string& s : t.error_samples)
    std::printf("    - %s\n", s.c_str());
}

void print_json(const Report& r) {
  const Options& o = *r.options;
  const ThreadResult& t = r.total;
  const Histogram& h = t.latency;
  std::string j = "{\"tool\":\"spoa-bench\",\"mode\":\"" + std::string(mode_name(o.mode)) + "\"";
  auto add = [&j](std::string_view key, const std::string& value) {
    j += ",\"" + std::string(key) + "\":" + value;
  };
  auto str = [](std::string_view s) { return "\"" + json_escape(s) + "\""; };
  auto num = [](double v) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return std::string(buf);
  };
  auto integer = [](uint64_t v) { return std::to_string(v); };
  add("label", str(o.label));
  add("connect", str(o.address));
  add("connections", integer(o.connections));
  add("inflight", integer(o.inflight));
  add("threads", integer(o.threads));
  add("message", str(o.message));
  std::string args = "[";
  for (size_t i = 0; i < o.args.size(); ++i)
    args += (i ? "," : "") + str(describe(o.args[i]).substr(0, 80));
  add("args", args + "]");
  add("notify_bytes", integer(r.workload->notify_payload.size() + 11));
  add("verify", str(o.verify == Verify::echo ? "echo" : "any"));
  add("warmup_s", num(o.warmup_s));
  add("count", integer(o.count));
  add("duration_s", num(o.count != 0 ? 0.0 : o.duration_s));
  add("agent_version", str(t.agent_version));
  add("agent_capabilities", str(t.agent_capabilities));
  add("agent_max_frame_size", integer(t.agent_max_frame_size));
  add("connections_up", integer(t.connections_up));
  add("window_s", num(r.window_s));
  add("frames", integer(t.measured));
  add("frames_per_s", num(r.frames_per_s));
  add("sent_total", integer(t.sent));
  add("answered_total", integer(t.answered));
  std::string lat =
      "{\"min\":" + num(us(h.min())) + ",\"mean\":" + num(h.mean() / 1000.0) +
      ",\"p50\":" + num(us(h.percentile(50))) + ",\"p90\":" + num(us(h.percentile(90))) +
      ",\"p99\":" + num(us(h.percentile(99))) + ",\"p999\":" + num(us(h.percentile(99.9))) +
      ",\"p9999\":" + num(us(h.percentile(99.99))) + ",\"max\":" + num(us(h.max())) + "}";
  add("latency_us", lat);
  add("latency_spectrum_us", spectrum_json(h));
  add("latency_buckets_us", buckets_json(h));
  add("agent_pid", integer(static_cast<uint64_t>(o.agent_pid)));
  if (r.agent_cpu_s) {
    add("agent_cpu_s", num(*r.agent_cpu_s));
    add("agent_cpu_us_per_frame",
        t.measured ? num(*r.agent_cpu_s * 1e6 / static_cast<double>(t.measured)) : "null");
  }
  if (r.agent_rss_start_kib) add("agent_rss_start_kib", integer(*r.agent_rss_start_kib));
  if (r.agent_rss_end_kib) add("agent_rss_end_kib", integer(*r.agent_rss_end_kib));
  add("bench_cpu_s", num(r.bench_cpu_s));
  add("bench_cpu_us_per_frame",
      t.measured ? num(r.bench_cpu_s * 1e6 / static_cast<double>(t.measured)) : "null");
  add("disconnect_replies", integer(t.disconnect_replies));
  add("closed_without_reply", integer(t.closed_without_reply));
  add("errors", integer(t.errors));
  std::string kinds = "{";
  bool first = true;
  for (const auto& [kind, n] : t.error_kinds) {
    kinds += (first ? "" : ",") + str(kind) + ":" + integer(n);
    first = false;
  }
  add("error_kinds", kinds + "}");
  std::string samples = "[";
  for (size_t i = 0; i < t.error_samples.size(); ++i)
    samples += (i ? "," : "") + str(t.error_samples[i]);
  add("error_samples", samples + "]");
  add("interrupted", r.interrupted ? "true" : "false");
  j += "}\n";
  std::fputs(j.c_str(), stdout);
}

}  // namespace bench
