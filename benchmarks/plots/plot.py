#!/usr/bin/env python3
"""Draws PNGs with gnuplot from the tools' JSON output (installs gnuplot-nox with apt-get
if gnuplot is missing). Inputs are JSON-lines files; any of them may be left out.

  --bench FILE   spoa-bench --json lines, as collect.py writes them (series latency /
                 scaling, label = agent):
                   latency.png   latency distribution (percentile spectrum and histogram)
                                 of every "latency" run (1x1, 4x32), per agent
                   scaling.png   frames/s and agent CPU us/frame vs connections, per agent
  --e2e FILE     e2e/run.py's e2e.jsonl: e2e.png, requests/s and CPU per request
  --memory FILE  memory/run.py's memory.jsonl: memory-soak.png, agent RSS during the soak

The .dat and .gp files are left beside the PNGs. Standard library + gnuplot only.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys

TERMINAL = "set terminal pngcairo size 1100,650 enhanced font 'DejaVu Sans,11'"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def ensure_gnuplot():
    if shutil.which("gnuplot"):
        return
    log("gnuplot not found: installing gnuplot-nox with apt-get")
    subprocess.run(["apt-get", "update", "-qq"], check=False)
    subprocess.run(["apt-get", "install", "-y", "-qq", "gnuplot-nox"], check=True)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def quote(s):
    return '"' + s.replace('"', "'") + '"'


def gnuplot(out, name, script):
    gp = os.path.join(out, name + ".gp")
    with open(gp, "w") as f:
        f.write(script)
    subprocess.run(["gnuplot", gp], check=True, cwd=out)
    log(f"wrote {os.path.join(out, name + '.png')}")


def plot_latency(runs, out):
    runs = [r for r in runs if r.get("series") == "latency" and r.get("latency_spectrum_us")]
    if not runs:
        return
    spectrum_plots, hist_plots = [], []
    for i, r in enumerate(runs):
        title = f"{r.get('label') or 'agent'} {r['connections']}x{r['inflight']}"
        dat = f"latency-{i}.dat"
        with open(os.path.join(out, dat), "w") as f:
            f.write(f"# {title}: 1/(1-p)  latency_us  percentile\n")
            for p, us in r["latency_spectrum_us"]:
                if p >= 100:
                    continue
                f.write(f"{1.0 / (1.0 - p / 100.0):.6g}\t{us}\t{p}\n")
        spectrum_plots.append(f"{quote(dat)} using 1:2 with linespoints lw 2 pt 7 ps 0.6 title {quote(title)}")
        # Histogram: the fine buckets regrouped 8 per octave, as a share of all frames.
        total = sum(c for _, c in r["latency_buckets_us"]) or 1
        groups = {}
        for us, count in r["latency_buckets_us"]:
            key = math.floor(math.log2(max(us, 0.001)) * 8)
            groups[key] = groups.get(key, 0) + count
        hdat = f"latency-hist-{i}.dat"
        with open(os.path.join(out, hdat), "w") as f:
            f.write(f"# {title}: bucket_centre_us  share_of_frames_percent\n")
            for key in sorted(groups):
                f.write(f"{2 ** ((key + 0.5) / 8):.4g}\t{100.0 * groups[key] / total:.4g}\n")
        hist_plots.append(f"{quote(hdat)} using 1:2 with steps lw 2 title {quote(title)}")
    script = f"""{TERMINAL}
set output 'latency.png'
set multiplot layout 1,2 title "NOTIFY -> ACK latency (spoa-bench, loopback)"
set logscale x
set logscale y
set grid
set key top left
set xlabel 'percentile'
set ylabel 'latency (us)'
set xtics ('0%%' 1, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000, '99.999%%' 100000)
set title 'percentile spectrum'
plot {", ".join(spectrum_plots)}
unset logscale y
set xtics auto
set format x '%g'
set xlabel 'latency (us)'
set ylabel 'frames (%)'
set title 'histogram'
set key top right
plot {", ".join(hist_plots)}
unset multiplot
"""
    gnuplot(out, "latency", script)  # '%%' in tic labels: they are format strings


def plot_scaling(runs, out):
    runs = [r for r in runs if r.get("series") == "scaling"]
    if not runs:
        return
    labels = sorted({r.get("label") or "agent" for r in runs})
    rate, cpu = [], []
    inflight = runs[0]["inflight"]
    for i, label in enumerate(labels):
        rows = sorted((r for r in runs if (r.get("label") or "agent") == label), key=lambda r: r["connections"])
        dat = f"scaling-{i}.dat"
        with open(os.path.join(out, dat), "w") as f:
            f.write(f"# {label}: connections frames_per_s agent_cpu_us_per_frame p50_us p99_us errors\n")
            for r in rows:
                lat = r.get("latency_us", {})
                cpu_us = r.get("agent_cpu_us_per_frame")
                f.write(f"{r['connections']}\t{r.get('frames_per_s', 0):.0f}\t"
                        f"{cpu_us if cpu_us is not None else 'NaN'}\t{lat.get('p50', 'NaN')}\t"
                        f"{lat.get('p99', 'NaN')}\t{r.get('errors', 0)}\n")
        rate.append(f"{quote(dat)} using 1:2 axes x1y1 with linespoints lw 2 pt 7 title {quote(label + ' frames/s')}")
        cpu.append(f"{quote(dat)} using 1:3 axes x1y2 with linespoints lw 2 dt 2 pt 5 "
                   f"title {quote(label + ' agent CPU us/frame')}")
    script = f"""{TERMINAL}
