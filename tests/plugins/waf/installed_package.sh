#!/usr/bin/env bash
# The installed spoa-host-waf package, as an operator meets it: the plugin and the example
# configs are where the package says, the plugin loads Debian's CRS from modsecurity-crs,
# the example spoa-host.toml checks out as written (as the service user), a SQL injection
# gets action=deny from the installed binary, and the service runs with jemalloc (the
# package's systemd drop-in) without loosening the unit's sandbox.
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
echo "ok"

# The package's drop-in, as systemd itself reads the installed unit: its [Service] must
# preload jemalloc, and the unit must keep loading cleanly and as tightly sandboxed.
# `systemctl show` needs systemd as PID 1 (used when it is); systemd-analyze reads the
# unit files the way the manager does without one.
step "the installed spoa-host.service runs with jemalloc (drop-in of spoa-host-waf)"
unit=/lib/systemd/system/spoa-host.service
dropin=/lib/systemd/system/spoa-host.service.d/waf-jemalloc.conf
preload=libjemalloc.so.2
[[ -e $dropin ]] || fail "missing $dropin"
dpkg -S "$dropin" | grep -q '^spoa-host-waf:' || fail "$dropin is not spoa-host-waf's"
dpkg-query -W -f='${Depends}\n' spoa-host-waf | grep -q 'libjemalloc2' ||
  fail "spoa-host-waf does not depend on libjemalloc2"
merged=$(systemd-analyze cat-config "$unit") || fail "systemd-analyze cat-config $unit"
# It names the files by their /usr path where /lib is a link to usr/lib (merged /usr).
grep -qxE "# (/usr)?$dropin" <<<"$merged" || fail "cat-config does not show $dropin: $merged"
# The last Environment= naming LD_PRELOAD wins, as systemd merges drop-ins in order.
environment=$(grep '^Environment=.*LD_PRELOAD=' <<<"$merged" | tail -n 1 | sed 's/^Environment=//')
[[ $environment == "LD_PRELOAD=$preload" ]] ||
  fail "the unit's environment is '$environment', expected LD_PRELOAD=$preload"
echo "ok: $environment from $dropin"
if [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  shown=$(systemctl show -p Environment spoa-host)
  echo "$shown"
  grep -q "LD_PRELOAD=$preload" <<<"$shown" || fail "systemctl show: $shown"
fi
# systemd-analyze security loads the drop-ins and warns on a key it does not know.
security=$(systemd-analyze security --offline=true --threshold=25 --no-pager "$unit" 2>&1) ||
  fail "systemd-analyze security (exposure above 2.5 or an error): $security"
tail -n 1 <<<"$security"
if grep -q "$dropin" <<<"$security"; then
  fail "systemd complains about $dropin: $security"
fi
# MemoryDenyWriteExecute=yes: ld.so would have to make the stack executable for a
# preloaded library that asks for it, which the unit's seccomp filter refuses.
library=$(ldconfig -p | awk -v so="$preload" '$1 == so && $NF ~ /^\// {print $NF; exit}')
[[ -n $library ]] || fail "ld.so does not find $preload (ldconfig -p)"
readelf -lW "$library" | grep -E '^ +GNU_STACK' | grep -qv 'RWE' ||
  fail "$library asks for an executable stack"

# The daemon started with that environment, as the service user, with the waf example
# config on a free port: jemalloc is mapped into it, and it answers and drains as usual.
step "spoa-host with the unit's environment: jemalloc loaded, ready, exit 0 on SIGTERM"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"${sudo[@]}" env "$environment" setpriv --reuid=spoa-host --regid=spoa-host --init-groups -- \
  "$host" -c "$examples/spoa-host.toml" --listen 127.0.0.1:0 >"$log" 2>&1 &
daemon=$!
# Loading the CRS takes a few seconds; the bound only stops a hung start.
for _ in $(seq 600); do
  grep -q 'ready' "$log" && break
  kill -0 "$daemon" 2>/dev/null || break
  sleep 0.1
done
cat "$log"
grep -q 'ready' "$log" || {
  kill -KILL "$daemon" 2>/dev/null || true
  fail "the daemon did not report ready"
}
if grep -q 'cannot be preloaded' "$log"; then
  kill -TERM "$daemon"
  fail "ld.so refused the preload"
fi
# $daemon is sudo's or setpriv's pid; setpriv execs the daemon, env too.
pid=$daemon
[[ -z ${sudo[*]} ]] || pid=$(pgrep -P "$daemon" -x spoa-host || true)
mapped=$(grep -c "/${preload}\$" "/proc/$pid/maps" || true)
kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
((mapped > 0)) || fail "$preload is not mapped into the daemon (pid $pid)"
((rc == 0)) || fail "the daemon exited $rc after SIGTERM"
# The plugin's own report: malloc() resolves to jemalloc's, not only the file mapped.
grep -q "malloc() from $preload" "$log" || fail "the waf plugin did not report malloc() from $preload"
echo "ok: $preload mapped and providing malloc(), ready, drained, exit 0"
echo "ok: installed spoa-host-waf works with Debian's CRS"
