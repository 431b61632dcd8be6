#!/usr/bin/env python3
"""End-to-end WAF benchmark: wrk -> HAProxy 2.6 -> spoa-host (waf plugin), beside
wrk -> nginx + ModSecurity-nginx, on the same SecLang file (Debian's CRS 3.3.4, blocking,
paranoia 1 by default), the same application behind both, the same machine, one run.

Workloads (the issue's): a benign GET with five browser headers, a 1 KB form POST, an SQLi
GET (blocked with 403 by both). Per workload and path, over the measured wrk run:
requests/s and the CPU time per request of every process on the path (utime+stime from
/proc/PID/stat): nginx's one worker; HAProxy and spoa-host. A third path, "host-only",
sends the same NOTIFYs to a spoa-host whose plugins do not claim the message, which gives
the host's own share (decode + empty ACK) next to the engine's.

    benchmarks/waf/e2e/run.py --build-dir build/release [--duration 10] [--connections 8]
                              [--waf-threads 1] [--allocator package] [--json out.jsonl]

By default each side runs as Debian installs it: spoa-host with the environment of the
spoa-host-waf package's systemd drop-in (plugins/waf/systemd/waf-jemalloc.conf: jemalloc
preloaded), nginx with glibc's malloc as the nginx package runs it.

CPU per request is the figure to compare: on a shared 2-core machine req/s depends on who
else runs. Every process is started here, bounded in time and stopped by its PID.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "crs"))
from crsrunner import processes  # noqa: E402  (Child, listening_socket, fill)
from crsrunner.processes import Child  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
PACKAGE_DROPIN = os.path.join(REPO, "plugins", "waf", "systemd", "waf-jemalloc.conf")


def package_preload():
    """LD_PRELOAD as the spoa-host-waf package's drop-in sets it for the service."""
    with open(PACKAGE_DROPIN) as f:
        for line in f:
            m = re.match(r"Environment=LD_PRELOAD=(\S+)\s*$", line.strip())
            if m:
                return m.group(1)
    raise RuntimeError(f"no Environment=LD_PRELOAD= line in {PACKAGE_DROPIN}")


ALLOCATORS = {"glibc": None,
              "jemalloc": "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
              "tcmalloc": "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
              "package": package_preload()}
BROWSER_HEADERS = [
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8",
    "Accept-Language: en-US,en;q=0.5",
    "Accept-Encoding: gzip, deflate, br",
    "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark",
]
WORKLOADS = {
    "get": {"path": "/products/view?id=1042&lang=en", "script": None},
    "post": {"path": "/account/signup", "script": "post.lua"},
    "sqli": {"path": "/products/view?id=1%27%20UNION%20SELECT%20username,password%20FROM%20users--",
             "script": None},
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def run_wrk(url, workload, duration, connections, threads):
    argv = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
            "--timeout", "5s", "--latency"]
    for h in BROWSER_HEADERS:
        argv += ["-H", h]
    if workload["script"]:
        argv += ["-s", os.path.join(HERE, workload["script"])]
    argv.append(url + workload["path"])
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60).stdout
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if not m:
        raise RuntimeError(f"wrk output not understood:\n{out}")
    seconds = float(m.group(2)) / (1000.0 if m.group(3) == "ms" else 1.0)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    return {"requests": int(m.group(1)), "seconds": seconds,
            "rps": int(m.group(1)) / seconds if seconds else 0.0,
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": errors.group(1).strip() if errors else "",
            "p50": p50.group(1) if p50 else "", "p99": p99.group(1) if p99 else ""}


