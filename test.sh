#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs missing packages, then
# builds and runs CTest in the release, ASan+UBSan and TSan builds, and fuzzes the codec.
# SPOA_FUZZ_SECONDS (default 60) sets the fuzzing time.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
spoa_install_packages "${spoa_build_packages[@]}" "${spoa_test_packages[@]}"

werror=(-DSPOA_WERROR=ON)
failed=()  # the stages that failed: the exit status, and named on the last line
run_preset() {
  local preset=$1
  shift
  echo "=== $preset: configure and build ==="
  cmake --preset "$preset" "${werror[@]}" "$@" >/dev/null
  cmake --build --preset "$preset"
  echo "=== $preset: tests ==="
  # CTest leaves the list of an earlier run's failures in place when every test passes.
  rm -f "build/$preset/Testing/Temporary/LastTestsFailed.log"
  # Its output is kept too, for the errors that are not a failed test (test discovery).
  ctest --preset "$preset" -j2 2>&1 | tee "build/$preset/ctest-output.log" ||
    failed+=("$preset tests")
}

# The release stage also builds the Debian packages, installs them and checks the units.
run_preset release -DSPOA_PACKAGING_TESTS=ON
run_preset asan
run_preset tsan

echo "=== fuzz: codec decoders for ${SPOA_FUZZ_SECONDS:-60}s ==="
cmake --preset fuzz "${werror[@]}" >/dev/null
cmake --build --preset fuzz
scripts/fuzz.sh build/fuzz "${SPOA_FUZZ_SECONDS:-60}" || failed+=(fuzz)

# CI keeps only the end of this log: name the failed tests, with their output, last.
# Only a report: it must not decide the outcome.
python3 scripts/ctest-failures.py build/release build/asan build/tsan ||
  echo "test.sh: the failure summary could not be made"
if ((${#failed[@]} == 0)); then
  echo "test.sh: all stages passed"
else
  echo "test.sh: FAILED (${failed[*]})"
  exit 1
fi
