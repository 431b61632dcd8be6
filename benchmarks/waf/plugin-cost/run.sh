#!/usr/bin/env bash
# CPU per inspected request inside the waf plugin, with glibc malloc, jemalloc and
# tcmalloc (Debian's libjemalloc2 and libtcmalloc-minimal4, preloaded), then with no rules
# loaded (the engine's floor per transaction).
#
#   benchmarks/waf/plugin-cost/run.sh [BUILD_DIR] [ITERATIONS]
set -euo pipefail
build=${1:-build/release}
iterations=${2:-2000}
bin="$build/benchmarks/waf/plugin-cost/waf_plugin_cost"
[[ -x $bin ]] || { echo "build $bin first (cmake --build --preset release)"; exit 1; }
libdir=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
"$bin" --iterations "$iterations"
for lib in "$libdir/libjemalloc.so.2" "$libdir/libtcmalloc_minimal.so.4"; do
  if [[ -e $lib ]]; then
    LD_PRELOAD=$lib "$bin" --iterations "$iterations"
  else
    echo "# $lib not installed (apt install libjemalloc2 libtcmalloc-minimal4)"
  fi
done
"$bin" --iterations "$iterations" --no-rules