class Bench:
    def __init__(self, args, workdir):
        self.args, self.workdir = args, workdir
        self.children = []
        self.user = "user root root;" if os.geteuid() == 0 else ""
        self.rules = processes.fill(os.path.join(HERE, "crs-bench.conf.in"),
                                    os.path.join(workdir, "crs-bench.conf"),
                                    {"WORKDIR": workdir, "PARANOIA": args.paranoia})

    def env(self, preload):
        env = dict(os.environ)
        if preload:
            env["LD_PRELOAD"] = preload
        return env

    def start_nginx(self, role, server_block, http_extra="", preload=None):
        sock = processes.listening_socket()
        port = sock.getsockname()[1]
        conf = processes.fill(os.path.join(HERE, "nginx.conf.in"),
                              os.path.join(self.workdir, f"nginx-{role}.conf"),
                              {"ROLE": role, "WORKDIR": self.workdir, "USER": self.user,
                               "PORT": port, "SERVER": server_block,
                               "HTTP_EXTRA": http_extra})
        env = self.env(preload)
        env["NGINX"] = f"{sock.fileno()};"
        try:
            child = Child(f"nginx-{role}", [self.args.nginx, "-p", self.workdir, "-e",
                                           os.path.join(self.workdir, f"nginx-{role}-error.log"),
                                           "-c", conf], self.workdir, env=env,
                          pass_fds=[sock.fileno()])
            self.children.append(child)
            child.wait_for(lambda: child.children(), 60, "a worker")
        finally:
            sock.close()
        return child, port

    def start_spoa(self, name, plugin_tables, preload=None):
        toml = processes.fill(os.path.join(HERE, "spoa-host.toml.in"),
                              os.path.join(self.workdir, f"{name}.toml"),
                              {"PLUGIN_TABLES": plugin_tables})
        agent = Child(name, [self.args.spoa_host, "-c", toml, "--plugin-dir",
                             self.args.plugin_dir], self.workdir, env=self.env(preload))
        self.children.append(agent)
        ready = agent.wait_for(
            lambda: re.search(r"ready: listening on 127\.0\.0\.1:(\d+)", agent.output()),
            120, "ready line")
        return agent, int(ready.group(1))

    def start_haproxy(self, name, agent_port, app_port):
        processes.fill(os.path.join(HERE, "spoe.conf.in"),
                       os.path.join(self.workdir, "spoe.conf"), {})
        sock = processes.listening_socket()
        port = sock.getsockname()[1]
        cfg = processes.fill(os.path.join(HERE, "haproxy.cfg.in"),
                             os.path.join(self.workdir, f"{name}.cfg"),
                             {"WORKDIR": self.workdir, "LISTEN_FD": sock.fileno(),
                              "APP_PORT": app_port, "AGENT_PORT": agent_port})
        try:
            child = Child(name, [self.args.haproxy, "-db", "-f", cfg], self.workdir,
                          pass_fds=[sock.fileno()])
            self.children.append(child)
            time.sleep(0.5)
            if not child.running():
                raise processes.StartError(f"{name} exited:\n{child.output()}")
        finally:
            sock.close()
        return child, port

    def stop(self):
        for child in reversed(self.children):
            child.stop()


def waf_tables(rules, threads):
    return f"""
[plugins.waf]
path = "waf.so"
messages = ["waf-req"]
[plugins.waf.config]
default_app = "site"
threads = {threads}
queue = 256
[plugins.waf.config.apps.site]
crs = false
mode = "block"
truncated_body = "inspect"
response = false
rules = "{rules}"
"""


HOST_ONLY_TABLES = """
[plugins.echo]
path = "echo.so"
messages = ["echo"]
"""


