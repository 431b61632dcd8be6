#!/usr/bin/env python3
"""Runs the OWASP CRS 3.3.4 regression tests (FTW YAML) against WAF targets and reports
pass / fail / not applicable per target, the tests where the targets disagree, and whether
the run meets the checked-in baseline (tests/crs/baseline.json).

    run_crs.py --tests-dir ../shared/crs-regression/tests --target nginx
    run_crs.py --target nginx --target spoa --spoa-host build/release/server/spoa-host \
               --plugin-dir build/release/plugins --baseline tests/crs/baseline.json

Exit status: 0 the run meets the baseline (or no baseline given), 1 it does not, 77 skipped
(test data, nginx, HAProxy or the waf plugin missing; the message says which).
"""

import argparse
import concurrent.futures
import itertools
import json
import os
import shutil
import sys
import tempfile
import threading
import time

SKIP = 77


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tests-dir", required=True,
                   help="folder of the CRS YAML tests (shared/crs-regression/tests)")
    p.add_argument("--target", action="append", choices=["nginx", "spoa"], required=True)
    p.add_argument("--spoa-host", help="spoa-host binary (spoa target)")
    p.add_argument("--plugin-dir", help="folder holding waf.so (spoa target)")
    p.add_argument("--haproxy", default="/usr/sbin/haproxy")
    p.add_argument("--nginx", default="/usr/sbin/nginx")
    p.add_argument("--jobs", type=int, default=2, help="requests in flight at once (default 2)")
    p.add_argument("--only", help="regular expression on test titles, e.g. '^942'")
    p.add_argument("--timeout", type=float, default=10.0,
                   help="seconds without progress before a request counts as unanswered")
    p.add_argument("--baseline", help="baseline.json the run must meet")
    p.add_argument("--write-baseline", help="write this run's results as a baseline here "
                   "(explanations already in --baseline are kept)")
    p.add_argument("--report", help="write every test's result as JSON here")
    p.add_argument("--keep-workdir", action="store_true", help="keep configs and logs")
    p.add_argument("--list", choices=["fail", "na", "problems", "all"], default="problems",
                   help="which tests to list per target (default: failures and not applicable)")
    return p.parse_args()


def skip(message):
    print(f"SKIP: {message}")
    sys.exit(SKIP)


class Run:
    """Runs every test against one target, `jobs` requests at a time."""

    def __init__(self, target, front, tests, jobs, timeout, addresses):
        self.target, self.front, self.tests = target, front, tests
        self.jobs, self.timeout, self.addresses = jobs, timeout, addresses
        self.lock = threading.Lock()

    def next_source(self):
        with self.lock:
            return client.source_address(next(self.addresses))

    def run_test(self, test):
        verdicts, detail = [], []
        for stage in test.stages:
            source = self.next_source()
            response = client.send("127.0.0.1", self.target.port, stage.request, source,
                                   self.timeout)
            observation = self.target.observe(source, response)
            verdicts.append(judge.judge_stage(stage.expect, response, observation, self.front))
            detail.append({"status": response.status, "error": response.error,
                           "ids": observation.ids, "expect": stage.expect.describe()})
        verdict = judge.combine(verdicts)
        return {"title": test.title, "file": test.file, "outcome": verdict.outcome,
                "reason": verdict.reason, "stages": detail}

    def run(self):
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs) as pool:
            results = list(pool.map(self.run_test, self.tests))
        return results, time.monotonic() - started


def summarize(name, results, seconds):
    counts = {o: sum(1 for r in results if r["outcome"] == o) for o in (judge.PASS, judge.FAIL,
                                                                       judge.NA)}
    applicable = counts[judge.PASS] + counts[judge.FAIL]
    rate = 100.0 * counts[judge.PASS] / applicable if applicable else 0.0
    return {"target": name, "tests": len(results), "passed": counts[judge.PASS],
            "failed": counts[judge.FAIL], "not_applicable": counts[judge.NA],
            "pass_rate": round(rate, 2), "seconds": round(seconds, 1)}


