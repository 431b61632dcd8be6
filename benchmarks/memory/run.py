#!/usr/bin/env python3
"""Memory check of spoa-host (echo plugin, config/spoa-host.toml, loopback only).

1. idle: RSS of the agent holding --connections (default 10,000) idle SPOP connections
   (HELLO done, no traffic), opened and held by `spoa-bench --idle`; RSS per connection.
2. soak: RSS before and after `spoa-bench` loads the agent for --soak (default 10m),
   sampled every --sample-every into OUT/soak-rss.tsv; the growth over the soak.

Raises RLIMIT_NOFILE for itself and the agent (the agent needs one fd per connection).
Every process it starts is bounded in time and stopped by PID. Prints a summary and writes
one JSON line to OUT/memory.jsonl. Standard library only.
"""
import argparse
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
STARTED = []


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_duration(text):
    m = re.fullmatch(r"([0-9.]+)(ms|s|m|h)?", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text}")
    return float(m.group(1)) * {"ms": 1e-3, "s": 1, None: 1, "m": 60, "h": 3600}[m.group(2)]


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


def status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def raise_nofile(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))  # root may raise hard
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def run_bench(cmd, timeout):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "{}"
    try:
        result = json.loads(line)
    except json.JSONDecodeError:
        result = {}
    result["exit_status"] = out.returncode
    if out.returncode != 0:
        log(f"spoa-bench exited with {out.returncode}: {result.get('error_samples') or out.stderr.strip()}")
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.path.join(REPO, "build", "h-bench"))
    p.add_argument("--agent-config", default=os.path.join(REPO, "config", "spoa-host.toml"))
    p.add_argument("--agent-threads", type=int, default=1, help="spoa-host --threads (default 1)")
    p.add_argument("--connections", type=int, default=10000, help="idle connections (default 10000)")
    p.add_argument("--hold", type=parse_duration, default=20.0, help="how long they stay open (default 20s)")
    p.add_argument("--soak", type=parse_duration, default=600.0, help="soak duration (default 10m; 0 = skip)")
    p.add_argument("--soak-connections", type=int, default=64)
    p.add_argument("--soak-inflight", type=int, default=16)
    p.add_argument("--soak-arg", action="append",
                   help="--arg for the soak NOTIFYs (default ip, path and an 800-byte binary hdrs)")
    p.add_argument("--sample-every", type=parse_duration, default=10.0, help="RSS sampling period (default 10s)")
    p.add_argument("--out", default=None, help="results folder (default a new one in /tmp)")
    p.add_argument("--label", default="")
    args = p.parse_args()
    soak_args = args.soak_arg or ["ip=ipv4:10.0.0.1", "path=string:/index.html", "hdrs=binary-size:800"]
    spoa_host = os.path.join(args.build_dir, "server", "spoa-host")
    bench = os.path.join(args.build_dir, "benchmarks", "spoa-bench", "spoa-bench")
    for path in (spoa_host, bench):
        if not os.access(path, os.X_OK):
            p.error(f"{path} is missing: build it (see benchmarks/README.md)")
    outdir = args.out or tempfile.mkdtemp(prefix="spoa-memory-")
    os.makedirs(outdir, exist_ok=True)

    # The agent inherits this limit: one fd per connection plus its own.
    nofile = raise_nofile(args.connections + 1024)
    if nofile < args.connections + 64:
        log(f"warning: RLIMIT_NOFILE is {nofile}, fewer than {args.connections} connections will fit")

    port = free_port()
    bound = int(args.hold + args.soak + 180)
    agent_cmd = ["timeout", str(bound), spoa_host, "-c", args.agent_config, "--listen", f"127.0.0.1:{port}",
                 "--threads", str(args.agent_threads), "--plugin-dir", os.path.join(args.build_dir, "plugins"),
                 "--log-level", "warn"]
    agent_log = open(os.path.join(outdir, "agent.log"), "w")
    # Own session: a signal to the group reaches spoa-host behind `timeout`.
    wrapper = subprocess.Popen(agent_cmd, stdout=agent_log, stderr=subprocess.STDOUT, start_new_session=True)
    STARTED.append(wrapper)
    summary = {"tool": "memory", "label": args.label, "agent_threads": args.agent_threads}
    try:
        # `timeout` forks the agent as its only child: that is the pid to watch.
        pid = None
        for _ in range(100):
            try:
                with open(f"/proc/{wrapper.pid}/task/{wrapper.pid}/children") as f:
                    kids = f.read().split()
                if kids:
                    pid = int(kids[0])
                    break
            except OSError:
                pass
            time.sleep(0.05)
        if pid is None:
            raise RuntimeError("spoa-host did not start")
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if wrapper.poll() is not None:
                    raise RuntimeError(f"spoa-host exited with {wrapper.returncode}; see {outdir}/agent.log")
                time.sleep(0.05)
        time.sleep(1.0)
        summary["agent_pid"] = pid
        summary["rss_start_kib"] = status_kib(pid, "VmRSS")
        log(f"agent pid {pid}: RSS {summary['rss_start_kib']} KiB at rest")

        # 1. Idle connections.
        ready = os.path.join(outdir, "idle.ready")
        cmd = [bench, "--connect", f"127.0.0.1:{port}", "--idle", "--connections", str(args.connections),
               "--duration", f"{args.hold:g}s", "--timeout", "10s", "--agent-pid", str(pid),
               "--ready-file", ready, "--json", "--label", "idle"]
        idle_proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        STARTED.append(idle_proc)
        deadline = time.monotonic() + 120
        while not os.path.exists(ready) and idle_proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(min(2.0, args.hold / 4))
        rss_idle = status_kib(pid, "VmRSS")
        fds_idle = fd_count(pid)
        out, _ = idle_proc.communicate(timeout=args.hold + 120)
        STARTED.remove(idle_proc)
        idle = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        up = idle.get("connections_up", 0)
        summary.update(
            idle_connections=up, idle_errors=idle.get("errors"), idle_agent_fds=fds_idle, idle_rss_kib=rss_idle,
            idle_rss_end_kib=idle.get("agent_rss_end_kib"),
            idle_kib_per_connection=round((rss_idle - summary["rss_start_kib"]) / up, 3) if up else None,
            idle_exit_status=idle_proc.returncode)
        time.sleep(2.0)
        summary["rss_after_idle_kib"] = status_kib(pid, "VmRSS")
        log(f"idle: {up} connections (agent fds {fds_idle}), RSS {rss_idle} KiB "
            f"= {summary['idle_kib_per_connection']} KiB/connection; after they closed: "
            f"{summary['rss_after_idle_kib']} KiB")

        # 2. Soak.
        if args.soak > 0:
            summary["rss_before_soak_kib"] = status_kib(pid, "VmRSS")
            cmd = [bench, "--connect", f"127.0.0.1:{port}", "--connections", str(args.soak_connections),
                   "--inflight", str(args.soak_inflight), "--duration", f"{args.soak:g}s", "--warmup", "0",
                   "--agent-pid", str(pid), "--json", "--label", "soak"]
            for a in soak_args:
                cmd += ["--arg", a]
            soak_proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
            STARTED.append(soak_proc)
            t0 = time.monotonic()
            samples = []
            with open(os.path.join(outdir, "soak-rss.tsv"), "w") as tsv:
                tsv.write("seconds\trss_kib\n")
                next_sample = 0.0
                while soak_proc.poll() is None and time.monotonic() - t0 < args.soak + 120:
                    now = time.monotonic() - t0
                    if now >= next_sample:
                        rss = status_kib(pid, "VmRSS")
                        samples.append([round(now, 1), rss])
                        tsv.write(f"{samples[-1][0]}\t{rss}\n")
                        tsv.flush()
                        next_sample += args.sample_every
                    time.sleep(0.1)
            out, _ = soak_proc.communicate(timeout=args.soak + 180)
            STARTED.remove(soak_proc)
            soak = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
            time.sleep(2.0)
            summary.update(
                soak_s=args.soak, soak_frames=soak.get("frames"), soak_frames_per_s=soak.get("frames_per_s"),
                soak_errors=soak.get("errors"), soak_exit_status=soak_proc.returncode,
                soak_latency_us=soak.get("latency_us"), soak_agent_cpu_us_per_frame=soak.get("agent_cpu_us_per_frame"),
                rss_after_soak_kib=status_kib(pid, "VmRSS"), rss_peak_kib=status_kib(pid, "VmHWM"),
                soak_rss_samples=samples)
            summary["soak_rss_growth_kib"] = summary["rss_after_soak_kib"] - summary["rss_before_soak_kib"]
            log(f"soak {args.soak:g}s: {soak.get('frames')} frames ({soak.get('frames_per_s', 0):.0f}/s), "
                f"errors {soak.get('errors')}; RSS {summary['rss_before_soak_kib']} -> "
                f"{summary['rss_after_soak_kib']} KiB (peak {summary['rss_peak_kib']} KiB)")
    finally:
        for proc in STARTED:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # `timeout` passes SIGTERM on to spoa-host
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    if proc is wrapper:  # still unreaped: its group id is still ours
                        os.killpg(wrapper.pid, signal.SIGKILL)
                    else:
                        proc.kill()
                    proc.wait()
        summary["agent_exit_status"] = wrapper.returncode
    with open(os.path.join(outdir, "memory.jsonl"), "a") as f:
        f.write(json.dumps(summary) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "soak_rss_samples"}, indent=1))
    print(f"results: {outdir}/memory.jsonl, {outdir}/soak-rss.tsv")
    failed = (summary.get("idle_exit_status") != 0 or summary.get("idle_connections") != args.connections
              or summary.get("soak_exit_status", 0) != 0)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
