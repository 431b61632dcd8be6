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
  # iprep: header-only JSON for the CrowdSec local API client
  nlohmann-json3-dev
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
  # iprep e2e: Debian's crowdsec local API, run offline (see spoa_prepare_offline_crowdsec)
  crowdsec
)

spoa_missing_packages() {
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$pkg"
    fi
  done
}

# crowdsec's postinst registers the machine with CrowdSec's Central API over the network and
# fails the install without it, unless the CAPI credentials file already exists and is not
# empty (its own comment: "the user has created a file in advance to disable CAPI
# registration"). The iprep tests only run the local API, offline, with their own config.
spoa_prepare_offline_crowdsec() {
  local capi=/etc/crowdsec/online_api_credentials.yaml
  local sudo=()
  if ((EUID != 0)); then sudo=(sudo); fi
  if [[ ! -s $capi ]]; then
    "${sudo[@]}" mkdir -p /etc/crowdsec
    echo '# no Central API: created by spoa-host scripts/bootstrap.sh (offline machine)' |
      "${sudo[@]}" tee "$capi" >/dev/null
  fi
}

spoa_install_packages() {
  local missing
  mapfile -t missing < <(spoa_missing_packages "$@")
  if ((${#missing[@]} == 0)); then return 0; fi
  echo "bootstrap: installing ${missing[*]}" >&2
  local sudo=()
  if ((EUID != 0)); then sudo=(sudo); fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  if printf '%s\n' "${missing[@]}" | grep -qx crowdsec; then spoa_prepare_offline_crowdsec; fi
  # haproxy's postinst would start the packaged service on :80 etc.; tests run their own.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
