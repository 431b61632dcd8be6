#!/usr/bin/env python3
"""End-to-end benchmark: wrk -> HAProxy (SPOE filter) -> agent.

HAProxy's config comes from config/haproxy.cfg + config/spoe.conf (edited for the run:
free loopback ports, nbthread 1, no logging, the reference args; see
render_repo_configs), or with --config-source bench from the minimal templates beside
this script (HAProxy answers the request itself, no backend hop).

Three runs on the same HAProxy config, each with its own HAProxy process:
  plain        the frontend without the SPOE filter: the ceiling
  precomputed  SPOE filter -> `spoa-bench --serve`, which answers every NOTIFY with one
               fixed ACK (same variables as echo): the yardstick
  echo         SPOE filter -> spoa-host with the echo plugin
For each: requests/s, wrk latency, CPU per request of HAProxy and of the agent
(utime+stime from /proc/PID/stat over the measured wrk run), and the ratios.
Prints a table, writes one JSON line per run to OUT/e2e.jsonl.

Every process it starts is bounded in time and killed by PID at exit. Loopback only.
Installs wrk with apt-get if it is missing. Standard library only.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CLK_TCK = os.sysconf("SC_CLK_TCK")

STARTED = []  # Popen objects, killed at exit


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# Ports stay reserved until the script exits: each is bound (SO_REUSEADDR, never
# listening), so no other process's port-0 bind() gets it, while the agent and HAProxy
# (both SO_REUSEADDR) bind beside the reservation. No pick-close-reuse race.
RESERVED_PORTS = []


def free_port():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    RESERVED_PORTS.append(s)
    return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime = field 14, stime = field 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def start(cmd, log_path, cpus=None, preexec=None):
    if cpus:
        cmd = ["taskset", "-c", cpus] + cmd
    out = open(log_path, "w")
    # Own session: a signal to the group reaches the real process behind taskset/timeout
    # (`timeout` cannot pass SIGKILL on).
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, preexec_fn=preexec,
                            start_new_session=True)
    STARTED.append(proc)
    return proc


def signal_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)  # the group start() created for this process only
    except ProcessLookupError:
        pass


def stop(proc, sig=signal.SIGTERM, grace=5.0):
    # Only while the leader is unreaped: its pid (= the group id) cannot be reused then.
    # `timeout` exits only after its child, so nothing outlives a reaped leader.
    if proc.poll() is None:
        signal_group(proc, sig)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            signal_group(proc, signal.SIGKILL)
            proc.wait()
    if proc in STARTED:
        STARTED.remove(proc)


def cleanup():
    for proc in list(STARTED):
        stop(proc, signal.SIGTERM, 2.0)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    log("wrk not found: installing it with apt-get")
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


def parse_duration(text):
    m = re.fullmatch(r"([0-9.]+)(ms|us|s|m|h)?", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]
    return float(m.group(1)) * scale


def wrk_seconds(seconds):
    return f"{max(1, round(seconds))}s"  # wrk takes whole seconds only


def to_ms(value, unit):
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def parse_wrk(text):
    r = {}
    m = re.search(r"Latency\s+([0-9.]+)(us|ms|s)\s+([0-9.]+)(us|ms|s)\s+([0-9.]+)(us|ms|s)", text)
    if m:
        r["latency_avg_ms"] = to_ms(m.group(1), m.group(2))
        r["latency_stdev_ms"] = to_ms(m.group(3), m.group(4))
        r["latency_max_ms"] = to_ms(m.group(5), m.group(6))
    for pct, value, unit in re.findall(r"^\s+(50|75|90|99)%\s+([0-9.]+)(us|ms|s)\s*$", text, re.M):
        r[f"latency_p{pct}_ms"] = to_ms(value, unit)
    m = re.search(r"(\d+) requests in ([0-9.]+)(us|ms|s|m)", text)
    if m:
        r["requests"] = int(m.group(1))
        r["wrk_seconds"] = to_ms(m.group(2), m.group(3)) / 1e3
    m = re.search(r"Requests/sec:\s+([0-9.]+)", text)
    if m:
        r["requests_per_s"] = float(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    r["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    r["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    return r


def check_request(http_port, check):
    url = f"http://127.0.0.1:{http_port}/index.html"
    with urllib.request.urlopen(url, timeout=3) as resp:
        body = resp.read().decode(errors="replace")
        if resp.status != 200:
            raise RuntimeError(f"sanity request: HTTP {resp.status}")
        check(resp, body)


def render_bench_configs(args, spoe, workdir, http_port, agent_port):
    """The minimal templates beside this script: HAProxy answers itself."""
    spoe_conf = os.path.join(workdir, "spoe.conf")
    with open(os.path.join(HERE, "spoe.conf.in")) as f:
        text = string.Template(f.read()).substitute(message=args.message, args=args.spoe_args)
    with open(spoe_conf, "w") as f:
        f.write(text)
    if spoe:
        rules = (f"    filter spoe engine bench config {spoe_conf}\n"
                 "    http-request deny deny_status 500 unless { var(txn.bench.path) -m found }\n"
                 '    http-request return status 200 content-type text/plain lf-string "%[var(txn.bench.path)]"')
    else:
        rules = '    http-request return status 200 content-type text/plain lf-string "%[path]"'
    cfg = os.path.join(workdir, "haproxy.cfg")
    with open(os.path.join(HERE, "haproxy.cfg.in")) as f:
        text = string.Template(f.read()).substitute(
            http_port=http_port, frontend_rules=rules, agent_address=f"127.0.0.1:{agent_port}")
    with open(cfg, "w") as f:
        f.write(text)

    def check(resp, body):
        if body != "/index.html":
            raise RuntimeError(f"sanity request: body {body!r}, want '/index.html'")
    return cfg, check


def render_repo_configs(args, spoe, workdir, http_port, agent_port):
    """config/haproxy.cfg + config/spoe.conf with mechanical edits, each checked:
    nbthread 1 and no logging (global/defaults), every 127.0.0.1 port moved to a free one
    (the SPOE frontend to http_port, the spoa_agents servers to agent_port), the filter
    pointed at the edited spoe.conf (removed for the plain run), the spoe-message args
    replaced by --spoe-args, and `http-request deny` when the agent's path variable is
    missing, so that an SPOE failure is a non-2xx answer in wrk's count."""
    with open(os.path.join(REPO, "config", "spoe.conf")) as f:
        spoe_text = f.read()
    m = re.search(r"^\s*option\s+var-prefix\s+(\S+)", spoe_text, re.M)
    prefix = m.group(1) if m else None
    spoe_text, n = re.subn(r"^(\s*)args\s.*$", lambda mm: mm.group(1) + "args " + args.spoe_args, spoe_text,
                           flags=re.M)
    if n != 1 or not prefix:
        raise RuntimeError("config/spoe.conf: expected one `args` line and an `option var-prefix`")
    spoe_conf = os.path.join(workdir, "spoe.conf")
    with open(spoe_conf, "w") as f:
        f.write(spoe_text)

    with open(os.path.join(REPO, "config", "haproxy.cfg")) as f:
        lines = f.read().splitlines()
    out, section, filter_seen = [], "", False
    ports = {}
    for line in lines:
        stripped = line.strip()
        if line and not line[0].isspace() and not line.startswith("#"):
            section = stripped
            out.append(line)
            if section == "global":
                out.append("    nbthread 1")
            continue
        if re.match(r"(log|option\s+httplog|nbthread)\b", stripped):
            continue  # no per-request logging in a throughput run
        m = re.match(r"(\s*)filter\s+spoe\s+engine\s+(\S+)\s+config\s+\S+", line)
        if m:
            filter_seen = True
            if spoe:
                out.append(f"{m.group(1)}filter spoe engine {m.group(2)} config {spoe_conf}")
                out.append(f"{m.group(1)}http-request deny deny_status 500 unless "
                           f"{{ var(txn.{prefix}.path) -m found }}")
            continue
        if section.startswith("backend spoa_agents") and stripped.startswith("server "):
            line = re.sub(r"127\.0\.0\.1:\d+", f"127.0.0.1:{agent_port}", line)
        elif "127.0.0.1:" in line:
            def move(mm):
                old = mm.group(1)
                if old not in ports:
                    ports[old] = http_port if section.startswith("frontend") and "bind" in stripped else free_port()
                return f"127.0.0.1:{ports[old]}"
            line = re.sub(r"127\.0\.0\.1:(\d+)", move, line)
        out.append(line)
    if not filter_seen or http_port not in ports.values():
        raise RuntimeError("config/haproxy.cfg: no `filter spoe` line or no frontend bind on 127.0.0.1")
    cfg = os.path.join(workdir, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write("# Derived from config/haproxy.cfg by benchmarks/e2e/run.py\n" + "\n".join(out) + "\n")

    def check(resp, body):
        if spoe and resp.headers.get("X-Spoa-Path") not in (None, "/index.html"):
            raise RuntimeError(f"sanity request: X-Spoa-Path {resp.headers.get('X-Spoa-Path')!r}")
    return cfg, check


def run_variant(args, variant, outdir, repeat):
    http_port = free_port()
    agent_port = free_port()
    workdir = os.path.join(outdir, f"{variant}-{repeat}")
    os.makedirs(workdir, exist_ok=True)
    spoe = variant != "plain"
    render = render_repo_configs if args.config_source == "repo" else render_bench_configs
    cfg, check = render(args, spoe, workdir, http_port, agent_port)
    subprocess.run([args.haproxy, "-c", "-q", "-f", cfg], check=True)

    bound = str(int(args.warmup + args.duration + 60))  # every process is time-bounded
    agent = None
    if variant == "echo":
        cmd = ["timeout", bound, args.spoa_host, "-c", args.agent_config,
               "--listen", f"127.0.0.1:{agent_port}", "--threads", str(args.agent_threads),
               "--plugin-dir", os.path.join(args.build_dir, "plugins"), "--log-level", "warn"]
        agent = start(cmd, os.path.join(workdir, "agent.log"), args.cpus_agent)
    elif variant == "precomputed":
        cmd = [args.spoa_bench, "--serve", f"127.0.0.1:{agent_port}", "--threads", str(args.agent_threads),
               "--duration", f"{bound}s", "--scope", "txn"]
        for a in args.bench_args:
            cmd += ["--arg", a]
        agent = start(cmd, os.path.join(workdir, "agent.log"), args.cpus_agent)
    if agent:
        wait_port(agent_port, agent)
    haproxy = start(["timeout", bound, args.haproxy, "-db", "-f", cfg], os.path.join(workdir, "haproxy.log"),
                    args.cpus_haproxy)
    wait_port(http_port, haproxy)

    # The pids to measure: `timeout` forks the real process as its only child.
    def real_pid(proc):
        if "timeout" not in proc.args[:4]:
            return proc.pid
        for _ in range(50):
            try:
                with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                    kids = f.read().split()
                if kids:
                    return int(kids[0])
            except OSError:
                pass
            time.sleep(0.02)
        return proc.pid

    haproxy_pid = real_pid(haproxy)
    agent_pid = real_pid(agent) if agent else None
    check_request(http_port, check)

    url = f"http://127.0.0.1:{http_port}/index.html"
    wrk = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.wrk_connections), "--timeout", "2s"]
    if args.cpus_wrk:
        wrk = ["taskset", "-c", args.cpus_wrk] + wrk
    if args.warmup > 0:
        subprocess.run(wrk + ["-d", wrk_seconds(args.warmup), url], stdout=subprocess.DEVNULL, check=True,
                       timeout=args.warmup + 30)
    h0 = cpu_seconds(haproxy_pid)
    a0 = cpu_seconds(agent_pid) if agent_pid else None
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(wrk + ["--latency", "-d", wrk_seconds(args.duration), url], capture_output=True, text=True,
                         check=True, timeout=args.duration + 30).stdout
    h1 = cpu_seconds(haproxy_pid)
    a1 = cpu_seconds(agent_pid) if agent_pid else None
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    with open(os.path.join(workdir, "wrk.txt"), "w") as f:
        f.write(out)
    r = parse_wrk(out)
    r.update(tool="e2e", variant=variant, label=args.label, config_source=args.config_source,
             duration_s=args.duration,
             wrk_connections=args.wrk_connections, wrk_threads=args.wrk_threads,
             agent_threads=args.agent_threads if agent else None, spoe_args=args.spoe_args if spoe else None,
             haproxy_cpu_s=round(h1 - h0, 3), wrk_cpu_s=round(wrk_cpu, 3), haproxy_pid=haproxy_pid, agent_pid=agent_pid,
             agent_cpu_s=round(a1 - a0, 3) if agent_pid else None,
             agent_rss_kib=rss_kib(agent_pid) if agent_pid else None)
    n = r.get("requests") or 0
    r["haproxy_cpu_us_per_req"] = round((h1 - h0) * 1e6 / n, 3) if n else None
    r["agent_cpu_us_per_req"] = round((a1 - a0) * 1e6 / n, 3) if n and agent_pid else None

    stop(haproxy, signal.SIGTERM)  # `timeout` passes SIGTERM on (not SIGUSR1)
    if agent:
        stop(agent, signal.SIGTERM)
        r["agent_exit"] = agent.returncode
    return r


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.path.join(REPO, "build", "h-bench"),
                   help="CMake build dir with spoa-host, plugins/echo.so, spoa-bench (default build/h-bench)")
    p.add_argument("--duration", type=parse_duration, default=10.0, help="measured wrk run (default 10s)")
    p.add_argument("--warmup", type=parse_duration, default=2.0, help="unmeasured wrk run first (default 2s)")
    p.add_argument("--wrk-connections", type=int, default=50, help="wrk -c (default 50)")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk -t (default 1)")
    p.add_argument("--agent-threads", type=int, default=1, help="agent I/O threads (default 1)")
    p.add_argument("--repeat", type=int, default=1,
                   help="run the variants N times, interleaved; the table shows medians (default 1)")
    p.add_argument("--variants", default="plain,precomputed,echo",
                   help="comma list of plain, precomputed, echo (default all three)")
    p.add_argument("--message", default="echo", help="SPOE message name (default echo)")
    p.add_argument("--spoe-args", default="ip=src path=path",
                   help='spoe-message args (default "ip=src path=path")')
    p.add_argument("--bench-arg", dest="bench_args", action="append",
                   help="--arg for the precomputed agent's fixed ACK (default: ip=ipv4:127.0.0.1, "
                        "path=string:/index.html, what echo answers to wrk)")
    p.add_argument("--agent-config", default=os.path.join(REPO, "config", "spoa-host.toml"),
                   help="spoa-host config (default config/spoa-host.toml; --listen/--threads override it)")
    p.add_argument("--config-source", choices=["auto", "repo", "bench"], default="auto",
                   help="repo: config/haproxy.cfg + config/spoe.conf, edited for the run; bench: the "
                        "minimal templates in benchmarks/e2e/ (HAProxy answers itself); auto (default): "
                        "repo when both files exist")
    p.add_argument("--haproxy", default=shutil.which("haproxy") or "/usr/sbin/haproxy")
    p.add_argument("--cpus-haproxy", help="taskset CPU list for HAProxy (e.g. 0)")
    p.add_argument("--cpus-agent", help="taskset CPU list for the agent")
    p.add_argument("--cpus-wrk", help="taskset CPU list for wrk")
    p.add_argument("--out", default=None, help="results folder (default a new one in /tmp)")
    p.add_argument("--label", default="", help="copied into each JSON line")
    args = p.parse_args()
    args.bench_args = args.bench_args or ["ip=ipv4:127.0.0.1", "path=string:/index.html"]
    args.spoa_host = os.path.join(args.build_dir, "server", "spoa-host")
    args.spoa_bench = os.path.join(args.build_dir, "benchmarks", "spoa-bench", "spoa-bench")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for v in variants:
        if v not in ("plain", "precomputed", "echo"):
            p.error(f"unknown variant {v}")
    needed = {"echo": [args.spoa_host], "precomputed": [args.spoa_bench]}
    for v in variants:
        for path in needed.get(v, []):
            if not os.access(path, os.X_OK):
                p.error(f"{path} is missing: build it (see benchmarks/README.md)")
    if args.config_source == "auto":
        repo_files = [os.path.join(REPO, "config", n) for n in ("haproxy.cfg", "spoe.conf")]
        args.config_source = "repo" if all(os.path.exists(f) for f in repo_files) else "bench"
    ensure_wrk()
    outdir = args.out or tempfile.mkdtemp(prefix="spoa-e2e-")
    os.makedirs(outdir, exist_ok=True)

    runs = {v: [] for v in variants}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        # Interleaved (plain, precomputed, echo, plain, ...) so that drifting background
        # load hits every variant alike; the table shows each variant's median run.
        for i in range(args.repeat):
            for v in variants:
                log(f"e2e: {v} ({i + 1}/{args.repeat}) ...")
                r = run_variant(args, v, outdir, i)
                r["repeat"] = i
                runs[v].append(r)
                with open(os.path.join(outdir, "e2e.jsonl"), "a") as f:
                    f.write(json.dumps(r) + "\n")
    finally:
        cleanup()
    results = {v: sorted(rs, key=lambda r: r.get("requests_per_s") or 0)[len(rs) // 2] for v, rs in runs.items()}

    base = results.get("plain", {}).get("requests_per_s")
    yard = results.get("precomputed", {}).get("requests_per_s")
    if args.repeat > 1:
        print(f"medians of {args.repeat} interleaved runs per variant")
    fmt = "{:<12} {:>10} {:>8} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9} {:>10}"
    print(fmt.format("variant", "req/s", "p50 ms", "p99 ms", "errors", "haproxy", "agent", "wrk", "vs plain",
                     "vs precomp"))
    print(fmt.format("", "", "", "", "", "us/req", "us/req", "us/req", "", ""))
    bad = sum(r.get("non_2xx", 0) + r.get("socket_errors", 0) for rs in runs.values() for r in rs)
    for v, r in results.items():
        rps = r.get("requests_per_s") or 0
        errors = r.get("non_2xx", 0) + r.get("socket_errors", 0)
        ratio = lambda ref: f"{(rps / ref - 1) * 100:+.1f}%" if ref else "-"
        n = r.get("requests") or 0
        wrk_us = f"{r['wrk_cpu_s'] * 1e6 / n:.3f}" if n else "-"
        print(fmt.format(v, f"{rps:.0f}", f"{r.get('latency_p50_ms', 0):.3f}", f"{r.get('latency_p99_ms', 0):.3f}",
                         errors, r.get("haproxy_cpu_us_per_req") or "-", r.get("agent_cpu_us_per_req") or "-",
                         wrk_us, ratio(base) if v != "plain" else "", ratio(yard) if v == "echo" else ""))
    print(f"results: {outdir}/e2e.jsonl (logs and configs beside it)")
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        cleanup()
