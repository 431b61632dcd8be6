#!/usr/bin/env python3
"""Prints, for each build tree given, the tests its last CTest run failed and the end of
each one's output with, after it, the lines anywhere in that output that report a failure
(read from Testing/Temporary/LastTest.log), and any error of the run itself found in
ctest-output.log (test.sh's copy of CTest's output).

  scripts/ctest-failures.py [--lines N] [--reasons N] BUILD_DIR...

test.sh calls it last, so that the end of a long CI log (often all that is kept) says which
test failed and why, not only that something did. Prints nothing for a tree whose tests all
passed; always exits 0. CTest keeps an earlier run's LastTestsFailed.log when every test
of the next run passes: the caller removes it before each run (test.sh does).
"""
import argparse
import os
import re
import sys

RULE = "-" * 58


def failed_names(build_dir):
    path = os.path.join(build_dir, "Testing", "Temporary", "LastTestsFailed.log")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            # Lines read "<number>:<name>".
            return [line.rstrip("\n").split(":", 1)[1] for line in f if ":" in line]
    except OSError:
        return []


def outputs(build_dir):
    """Maps each test's name to its captured output in LastTest.log."""
    path = os.path.join(build_dir, "Testing", "Temporary", "LastTest.log")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return {}
    found = {}
    # Each record: '<i>/<n> Test: <name>' ... 'Output:' RULE <output> '<end of output>'.
    pattern = re.compile(r"^\d+/\d+ Test: (.*?)\n.*?^Output:\n" + re.escape(RULE) +
                         r"\n(.*?)^<end of output>", re.S | re.M)
    for match in pattern.finditer(text):
        found[match.group(1)] = match.group(2)
    return found


# What CTest prints for an error that fails the run without failing a test, e.g. a test
# executable that could not list its tests (gtest_discover_tests).
RUN_ERRORS = re.compile(r"CMake Error|Error running test executable|Unable to find executable|"
                        r"Could not find executable|No tests were found")


def matches(lines, pattern, context):
    """Each line that `pattern` matches with the `context` - 1 lines after it; a match that
    falls inside an earlier one's context is shown once, as part of it."""
    shown, last = [], 0
    for i, line in enumerate(lines):
        if pattern.search(line) and i >= last:
            last = min(len(lines), i + context)
            shown.extend(lines[i:last])
    return shown


def run_errors(build_dir):
    """Lines of BUILD_DIR/ctest-output.log (test.sh's copy of CTest's output) that report
    an error of the run itself, each with the lines after it."""
    path = os.path.join(build_dir, "ctest-output.log")
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    return matches(lines, RUN_ERRORS, 6)


# Lines that say why a test failed, wherever they are in its output: gtest's failures,
# sanitizer reports, Python's exceptions and the e2e harness's own summary line. The line
# after each is shown too: gtest and the sanitizers put the detail there.
WHY = re.compile(r"Failure$|\[  FAILED  \]|ThreadSanitizer|AddressSanitizer|LeakSanitizer|"
                 r"runtime error:|^SUMMARY:|^Traceback|^[\w.]+(Error|Failure|Exception): |: failed: ")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=25, help="output lines per test")
    parser.add_argument("--reasons", type=int, default=20,
                        help="lines that report a failure, per test")
    parser.add_argument("build_dirs", nargs="+")
    args = parser.parse_args()
    summary = []
    for build_dir in args.build_dirs:
        errors = run_errors(build_dir)
        if errors:
            print(f"=== errors of the CTest run in {build_dir}")
            print("\n".join(errors[:60]))
            summary.append(f"{build_dir}: errors of the run itself")
        names = failed_names(build_dir)
        if not names:
            continue
        captured = outputs(build_dir)
        for name in names:
            output = captured.get(name, "(no output recorded)\n")
            print(f"=== failed in {build_dir}: {name} (last {args.lines} lines of its output)")
            print("\n".join(output.splitlines()[-args.lines:]))
            # Last, so that a log cut to its end still has them.
            why = matches(output.splitlines(), WHY, 2)[:args.reasons]
            if why:
                print(f"=== why {name} failed (lines that report a failure)")
                print("\n".join(why))
        summary.append(f"{build_dir}: {', '.join(names)}")
    if summary:
        print("=== failed tests: " + "; ".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
