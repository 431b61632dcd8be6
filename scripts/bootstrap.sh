#!/usr/bin/env bash
# Installs whatever Debian 12 packages the build and the tests need and are missing.
# Sourced by run.sh and test.sh so that a fresh machine needs nothing done by hand.
set -euo pipefail

spoa_build_packages=(
  build-essential cmake g++ pkg-config git python3
  libboost-program-options-dev libboost-system-dev libtoml11-dev libsystemd-dev libfmt-dev
  # geoip plugin
  libmaxminddb-dev
  # waf plugin
  libmodsecurity-dev
)
spoa_test_packages=(
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format
  haproxy curl systemd
  prometheus
  # geoip tests write their own MMDB files
  libmaxmind-db-writer-perl
  # tests/crs: the CRS regression runner (python3-yaml) and its reference WAF, nginx with
  # ModSecurity-nginx, on Debian's CRS.
  python3-yaml nginx libnginx-mod-http-modsecurity modsecurity-crs
  # waf tests use the CRS above; the plugin-cost benchmark tries both allocators
  libjemalloc2 libtcmalloc-minimal4
)

spoa_missing_packages() {
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$pkg"
    fi
  done
}

spoa_install_packages() {
  local missing
  mapfile -t missing < <(spoa_missing_packages "$@")
  if ((${#missing[@]} == 0)); then return 0; fi
  echo "bootstrap: installing ${missing[*]}" >&2
  local sudo=()
  if ((EUID != 0)); then sudo=(sudo); fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # haproxy's postinst would start the packaged service on :80 etc.; tests run their own.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
