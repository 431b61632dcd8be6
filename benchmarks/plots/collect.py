#!/usr/bin/env python3
"""Runs the spoa-bench series that the plots draw, against spoa-host (echo plugin) and/or
the precomputed-ACK agent (`spoa-bench --serve`), each started here on a free loopback
port with --agent-threads I/O threads. Appends one spoa-bench JSON line per run to
OUT/bench.jsonl, with --label "<agent>" and the series name in "series":

  latency   1 connection x 1 in flight, and 4 x 32
  scaling   --scaling-connections (1 4 16 64 256) x --inflight (default 16)

Every run is bounded (--duration, plus spoa-bench's own timeouts); every process is
stopped by PID. Standard library only.
"""
import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def parse_duration(text):
    m = re.fullmatch(r"([0-9.]+)(ms|s|m)?", text)
    if not m:
        raise argparse.ArgumentTypeError(f"not a duration: {text}")
    return float(m.group(1)) * {"ms": 1e-3, "s": 1, None: 1, "m": 60}[m.group(2)]


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


def start_agent(kind, args, port, outdir, bound):
    if kind == "spoa-host":
        cmd = ["timeout", str(bound), os.path.join(args.build_dir, "server", "spoa-host"), "-c", args.agent_config,
               "--listen", f"127.0.0.1:{port}", "--threads", str(args.agent_threads),
               "--plugin-dir", os.path.join(args.build_dir, "plugins"), "--log-level", "warn"]
    else:
        cmd = [args.bench, "--serve", f"127.0.0.1:{port}", "--threads", str(args.agent_threads),
               "--duration", f"{bound}s"]
        for a in args.args:
            cmd += ["--arg", a]
    # Own session: a signal to the group reaches spoa-host behind `timeout`.
    proc = subprocess.Popen(cmd, stdout=open(os.path.join(outdir, f"{kind}.log"), "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)
    pid = proc.pid
    if cmd[0] == "timeout":  # the agent is `timeout`'s only child
        for _ in range(100):
            try:
                with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                    kids = f.read().split()
                if kids:
                    pid = int(kids[0])
                    break
            except OSError:
                pass
            time.sleep(0.05)
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, pid
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{kind} does not listen on {port}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.path.join(REPO, "build", "h-bench"))
    p.add_argument("--agent-config", default=os.path.join(REPO, "config", "spoa-host.toml"))
    p.add_argument("--agents", default="spoa-host", help="comma list of spoa-host, precomputed (default spoa-host)")
    p.add_argument("--agent-threads", type=int, default=1)
    p.add_argument("--bench-threads", type=int, default=1, help="spoa-bench --threads (default 1)")
    p.add_argument("--duration", type=parse_duration, default=10.0, help="each run (default 10s)")
    p.add_argument("--warmup", type=parse_duration, default=1.0)
    p.add_argument("--inflight", type=int, default=16, help="in flight per connection, scaling series")
    p.add_argument("--scaling-connections", default="1,4,16,64,256")
    p.add_argument("--series", default="latency,scaling")
    p.add_argument("--arg", dest="args", action="append",
                   help="spoa-bench --arg (default ip=ipv4:10.0.0.1 path=string:/index.html)")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    args.args = args.args or ["ip=ipv4:10.0.0.1", "path=string:/index.html"]
    args.bench = os.path.join(args.build_dir, "benchmarks", "spoa-bench", "spoa-bench")
    outdir = args.out or tempfile.mkdtemp(prefix="spoa-plots-")
    os.makedirs(outdir, exist_ok=True)
    series = [s.strip() for s in args.series.split(",")]

    runs = []
    if "latency" in series:
        runs += [("latency", 1, 1), ("latency", 4, 32)]
    if "scaling" in series:
        runs += [("scaling", int(c), args.inflight) for c in args.scaling_connections.split(",")]

    failures = 0
    for kind in [a.strip() for a in args.agents.split(",")]:
        bound = int(len(runs) * (args.duration + args.warmup + 15) + 30)
        port = free_port()
        proc, pid = start_agent(kind, args, port, outdir, bound)
        try:
            for name, conns, inflight in runs:
                cmd = [args.bench, "--connect", f"127.0.0.1:{port}", "--connections", str(conns),
                       "--inflight", str(inflight), "--threads", str(min(args.bench_threads, conns)),
                       "--duration", f"{args.duration:g}s", "--warmup", f"{args.warmup:g}s",
                       "--agent-pid", str(pid), "--json", "--label", kind]
                for a in args.args:
                    cmd += ["--arg", a]
                if kind == "precomputed":
                    cmd += ["--verify", "echo"]
                out = subprocess.run(cmd, capture_output=True, text=True,
                                     timeout=args.duration + args.warmup + 60)
                line = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "{}"
                result = json.loads(line)
                result["series"] = name
                result["exit_status"] = out.returncode
                failures += out.returncode != 0
                with open(os.path.join(outdir, "bench.jsonl"), "a") as f:
                    f.write(json.dumps(result) + "\n")
                log(f"{kind:12} {name:8} {conns:4} x {inflight:3}: {result.get('frames_per_s', 0):10.0f} frames/s  "
                    f"p50 {result['latency_us']['p50']:8.1f} us  p99 {result['latency_us']['p99']:8.1f} us  "
                    f"agent {result.get('agent_cpu_us_per_frame') or 0:.2f} us/frame  errors {result.get('errors')}")
        finally:
            proc.send_signal(signal.SIGTERM)  # `timeout` passes SIGTERM on
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # still unreaped: the group is still ours
                proc.wait()
    print(os.path.join(outdir, "bench.jsonl"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
