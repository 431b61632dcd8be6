#!/usr/bin/env bash
# Builds spoa-host (installing missing Debian packages first) and runs it in the foreground
# with the default config and the bundled plugins. Extra arguments go to spoa-host.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh
spoa_install_packages "${spoa_build_packages[@]}"
cmake --preset release -DSPOA_BUILD_TESTS=OFF -DSPOA_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build --preset release
exec build/release/server/spoa-host -c config/spoa-host.toml \
  --plugin-dir build/release/plugins "$@"
