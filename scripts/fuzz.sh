#!/usr/bin/env bash
# Runs the codec's libFuzzer target(s) for SECONDS in total over a copy of the committed
# seed corpus (the corpus in the tree stays as committed). Exits non-zero if libFuzzer
# finds a crash, leak, timeout or failed oracle; the reproducer lands in tests/fuzz/
# (crash-*, ignored by git).
#   scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail

if (($# != 2)); then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$1
seconds=$2
repo=$(cd "$(dirname "$0")/.." && pwd)
fuzz_dir="$repo/tests/fuzz"

targets=(spop_fuzz)
per_target=$((seconds / ${#targets[@]}))
((per_target > 0)) || per_target=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
for target in "${targets[@]}"; do
  binary="$build_dir/tests/fuzz/$target"
  if [[ ! -x $binary ]]; then
    echo "fuzz.sh: $binary not found (configure with -DSPOA_FUZZ=ON and build it)" >&2
    exit 2
  fi
  corpus="$work/$target"
  mkdir -p "$corpus"
  cp "$fuzz_dir"/corpus/* "$corpus"/
  echo "fuzz.sh: $target for ${per_target}s over $(ls "$corpus" | wc -l) seeds"
  log="$work/$target.log"
  if "$binary" -max_total_time="$per_target" -dict="$fuzz_dir/spop.dict" \
      -artifact_prefix="$fuzz_dir/" -print_final_stats=1 "$corpus" >"$log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
      "$log" || true
  else
    tail -n 60 "$log" >&2
    echo "fuzz.sh: $target FAILED (reproducer in $fuzz_dir/)" >&2
    status=1
  fi
done
exit "$status"
