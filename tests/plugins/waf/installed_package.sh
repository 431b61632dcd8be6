#!/usr/bin/env bash
# The installed spoa-host-waf package, as an operator meets it: the plugin and the example
# configs are where the package says, the plugin loads Debian's CRS from modsecurity-crs,
# the example spoa-host.toml checks out as written (as the service user), and a SQL
# injection gets action=deny from the installed binary.
#
# Runs after tests/packaging/deb_build_install.sh (CTest fixture spoa_deb_installed),
# which builds, lintians and installs every package of debian/control.
set -euo pipefail
fail() {
  echo "FAIL: $*"
  exit 1
}
step() { echo "=== $*"; }
host=/usr/sbin/spoa-host
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
plugin="/usr/lib/$multiarch/spoa-host/plugins/waf.so"
examples=/usr/share/doc/spoa-host-waf/examples

step "package contents"
dpkg-query -W -f='${Status}\n' spoa-host-waf | grep -q 'install ok installed' ||
  fail "spoa-host-waf is not installed"
for file in "$plugin" "$examples/spoa-host.toml" "$examples/spoe.conf" "$examples/haproxy.cfg"; do
  [[ -e $file ]] || fail "missing $file"
done
dpkg-query -W -f='${Depends}\n' spoa-host-waf | grep -q 'libmodsecurity3' ||
  fail "spoa-host-waf does not depend on libmodsecurity3"
dpkg-query -W -f='${Recommends}\n' spoa-host-waf | grep -q 'modsecurity-crs' ||
  fail "spoa-host-waf does not recommend modsecurity-crs"
# The base package must not pull ModSecurity in.
if dpkg-query -W -f='${Depends}\n' spoa-host | grep -q modsecurity; then
  fail "spoa-host depends on ModSecurity"
fi
[[ -e /etc/modsecurity/crs/crs-setup.conf ]] || fail "modsecurity-crs is not installed"
echo "ok"

step "the example spoa-host.toml, as written, as the service user"
sudo=()
((EUID == 0)) || sudo=(sudo -n)
out=$("${sudo[@]}" setpriv --reuid=spoa-host --regid=spoa-host --init-groups -- \
  "$host" --check-config -c "$examples/spoa-host.toml" 2>&1) ||
  fail "--check-config of $examples/spoa-host.toml: $out"
echo "$out"
grep -q "configuration OK" <<<"$out" || fail "--check-config printed '$out'"

step "a SQL injection through the installed plugin"
out=$("$host" -c "$examples/spoa-host.toml" --test waf-req method=string:GET \
  "path=string:/item?id=1%27%20OR%20%271%27=%271" 2>&1) || fail "--test: $out"
echo "$out" | grep -v 'ModSecurity: Warning'
grep -q 'set-var txn.action string "deny"' <<<"$out" || fail "no action=deny"
grep -q '942100' <<<"$out" || fail "rule 942100 not reported"
echo "ok: installed spoa-host-waf works with Debian's CRS"
