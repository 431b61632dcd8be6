#!/usr/bin/env python3
"""Agent CPU per frame of two or more spoa-host builds, interleaved run by run.

Each build's spoa-host (1 I/O thread, the echo plugin) runs beside the others, idle
while another is measured; one spoa-bench run per build per round, in turn, so that a
change in the machine's load hits every build alike. The figure compared is the agent's
CPU time per frame (utime + stime over frames), which the machine's other load disturbs
far less than rates do. The load generator is the first build's spoa-bench for all.

  python3 benchmarks/compare/run.py --build-dirs OLD/build/release,build/release \
      --repeat 7 --duration 5s --cpus-agent 1 --cpus-bench 0
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


def log(message):
    print(message, file=sys.stderr, flush=True)


def pinned(cpus, argv):
    return (["taskset", "-c", cpus] + argv) if cpus else argv


def start_agent(build_dir, cpus, workdir, index):
    config = os.path.join(workdir, f"agent{index}.toml")
    with open(config, "w", encoding="utf-8") as f:
        f.write('[server]\nlisten = ["127.0.0.1:0"]\nthreads = 1\n\n'
                '[log]\nlevel = "warn"\ntarget = "stderr"\n\n'
                '[plugins.echo]\npath = "echo.so"\nmessages = ["echo"]\n')
    log_path = os.path.join(workdir, f"agent{index}.log")
    log_file = open(log_path, "wb")
    argv = pinned(cpus, [os.path.join(build_dir, "server", "spoa-host"), "-c", config,
                         "--plugin-dir", os.path.join(build_dir, "plugins"),
                         "--log-level", "info"])
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
        raise SystemExit(f"{build_dir}: spoa-host did not become ready:\n" + f.read())


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bench(args, address, agent_pid, label):
    argv = pinned(args.cpus_bench,
                  [args.bench, "--connect", address, "--connections", str(args.connections),
                   "--inflight", str(args.inflight), "--duration", args.duration,
                   "--warmup", "1s", "--timeout", "60s", "--agent-pid", str(agent_pid),
                   "--json", "--label", label])
    out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         timeout=600, check=False)
    if out.returncode != 0:
        raise SystemExit(f"spoa-bench failed ({out.returncode}):\n{out.stdout}{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dirs", required=True,
                        help="comma-separated build folders; the first is the baseline")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--duration", default="5s")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--inflight", type=int, default=32)
    parser.add_argument("--cpus-agent", default="", help="taskset CPU list for the agents")
    parser.add_argument("--cpus-bench", default="", help="taskset CPU list for spoa-bench")
    args = parser.parse_args()
    builds = [os.path.abspath(b) for b in args.build_dirs.split(",")]
    args.bench = os.path.join(builds[0], "benchmarks", "spoa-bench", "spoa-bench")

    workdir = tempfile.mkdtemp(prefix="spoa-compare-")
    agents = []
    results = {b: [] for b in builds}
    try:
        for index, build in enumerate(builds):
            agents.append(start_agent(build, args.cpus_agent, workdir, index))
        for round_number in range(1, args.repeat + 1):
            # Alternate the order each round, so neither build always runs first.
            order = list(range(len(builds)))
            if round_number % 2 == 0:
                order.reverse()
            for index in order:
                proc, address = agents[index]
                label = f"{builds[index]} #{round_number}"
                run = bench(args, address, proc.pid, label)
                if run.get("errors"):
                    raise SystemExit(f"{label}: {run['errors']} errors: {run['error_kinds']}")
                results[builds[index]].append(run["agent_cpu_us_per_frame"])
                log(f"{label}: {run['frames_per_s']:.0f} frames/s, agent "
                    f"{run['agent_cpu_us_per_frame']:.4f} us CPU/frame")
    finally:
        for proc, _ in agents:
            stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)

    base = statistics.median(results[builds[0]])
    print(f"agent CPU per frame, {args.connections}x{args.inflight}, median of {args.repeat} "
          f"interleaved {args.duration} runs (min-max)")
    for build in builds:
        values = results[build]
        median = statistics.median(values)
        print(f"  {build}: {median:.4f} us ({min(values):.4f}-{max(values):.4f}), "
              f"{median / base:.3f}x baseline")


if __name__ == "__main__":
    main()