def measure(label, url, pids, args, workload_name):
    workload = WORKLOADS[workload_name]
    run_wrk(url, workload, 1, args.connections, args.wrk_threads)  # warm-up
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    result = run_wrk(url, workload, args.duration, args.connections, args.wrk_threads)
    after = {name: cpu_seconds(pid) for name, pid in pids.items()}
    n = max(result["requests"], 1)
    result["cpu_us_per_request"] = {name: round(1e6 * (after[name] - before[name]) / n, 1)
                                    for name in pids}
    result["cpu_us_per_request_total"] = round(sum(result["cpu_us_per_request"].values()), 1)
    result.update({"path": label, "workload": workload_name})
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"))
    p.add_argument("--spoa-host")
    p.add_argument("--plugin-dir")
    p.add_argument("--haproxy", default="/usr/sbin/haproxy")
    p.add_argument("--nginx", default="/usr/sbin/nginx")
    p.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--wrk-threads", type=int, default=1)
    p.add_argument("--waf-threads", type=int, default=1,
                   help="inspection threads of the waf plugin (nginx has 1 worker)")
    p.add_argument("--paranoia", type=int, default=1)
    p.add_argument("--allocator", choices=sorted(ALLOCATORS), default="package",
                   help="malloc preloaded into spoa-host; 'package': as the spoa-host-waf "
                        "package's systemd drop-in does (default)")
    p.add_argument("--nginx-allocator", choices=sorted(ALLOCATORS), default="glibc",
                   help="malloc preloaded into nginx; glibc (default) as Debian ships it")
    p.add_argument("--workloads", default="get,post,sqli")
    p.add_argument("--paths", default="nginx,spoa,host-only")
    p.add_argument("--repeat", type=int, default=1,
                   help="measure each workload and path this many times, interleaved; the "
                        "table shows the run with the median total CPU per request")
    p.add_argument("--json", help="append one JSON line per measurement here")
    args = p.parse_args()
    # Absolute: the children run in the work folder.
    args.spoa_host = os.path.abspath(args.spoa_host or
                                     os.path.join(args.build_dir, "server", "spoa-host"))
    args.plugin_dir = os.path.abspath(args.plugin_dir or os.path.join(args.build_dir, "plugins"))
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    for path in (args.spoa_host, os.path.join(args.plugin_dir, "waf.so"), args.haproxy,
                 args.nginx):
        if not os.path.exists(path):
            sys.exit(f"missing: {path}")

    workdir = tempfile.mkdtemp(prefix="waf-bench-")
    os.chmod(workdir, 0o755)
    bench = Bench(args, workdir)
    results = []
    try:
        app, app_port = bench.start_nginx("app", '    location / { return 200 "ok\\n"; }')
        paths = args.paths.split(",")
        targets = {}
        if "nginx" in paths:
            waf, waf_port = bench.start_nginx(
                "waf", f"""    modsecurity on;
    modsecurity_rules_file {bench.rules};
    location / {{
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}""", f"  upstream app {{ server 127.0.0.1:{app_port}; keepalive 32; }}",
                ALLOCATORS[args.nginx_allocator])
            targets["nginx"] = (f"http://127.0.0.1:{waf_port}",
                                {"nginx-worker": waf.children()[0]})
        if "spoa" in paths:
            agent, agent_port = bench.start_spoa(
                "spoa-host-waf", waf_tables(bench.rules, args.waf_threads),
                ALLOCATORS[args.allocator])
            proxy, port = bench.start_haproxy("haproxy-waf", agent_port, app_port)
            targets["spoa"] = (f"http://127.0.0.1:{port}",
                               {"haproxy": proxy.pid, "spoa-host": agent.pid})
        if "host-only" in paths:
            agent, agent_port = bench.start_spoa("spoa-host-none", HOST_ONLY_TABLES,
                                                 ALLOCATORS[args.allocator])
            proxy, port = bench.start_haproxy("haproxy-none", agent_port, app_port)
            targets["host-only"] = (f"http://127.0.0.1:{port}",
                                    {"haproxy": proxy.pid, "spoa-host": agent.pid})
        runs = {}
        for repetition in range(args.repeat):
            for workload in args.workloads.split(","):
                for label, (url, pids) in targets.items():
                    r = measure(label, url, pids, args, workload)
                    r.update({"allocator": args.allocator, "waf_threads": args.waf_threads,
                              "paranoia": args.paranoia, "connections": args.connections,
                              "nginx_allocator": args.nginx_allocator,
                              "repetition": repetition})
                    runs.setdefault((workload, label), []).append(r)
                    log(f"{workload:5} {label:9} {r['rps']:8.0f} req/s  CPU/req "
                        + ", ".join(f"{k} {v} us" for k, v in r["cpu_us_per_request"].items())
                        + f"  (non-2xx {r['non_2xx']}, p50 {r['p50']}, p99 {r['p99']})")
        for key, rs in runs.items():
            rs = sorted(rs, key=lambda r: r["cpu_us_per_request_total"])
            median = dict(rs[len(rs) // 2])
            median["rps_all"] = [round(r["rps"]) for r in runs[key]]
            median["cpu_us_total_all"] = [r["cpu_us_per_request_total"] for r in runs[key]]
            results.append(median)
    finally:
        bench.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"spoa-host allocator: {args.allocator} (LD_PRELOAD="
          f"{ALLOCATORS[args.allocator] or 'none'}); nginx allocator: {args.nginx_allocator} "
          f"(LD_PRELOAD={ALLOCATORS[args.nginx_allocator] or 'none'})")
    print_table(results)
    if args.json:
        with open(args.json, "a") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")


def print_table(results):
    print("| workload | path | req/s | CPU µs/request (total) | of which | non-2xx | "
          "all runs: req/s; CPU µs |")
    print("|---|---|---:|---:|---|---:|---|")
    for r in results:
        parts = ", ".join(f"{k} {v}" for k, v in r["cpu_us_per_request"].items())
        print(f"| {r['workload']} | {r['path']} | {r['rps']:.0f} | "
              f"{r['cpu_us_per_request_total']} | {parts} | {r['non_2xx']} | "
              f"{r['rps_all']}; {r['cpu_us_total_all']} |")
    by = {(r["workload"], r["path"]): r for r in results}
    for workload in dict.fromkeys(r["workload"] for r in results):
        n, s = by.get((workload, "nginx")), by.get((workload, "spoa"))
        h = by.get((workload, "host-only"))
        if n and s:
            line = (f"{workload}: spoa/nginx req/s {s['rps'] / n['rps']:.2f}; CPU per request "
                    f"spoa path {s['cpu_us_per_request_total']} us vs nginx "
                    f"{n['cpu_us_per_request_total']} us (ratio "
                    f"{s['cpu_us_per_request_total'] / max(n['cpu_us_per_request_total'], 0.1):.2f})")
            if h:
                line += (f"; host-only spoa-host {h['cpu_us_per_request']['spoa-host']} us of "
                         f"spoa-host's {s['cpu_us_per_request']['spoa-host']} us")
            print(line)


if __name__ == "__main__":
    main()
