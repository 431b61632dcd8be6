#!/usr/bin/env python3
"""Every metric the Grafana dashboard queries must be one spoa-host really exports.

Starts spoa-host with [metrics] on loopback, scrapes /metrics once, then extracts the metric
names from every PromQL expression in config/grafana-dashboard.json (panel targets,
template variable queries, annotations) and fails naming each one the scrape lacks.
Python 3 standard library only; every wait is bounded and the server is stopped by PID.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

# PromQL words that look like identifiers but are not metric names.
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "inf", "nan", "atan2", "start", "end",
}


def walk_expressions(node, path="$"):
    """Yields (where, PromQL text) for every query in the dashboard."""
    if isinstance(node, dict):
        if node.get("type") in ("datasource", "row", "textbox", "constant", "custom", "interval"):
            return  # variables whose "query" is no PromQL (a plugin type, a value list)
        for key, value in node.items():
            where = f"{path}.{key}"
            if key == "expr" and isinstance(value, str):
                yield where, value
            elif key in ("query", "definition") and isinstance(value, str):
                yield where, value
            else:
                yield from walk_expressions(value, where)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk_expressions(value, f"{path}[{i}]")


def metric_names(expr):
    """The metric names a PromQL expression (or a Grafana label_values() query) selects."""
    text = expr
    # label_values(METRIC{...}, label) and friends: only the first argument is a metric.
    text = re.sub(r"\blabel_values\(\s*([^,()]*?)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)", r"\1", text)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)           # string literals
    text = re.sub(r"\{[^{}]*\}", " ", text)                   # label matchers ($vars inside)
    text = re.sub(r"\[[^\[\]]*\]", " ", text)                 # range selectors, [$__rate_interval]
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", " ", text)
    text = re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", " ", text)  # Grafana variables
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group(0)
        after = text[match.end():].lstrip()
        if after.startswith("("):
            continue  # a function: sum(, rate(, histogram_quantile(
        if word.lower() in KEYWORDS:
            continue
        before = text[:match.start()]
        if re.search(r"[0-9.]$", before):
            continue  # the exponent or unit of a number (1e3)
        names.add(word)
    return names


def self_test():
    cases = {
        'sum by (le) (rate(a_bucket{instance=~"$instance",x="y{z}"}[$__rate_interval]))': {"a_bucket"},
        'histogram_quantile(0.99, sum by (plugin, le) (rate(b_bucket[5m])))': {"b_bucket"},
        "label_values(c_info{job=~\"$job\"}, instance)": {"c_info"},
        "time() - max by (instance) (d_seconds)": {"d_seconds"},
        "sum(rate(e_total[1m])) / sum(rate(f_count[1m])) > 1e3": {"e_total", "f_count"},
        "changes(g[1m]) > 0 and on (instance) h": {"g", "h"},
    }
    for expr, want in cases.items():
        got = metric_names(expr)
        if got != want:
            sys.exit(f"self-test: {expr!r} -> {sorted(got)}, expected {sorted(want)}")


def scrape_names(spoa_host, plugin_dir):
    with tempfile.TemporaryDirectory(prefix="spoa-dashboard-") as tmp:
        config = os.path.join(tmp, "spoa-host.toml")
        with open(config, "w") as f:
            f.write('[server]\nthreads = 1\n[log]\ntarget = "stderr"\n'
                    '[metrics]\nlisten = "127.0.0.1:0"\n'
                    '[plugins.echo]\npath = "echo.so"\nmessages = ["echo"]\n')
        log_path = os.path.join(tmp, "log")
        with open(log_path, "w") as log:
            env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
            proc = subprocess.Popen([spoa_host, "-c", config, "--listen", "127.0.0.1:0",
                                     "--plugin-dir", plugin_dir], stdout=log, stderr=log, env=env)
        try:
            address = None
            deadline = time.monotonic() + 20
            while address is None and time.monotonic() < deadline:
                if proc.poll() is not None:
                    break
                with open(log_path) as f:
                    m = re.search(r"metrics: serving Prometheus metrics on http://(\S+)/metrics", f.read())
                address = m.group(1) if m else None
                time.sleep(0.05)
            if address is None:
                with open(log_path) as f:
                    sys.exit("spoa-host did not serve metrics:\n" + f.read())
            with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
                body = response.read().decode()
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    names = set()
    for line in body.splitlines():
        if line and not line.startswith("#"):
            names.add(re.match(r"[A-Za-z_:][A-Za-z0-9_:]*", line).group(0))
    return names


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--spoa-host", required=True)
    parser.add_argument("--plugin-dir", required=True)
    parser.add_argument("--dashboard", required=True)
    args = parser.parse_args()
    self_test()

    with open(args.dashboard) as f:
        dashboard = json.load(f)
    wanted = {}
    for where, expr in walk_expressions(dashboard):
        for name in metric_names(expr):
            wanted.setdefault(name, []).append(where)
    if len(wanted) < 15:
        sys.exit(f"only {len(wanted)} metric names found in the dashboard; the parser is broken")

    exported = scrape_names(args.spoa_host, args.plugin_dir)
    missing = {name: where for name, where in wanted.items() if name not in exported}
    if missing:
        for name, where in sorted(missing.items()):
            print(f"dashboard queries {name}, which spoa-host does not export (at {where[0]})")
        sys.exit(1)
    print(f"{len(wanted)} metric names in the dashboard, all exported: {', '.join(sorted(wanted))}")


if __name__ == "__main__":
    main()
