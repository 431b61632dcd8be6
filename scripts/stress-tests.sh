#!/usr/bin/env bash
# Runs the CTest suite (all but the packaging tests) again and again while busy loops keep
# every CPU loaded, to show that no test depends on the machine being fast or idle. Stops
# at the first failing run (its log is kept) and reports the consecutive passes and the
# time they took.
#
#   scripts/stress-tests.sh [--preset P] [--runs N] [--load K] [--jobs J] [--max-time S]
#                           [--keep-going] [-- extra ctest arguments]
#
#   --preset P     CMake preset whose build/P tree is built and tested (default release)
#   --runs N       at most N runs (default 5)
#   --load K       K busy-loop processes beside the tests (default: one per CPU)
#   --jobs J       ctest -j J (default 2)
#   --max-time S   start no run after S seconds; the load ends by then too (default 7200)
#   --keep-going   go on after a failing run and report passes / runs
#
# Everything it starts is bounded (a run by ctest's per-test TIMEOUTs, the load by
# `timeout`) and killed by PID when the script exits, however it exits.
set -euo pipefail
cd "$(dirname "$0")/.."

preset=release
runs=5
load=$(nproc)
jobs=2
max_time=7200
keep_going=0
extra=()
while (($#)); do
  case $1 in
    --preset) preset=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --max-time) max_time=$2; shift 2 ;;
    --keep-going) keep_going=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "stress-tests: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
for number in "$runs" "$load" "$jobs" "$max_time"; do
  [[ $number =~ ^[0-9]+$ ]] || { echo "stress-tests: not a number: $number" >&2; exit 2; }
done

build_dir=build/$preset
logs=$build_dir/stress-tests
mkdir -p "$logs"

load_pids=()
ctest_pid=
stop_load() {
  local pid
  if [[ -n $ctest_pid ]]; then
    kill "$ctest_pid" 2>/dev/null || true
    wait "$ctest_pid" 2>/dev/null || true
    ctest_pid=
  fi
  for pid in "${load_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${load_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  load_pids=()
}
trap stop_load EXIT
trap 'stop_load; exit 130' INT
trap 'stop_load; exit 143' TERM

echo "stress-tests: building $build_dir"
if [[ ! -f $build_dir/CMakeCache.txt ]]; then
  cmake --preset "$preset" >/dev/null
fi
cmake --build --preset "$preset" >"$logs/build.log" 2>&1 || {
  echo "stress-tests: build failed, see $logs/build.log" >&2
  exit 1
}

# Plain shell busy loops at the tests' own priority: the tests have to share the CPUs.
for ((i = 0; i < load; i++)); do
  timeout "$max_time" sh -c 'while :; do :; done' &
  load_pids+=($!)
done
echo "stress-tests: $load busy loops on $(nproc) CPUs (PIDs ${load_pids[*]:-none})"

start=$SECONDS
passes=0
consecutive=0
broken=0
completed=0
for ((run = 1; run <= runs; run++)); do
  if ((SECONDS - start >= max_time)); then
    echo "stress-tests: --max-time $max_time s reached before run $run"
    break
  fi
  log=$logs/run-$run.log
  run_start=$SECONDS
  # In the background and waited for, so that a signal reaches the traps at once.
  ctest --preset "$preset" -LE packaging -j "$jobs" "${extra[@]}" >"$log" 2>&1 &
  ctest_pid=$!
  rc=0
  wait "$ctest_pid" || rc=$?
  ctest_pid=
  if ((rc == 0)); then
    passes=$((passes + 1))
    ((broken)) || consecutive=$((consecutive + 1))
    echo "stress-tests: run $run passed ($((SECONDS - run_start)) s; $(grep -Eo '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1))"
  else
    broken=1
    echo "stress-tests: run $run FAILED ($((SECONDS - run_start)) s), log $log:"
    sed -n '/The following tests FAILED/,$p' "$log" | head -30
    # A run can fail with no failed test: a test binary that could not list its tests.
    grep -E -A6 'CMake Error|Error running test executable' "$log" | head -30 || true
  fi
  completed=$run
  if ((broken && !keep_going)); then break; fi
done
elapsed=$((SECONDS - start))
stop_load

echo "stress-tests: $consecutive consecutive passes from the first run; $passes of" \
  "$completed runs passed; $elapsed s under $load busy loops (preset $preset, ctest -j $jobs)"
((passes == completed && completed > 0))