set output 'scaling.png'
set title "frames/s and agent CPU per frame vs connections ({inflight} NOTIFYs in flight per connection)"
set logscale x 2
set xlabel 'connections'
set ylabel 'frames/s'
set y2label 'agent CPU (us/frame)'
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set format y '%.1s%c'
set grid
set key top left
plot {", ".join(rate + cpu)}
"""
    gnuplot(out, "scaling", script)


def plot_e2e(rows, out):
    if not rows:
        return
    # One bar per variant: its median run by requests/s (run.py --repeat).
    by_variant = {}
    for r in rows:
        by_variant.setdefault(r["variant"], []).append(r)
    rows = [sorted(rs, key=lambda r: r.get("requests_per_s") or 0)[len(rs) // 2] for rs in by_variant.values()]
    with open(os.path.join(out, "e2e.dat"), "w") as f:
        f.write("# variant requests_per_s haproxy_us_per_req agent_us_per_req\n")
        for r in rows:
            f.write(f"{r['variant']}\t{r.get('requests_per_s', 0)}\t{r.get('haproxy_cpu_us_per_req') or 0}\t"
                    f"{r.get('agent_cpu_us_per_req') or 0}\n")
    script = f"""{TERMINAL}
set output 'e2e.png'
set multiplot layout 1,2 title "wrk -> HAProxy (nbthread 1) -> agent"
set style data histograms
set style fill solid 0.7 border -1
set boxwidth 0.8
set grid ytics
set yrange [0:*]
set title 'requests/s'
plot 'e2e.dat' using 2:xtic(1) notitle
set style histogram clustered
set title 'CPU per request (us)'
plot 'e2e.dat' using 3:xtic(1) title 'HAProxy', '' using 4 title 'agent'
unset multiplot
"""
    gnuplot(out, "e2e", script)


def plot_memory(rows, out):
    rows = [r for r in rows if r.get("soak_rss_samples")]
    if not rows:
        return
    r = rows[-1]
    with open(os.path.join(out, "memory-soak.dat"), "w") as f:
        f.write("# seconds rss_mib\n")
        for t, kib in r["soak_rss_samples"]:
            f.write(f"{t}\t{kib / 1024:.3f}\n")
    script = f"""{TERMINAL}
set output 'memory-soak.png'
set title "spoa-host RSS during a {r.get('soak_s', 0):g} s soak ({r.get('soak_frames_per_s') or 0:.0f} frames/s)"
set xlabel 'seconds'
set ylabel 'RSS (MiB)'
set yrange [0:*]
set grid
plot 'memory-soak.dat' using 1:2 with lines lw 2 title 'VmRSS'
"""
    gnuplot(out, "memory-soak", script)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", help="spoa-bench JSON lines (collect.py's bench.jsonl)")
    p.add_argument("--e2e", help="e2e/run.py's e2e.jsonl")
    p.add_argument("--memory", help="memory/run.py's memory.jsonl")
    p.add_argument("--out", required=True, help="folder for the PNGs")
    args = p.parse_args()
    if not (args.bench or args.e2e or args.memory):
        p.error("nothing to plot: give --bench, --e2e and/or --memory")
    ensure_gnuplot()
    os.makedirs(args.out, exist_ok=True)
    out = os.path.abspath(args.out)
    if args.bench:
        runs = read_jsonl(args.bench)
        plot_latency(runs, out)
        plot_scaling(runs, out)
    if args.e2e:
        plot_e2e(read_jsonl(args.e2e), out)
    if args.memory:
        plot_memory(read_jsonl(args.memory), out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
