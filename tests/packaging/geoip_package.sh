#!/usr/bin/env bash
# The installed spoa-host-geoip package, after deb_build_install.sh built and installed it:
# the base package does not pull libmaxminddb, the plugin is where the daemon looks, and
# the installed daemon runs it (--check-config, --test) against a database written here.
#
#   geoip_package.sh SOURCE_DIR WORK_DIR
set -euo pipefail
source_dir=$(realpath "$1")
work_dir=$2
fail() {
  echo "FAIL: $*"
  exit 1
}
dpkg-query -W -f='${Status}' spoa-host-geoip 2>/dev/null | grep -q 'install ok installed' ||
  fail "spoa-host-geoip is not installed (packaging.deb_build_install installs it)"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
plugin="/usr/lib/$multiarch/spoa-host/plugins/geoip.so"

echo "=== package contents and dependencies"
[[ $(dpkg -S "$plugin" 2>/dev/null) == "spoa-host-geoip: $plugin" ]] ||
  fail "$plugin does not belong to spoa-host-geoip: $(dpkg -S "$plugin" 2>&1)"
depends=$(dpkg-query -W -f='${Depends}' spoa-host)
if grep -q maxminddb <<<"$depends"; then fail "spoa-host depends on libmaxminddb: $depends"; fi
grep -q libmaxminddb <<<"$(dpkg-query -W -f='${Depends}' spoa-host-geoip)" ||
  fail "spoa-host-geoip does not depend on libmaxminddb"
if dpkg -L spoa-host | grep -q 'geoip'; then fail "spoa-host ships a geoip file"; fi
echo "ok: $plugin is spoa-host-geoip's; spoa-host depends on: $depends"

echo "=== the installed daemon runs the installed plugin"
rm -rf "$work_dir"
mkdir -p "$work_dir"
perl "$source_dir/tests/plugins/geoip/make_fixtures.pl" "$work_dir"
cat >"$work_dir/spoa-host.toml" <<TOML
[plugins.geoip]
path = "geoip.so"
messages = ["geoip"]
[plugins.geoip.config.databases.city]
file = "$work_dir/city-v1.mmdb"
[plugins.geoip.config.databases.city.variables]
country = "country.iso_code"
TOML
out=$(/usr/sbin/spoa-host --check-config -c "$work_dir/spoa-host.toml" 2>&1) ||
  fail "--check-config: $out"
[[ $out == *"configuration OK"* ]] || fail "--check-config printed: $out"
out=$(/usr/sbin/spoa-host -c "$work_dir/spoa-host.toml" --test geoip src=ipv4:192.0.2.1 2>&1) ||
  fail "--test geoip: $out"
echo "$out"
grep -qF 'set-var txn.country string "DE"' <<<"$out" || fail "no country in: $out"
echo "geoip_package: all checks passed"
