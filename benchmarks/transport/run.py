#!/usr/bin/env python3
"""Agent CPU per frame over a unix socket vs loopback TCP (spoa-host, echo plugin).

One spoa-host (1 I/O thread, the echo plugin) listens on 127.0.0.1:0 and on a unix socket
in a temporary folder at once; spoa-bench then loads each in turn, interleaved, --repeat
times per shape (connections x in flight), and reads the agent's CPU time (utime + stime
from /proc, all threads) over each measured window. The figure that matters is the
agent's CPU per frame: what the transport costs the kernel on the agent's side (wall-clock
rates on a shared machine are noise; CPU time much less so). Prints medians and writes
one JSON line per run to --out (default: stdout only).

    python3 benchmarks/transport/run.py --build-dir build/release --repeat 5 --duration 5s
    python3 benchmarks/transport/run.py --shapes 128x1,4x32 --cpus-agent 1 --cpus-bench 0

Every process it starts is stopped by its PID; every load is bounded by --duration.
Standard library only.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def log(message):
    print(message, file=sys.stderr, flush=True)


def pinned(cpus, argv):
    return (["taskset", "-c", cpus] + argv) if cpus else argv


def start_agent(args, workdir, unix_path):
    config = os.path.join(workdir, "bench.toml")
    with open(config, "w", encoding="utf-8") as f:
        f.write(f'[server]\nlisten = ["127.0.0.1:0", "unix:{unix_path}"]\nthreads = 1\n'
                "max_connections = 10000\n\n[log]\nlevel = \"warn\"\ntarget = \"stderr\"\n\n"
                '[plugins.echo]\npath = "echo.so"\nmessages = ["echo"]\n')
    log_path = os.path.join(workdir, "agent.log")
    log_file = open(log_path, "wb")
    argv = pinned(args.cpus_agent,
                  [os.path.join(args.build_dir, "server", "spoa-host"), "-c", config,
                   "--plugin-dir", os.path.join(args.build_dir, "plugins"), "--log-level", "info"])
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_file,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            match = re.search(r"ready: listening on (127\.0\.0\.1:\d+)", f.read())
        if match:
            return proc, match.group(1)
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    with open(log_path, encoding="utf-8", errors="replace") as f:
        raise SystemExit("spoa-host did not become ready:\n" + f.read())


def bench(args, address, connections, inflight, agent_pid, label):
    argv = pinned(args.cpus_bench,
                  [os.path.join(args.build_dir, "benchmarks", "spoa-bench", "spoa-bench"),
                   "--connect", address, "--connections", str(connections),
                   "--inflight", str(inflight), "--duration", args.duration, "--warmup", "1s",
                   # An ACK late by seconds on a shared machine is noise here, not a failure.
                   "--timeout", "60s",
                   "--agent-pid", str(agent_pid), "--json", "--label", label])
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         timeout=600, check=False)
    if out.returncode != 0:
        raise SystemExit(f"spoa-bench failed ({out.returncode}):\n{out.stdout}{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", default=os.path.join(REPO, "build", "release"))
    parser.add_argument("--shapes", default="128x1,4x32",
                        help="connections x in flight, comma-separated (default 128x1,4x32)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--duration", default="5s")
    parser.add_argument("--cpus-agent", default="", help="taskset CPU list for the agent")
    parser.add_argument("--cpus-bench", default="", help="taskset CPU list for spoa-bench")
    parser.add_argument("--out", help="append one JSON line per run to this file")
    args = parser.parse_args()
    args.build_dir = os.path.abspath(args.build_dir)
    shapes = []
    for shape in args.shapes.split(","):
        c, p = shape.lower().split("x")
        shapes.append((int(c), int(p)))

    workdir = tempfile.mkdtemp(prefix="spoa-transport-")
    unix_path = os.path.join(workdir, "agent.sock")
    agent, tcp_address = start_agent(args, workdir, unix_path)
    results = {}
    try:
        for round_number in range(1, args.repeat + 1):
            for connections, inflight in shapes:
                # Interleaved, so that a change in the machine's load hits both alike.
                for transport, address in (("tcp", tcp_address), ("unix", f"unix:{unix_path}")):
                    label = f"{transport} {connections}x{inflight} #{round_number}"
                    run = bench(args, address, connections, inflight, agent.pid, label)
                    if run.get("errors"):
                        raise SystemExit(f"{label}: {run['errors']} errors: {run['error_kinds']}")
                    run["transport"] = transport
                    key = (connections, inflight, transport)
                    results.setdefault(key, []).append(run)
                    log(f"{label}: {run['frames_per_s']:.0f} frames/s, agent "
                        f"{run['agent_cpu_us_per_frame']:.3f} us CPU/frame")
                    if args.out:
                        with open(args.out, "a", encoding="utf-8") as f:
                            f.write(json.dumps(run) + "\n")
    finally:
        agent.send_signal(signal.SIGTERM)
        try:
            agent.wait(30)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"agent CPU per frame, median of {args.repeat} interleaved runs of "
          f"{args.duration} (spoa-host 1 I/O thread, echo plugin)")
    print(f"{'shape':>8}  {'tcp us/frame':>12}  {'unix us/frame':>13}  {'unix/tcp':>8}  "
          f"{'tcp frames/s':>12}  {'unix frames/s':>13}")
    for connections, inflight in shapes:
        cpu = {}
        rate = {}
        for transport in ("tcp", "unix"):
            runs = results[(connections, inflight, transport)]
            cpu[transport] = statistics.median(r["agent_cpu_us_per_frame"] for r in runs)
            rate[transport] = statistics.median(r["frames_per_s"] for r in runs)
        print(f"{connections:>4}x{inflight:<3}  {cpu['tcp']:>12.3f}  {cpu['unix']:>13.3f}  "
              f"{cpu['unix'] / cpu['tcp']:>8.2f}  {rate['tcp']:>12.0f}  {rate['unix']:>13.0f}")


if __name__ == "__main__":
    main()