def print_summary(s):
    print(f"{s['target']}: {s['passed']} passed, {s['failed']} failed, {s['not_applicable']} "
          f"not applicable, of {s['tests']} tests: pass rate {s['pass_rate']:.2f} % of the "
          f"applicable ones ({s['seconds']} s)")


def print_listing(name, results, which):
    shown = {"fail": {judge.FAIL}, "na": {judge.NA}, "problems": {judge.FAIL, judge.NA},
             "all": {judge.PASS, judge.FAIL, judge.NA}}[which]
    for r in results:
        if r["outcome"] not in shown:
            continue
        last = r["stages"][-1] if r["stages"] else {}
        print(f"  {name} {r['outcome'].upper():4} {r['title']:14} {r['reason']}"
              f"  [status {last.get('status')}, ids {' '.join(last.get('ids') or [])}]")


def disagreements(by_target):
    if len(by_target) < 2:
        return {}
    (a, ra), (b, rb) = list(by_target.items())[:2]
    other = {r["title"]: r for r in rb}
    out = {}
    for r in ra:
        o = other.get(r["title"])
        if o and o["outcome"] != r["outcome"]:
            out[r["title"]] = {a: f"{r['outcome']} {r['reason']}".strip(),
                               b: f"{o['outcome']} {o['reason']}".strip()}
    return out


def both_applicable_passes(by_target):
    """Passes of each target counted on the tests applicable to both."""
    results = list(by_target.values())
    titles = [{r["title"] for r in rs if r["outcome"] != judge.NA} for rs in results]
    common = set.intersection(*titles)
    return {name: sum(1 for r in rs if r["title"] in common and r["outcome"] == judge.PASS)
            for name, rs in by_target.items()}, len(common)


def check_baseline(baseline, by_target, summaries, disagree):
    problems, notes = [], []
    reasons = baseline.get("reasons", {})
    for name, results in by_target.items():
        base = baseline.get(name)
        if base is None:
            notes.append(f"{name}: no baseline entry; not checked")
            continue
        known = base.get("known_failures", {})
        for title, reason in known.items():
            if reason not in reasons:
                problems.append(f"{name}: known failure {title} gives reason {reason!r}, "
                                "which 'reasons' does not explain")
        for r in results:
            if r["outcome"] == judge.FAIL and r["title"] not in known:
                problems.append(f"{name}: {r['title']} fails and is not a known failure: "
                                f"{r['reason']}")
            if r["outcome"] == judge.PASS and r["title"] in known:
                notes.append(f"{name}: {r['title']} now passes; remove it from known_failures")
        if summaries[name]["passed"] < base.get("min_passed", 0):
            problems.append(f"{name}: {summaries[name]['passed']} passed, below the baseline's "
                            f"{base['min_passed']}")
    if len(by_target) == 2:
        explained = baseline.get("disagreements", {})
        for title, what in disagree.items():
            if explained.get(title) not in reasons:
                problems.append(f"targets disagree on {title} and the baseline does not explain "
                                f"it: {what}")
        passes, common = both_applicable_passes(by_target)
        if passes.get("spoa", 0) < passes.get("nginx", 0):
            problems.append(f"on the {common} tests applicable to both, spoa passes "
                            f"{passes['spoa']} < nginx {passes['nginx']}")
    return problems, notes


def write_baseline(path, old, by_target, summaries, disagree):
    new = {"_comment": old.get("_comment", "Written by run_crs.py --write-baseline; every "
                                           "entry names a reason (see tests/crs/README.md)."),
           "reasons": old.get("reasons", {})}
    for name, results in by_target.items():
        known_old = old.get(name, {}).get("known_failures", {})
        new[name] = {"min_passed": summaries[name]["passed"],
                     "known_failures": {r["title"]: known_old.get(r["title"], "TODO: explain")
                                        for r in results if r["outcome"] == judge.FAIL}}
    for name in old:
        if name not in new and name not in ("disagreements", "reasons"):
            new[name] = old[name]
    if len(by_target) == 2:
        old_d = old.get("disagreements", {})
        new["disagreements"] = {t: old_d.get(t, "TODO: explain") for t in sorted(disagree)}
    elif "disagreements" in old:
        new["disagreements"] = old["disagreements"]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(new, f, indent=2, sort_keys=False)
        f.write("\n")


