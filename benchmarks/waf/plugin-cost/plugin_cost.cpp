// waf_plugin_cost: CPU time per inspected request inside the waf plugin, split into the
// engine's share (a ModSecurity transaction through the CRS, logging included) and the
// plugin's own (what the SPOE handler and the answer cost: decoding req.hdrs_bin, copying
// the request, writing the answer variables). Thread CPU time (CLOCK_THREAD_CPUTIME_ID),
// not wall time: the machine is shared, and CPU is what a request costs.
//
//   waf_plugin_cost [--iterations N] [--paranoia P] [--no-rules]
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "answer.hpp"
#include "engine.hpp"
#include "header_block.hpp"
#include "inspection.hpp"
#include "settings.hpp"

namespace {

using namespace spoa::waf;

double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

struct Workload {
  const char* name;
  std::string method;
  std::string uri;
  std::string headers_bin;  // as req.hdrs_bin
  std::string body;
  bool response = false;  // also run the response phase (what nginx's connector does)
};

std::string header_block(const std::vector<std::pair<std::string, std::string>>& headers) {
  std::vector<Header> list;
  for (const auto& [name, value] : headers)
    list.push_back({name, value});
  return encode_binary_headers(list);
}

// Five browser headers, as in the nginx figures.
std::vector<std::pair<std::string, std::string>> browser() {
  return {{"host", "www.example.com"},
          {"user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"},
          {"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
          {"accept-language", "en-US,en;q=0.5"},
          {"accept-encoding", "gzip, deflate"}};
}

std::vector<Workload> workloads() {
  std::vector<Workload> w;
  w.push_back(
      {"benign GET", "GET", "/products/index.html?page=2&sort=name", header_block(browser()), ""});
  std::string form = "name=Alice+Smith&email=alice%40example.com&message=";
  while (form.size() < 1024)
    form += "Hello+there+this+is+an+ordinary+message+";
  form.resize(1024);
  auto form_headers = browser();
  form_headers.push_back({"content-type", "application/x-www-form-urlencoded"});
  form_headers.push_back({"content-length", std::to_string(form.size())});
  w.push_back({"1 KB form POST", "POST", "/contact", header_block(form_headers), form});
  w.push_back(
      {"SQLi GET", "GET", "/item?id=1%27%20OR%20%271%27=%271", header_block(browser()), ""});
  w.push_back({"GET + response", "GET", "/products/index.html?page=2&sort=name",
               header_block(browser()), "", true});
  return w;
}

struct NullSink final : AnswerSink {
  std::size_t n = 0;
  void set(std::string_view, std::string_view v) override { n += v.size(); }
  void set(std::string_view, std::int64_t v) override { n += static_cast<std::size_t>(v & 1); }
  void set(std::string_view, bool v) override { n += v; }
};

// What the plugin does per message besides the engine: decode and copy into HttpRequest.
HttpRequest decode(const Workload& w) {
  HttpRequest r;
  r.id = "0A1B2C3D:1F90_7F000001:0050_6568A3B1_0001:1234";
  r.client_ip = "192.0.2.10";
  r.client_port = 40000;
  r.server_ip = "192.0.2.1";
  r.server_port = 80;
  r.method = w.method;
  r.uri = w.uri;
  decode_binary_headers(w.headers_bin, 100, r.headers);
  r.body = w.body;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int iterations = 2000;
  int paranoia = 1;
  bool no_rules = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--iterations") && i + 1 < argc)
      iterations = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--paranoia") && i + 1 < argc)
      paranoia = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--no-rules"))
      no_rules = true;
    else {
      std::fprintf(stderr, "usage: %s [--iterations N] [--paranoia P] [--no-rules]\n", argv[0]);
      return 2;
    }
  }
  Settings settings;
  AppSettings app;
  app.name = "bench";
  app.crs = !no_rules;
  app.paranoia = paranoia;
  app.response = true;  // response body access: only the "+ response" workload uses it
  if (no_rules) app.directives = "SecAction \"id:99999,phase:1,pass,nolog\"";
  settings.apps["bench"] = app;
  settings.default_app = "bench";
  const Engine engine(settings);
  const Application& application = *engine.find("bench");

  // A 1 KB HTML page with the headers a web server sends.
  HttpResponse response;
  response.headers.headers = {{"Content-Type", "text/html; charset=utf-8"},
                              {"Content-Length", "1024"},
                              {"Cache-Control", "no-cache"},
                              {"Server", "nginx"},
                              {"Date", "Tue, 01 Dec 2026 18:00:00 GMT"}};
  response.body = "<html><head><title>Products</title></head><body>";
  while (response.body.size() < 1010)
    response.body += "<p>An ordinary product description.</p>";
  response.body.resize(1010);
  response.body += "</body></html>";

  const char* preload = std::getenv("LD_PRELOAD");
  std::printf("# waf plugin cost: %s, paranoia %d, %d iterations, allocator %s\n",
              no_rules ? "no rules" : "CRS 3.3.4", paranoia, iterations,
              preload && *preload ? preload : "glibc malloc");
  std::printf("%-16s %12s %12s %12s %10s %s\n", "workload", "engine_us", "plugin_us", "total_us",
              "req/s/core", "verdict");
  for (const Workload& w : workloads()) {
    Verdict last;
    for (int i = 0; i < iterations / 10 + 1; ++i) {  // warm up
      HttpRequest r = decode(w);
      Transaction tx(engine, application, r.id);
      last = tx.request(r);
    }
    double plugin = 0;
    double engine_cpu = 0;
    NullSink sink;
    for (int i = 0; i < iterations; ++i) {
      const double t0 = thread_cpu_us();
      HttpRequest r = decode(w);
      const double t1 = thread_cpu_us();
      Verdict v;
      {
        Transaction tx(engine, application, r.id);
        v = tx.request(r);
        if (w.response) {
          HttpResponse res = response;
          v = tx.response(res);
        }
      }  // the destructor writes the log phase: part of the engine's cost
      const double t2 = thread_cpu_us();
      write_answer(v, Dialect::native, r.id, sink);
      const double t3 = thread_cpu_us();
      plugin += (t1 - t0) + (t3 - t2);
      engine_cpu += t2 - t1;
      last = v;
    }
    const double e = engine_cpu / iterations;
    const double p = plugin / iterations;
    std::printf("%-16s %12.1f %12.2f %12.1f %10.0f %s [%s]\n", w.name, e, p, e + p, 1e6 / (e + p),
                std::string(to_string(last.action)).c_str(), last.rule_ids.c_str());
  }
  return 0;
}