def main():
    args = parse_args()
    if not os.path.isdir(args.tests_dir):
        skip(f"CRS regression data not found at {args.tests_dir} (a copy of shared/ beside "
             "the clone; set SPOA_CRS_REGRESSION_DIR when configuring)")
    try:
        import yaml  # noqa: F401  (Debian package python3-yaml)
    except ImportError:
        skip(f"{sys.executable} has no yaml module (install python3-yaml)")

    tests = ftw.load_tests(args.tests_dir, args.only)
    if not tests:
        skip(f"no tests under {args.tests_dir}" + (f" matching {args.only}" if args.only else ""))
    print(f"{len(tests)} tests ({sum(len(t.stages) for t in tests)} requests) "
          f"from {args.tests_dir}")

    workdir = tempfile.mkdtemp(prefix="crs-regression-")
    os.chmod(workdir, 0o755)
    started = []
    deaths = []  # children that exited during the run: always a failure
    by_target, summaries = {}, {}
    try:
        rules = targets.write_rules(workdir)
        try:
            server = targets.NginxServer(workdir, rules, args.nginx)
        except FileNotFoundError as e:
            skip(f"nginx target unavailable: {e}")
        started.append(server)
        addresses = itertools.count()
        for name in args.target:
            if name == "nginx":
                target, front = targets.NginxTarget(server), "nginx"
            else:
                if not args.spoa_host or not args.plugin_dir:
                    sys.exit("--target spoa needs --spoa-host and --plugin-dir")
                spoa_dir = os.path.join(workdir, "spoa")
                os.makedirs(spoa_dir, exist_ok=True)
                try:
                    target = targets.SpoaTarget(spoa_dir, rules, server.app_port, args.spoa_host,
                                                args.plugin_dir, args.haproxy)
                except FileNotFoundError as e:
                    skip(f"spoa target unavailable: {e} missing")
                front = "HAProxy"
            started.append(target)
            results, seconds = Run(target, front, tests, args.jobs, args.timeout,
                                   addresses).run()
            by_target[name] = results
            summaries[name] = summarize(name, results, seconds)
            print_summary(summaries[name])
        for thing in started:
            deaths.extend(thing.died())
    except processes.StartError as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        for thing in reversed(started):
            thing.stop()
        if args.keep_workdir:
            print(f"configs and logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    for name, results in by_target.items():
        print_listing(name, results, args.list)
    disagree = disagreements(by_target)
    if len(by_target) == 2:
        passes, common = both_applicable_passes(by_target)
        print(f"tests applicable to both targets: {common}; passed: "
              + ", ".join(f"{n} {p}" for n, p in passes.items()))
        print(f"disagreements: {len(disagree)}")
        for title, what in sorted(disagree.items()):
            print(f"  {title:14} " + " | ".join(f"{n}: {w}" for n, w in what.items()))
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            json.dump({"summaries": summaries, "disagreements": disagree,
                       "results": by_target}, f, indent=1)

    old = {}
    if args.baseline and os.path.exists(args.baseline):
        with open(args.baseline, encoding="utf-8") as f:
            old = json.load(f)
    if args.write_baseline:
        write_baseline(args.write_baseline, old, by_target, summaries, disagree)
        print(f"baseline written to {args.write_baseline}")
    for death in deaths:
        print(f"FAIL: {death}")
    if args.baseline:
        problems, notes = check_baseline(old, by_target, summaries, disagree)
        for n in notes:
            print(f"note: {n}")
        for p in problems:
            print(f"REGRESSION: {p}")
        if problems:
            return 1
        print("the run meets the baseline")
    return 1 if deaths else 0


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crsrunner import client, ftw, judge, processes, targets  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
