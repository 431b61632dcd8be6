#!/usr/bin/env bash
# Builds the Debian packages from a copy of the source tree, holds them to lintian, installs
# them on this machine and checks the installed daemon, config, plugins and units.
#
#   deb_build_install.sh SOURCE_DIR WORK_DIR
#
# Needs root (or sudo) for apt-get and dpkg: run it on a disposable CI machine. The
# packages stay installed afterwards (out_of_tree_plugin.sh builds against them); remove
# them with `apt-get purge spoa-host spoa-host-dev`. WORK_DIR keeps the .debs, the build
# log and the lintian output for inspection.
set -euo pipefail

source_dir=$(realpath "$1")
work_dir=$2

sudo=()
if ((EUID != 0)); then
  if ! sudo -n true 2>/dev/null; then
    echo "SKIP: needs root or password-less sudo to install packages"
    exit 77
  fi
  sudo=(sudo -n)
fi
apt_get() {
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -y -q "$@"
}
apt_updated=false
apt_install() {
  if ! $apt_updated; then
    apt_get update -qq
    apt_updated=true
  fi
  apt_get install --no-install-recommends "$@"
}
step() { echo "=== $*"; }
fail() {
  echo "FAIL: $*"
  exit 1
}

# The units and the man page reach debian/tmp only through these (debian/*.install).
for dir in systemd doc; do
  grep -q "^add_subdirectory($dir)" "$source_dir/CMakeLists.txt" ||
    fail "$source_dir/CMakeLists.txt lacks add_subdirectory($dir): the package would miss files"
done

# --- the tools of the packaging itself ------------------------------------------------
missing=()
for tool in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if ((${#missing[@]})); then
  step "installing ${missing[*]}"
  apt_install "${missing[@]}"
fi

# --- a clean copy of the tree ---------------------------------------------------------
# What git would commit (tracked and new files, minus .gitignore: no build trees, no
# debian/ leftovers), so the result does not depend on this checkout's build directories.
step "copying $source_dir to $work_dir"
[[ $work_dir == /*/* ]] || fail "WORK_DIR must be an absolute path below /, got '$work_dir'"
"${sudo[@]}" rm -rf "$work_dir"
mkdir -p "$work_dir"
version=$(cd "$source_dir" && dpkg-parsechangelog -S Version)
src="$work_dir/spoa-host-$version"
mkdir "$src"
if git -C "$source_dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # --ignore-failed-read: a file deleted but not yet committed is listed and missing.
  (cd "$source_dir" && git ls-files -z --cached --others --exclude-standard |
    tar -cf - --null --no-recursion --ignore-failed-read -T -) | tar -xf - -C "$src"
else
  tar -C "$source_dir" -cf - --exclude='./build*' --exclude='./obj-*' --exclude=.git \
    --exclude='./debian/.debhelper' --exclude='./debian/tmp' --exclude='./debian/files' \
    --exclude='./debian/spoa-host' --exclude='./debian/spoa-host-dev' . | tar -xf - -C "$src"
fi

# --- build dependencies ---------------------------------------------------------------
if ! (cd "$src" && dpkg-checkbuilddeps); then
  step "installing the missing build dependencies"
  apt_get update -qq
  apt_updated=true
  # apt reads Build-Depends (versions, alternatives) from the unpacked tree itself.
  apt_get build-dep --no-install-recommends "$src"
  (cd "$src" && dpkg-checkbuilddeps)
fi

# --- build ----------------------------------------------------------------------------
step "dpkg-buildpackage -us -uc -b (log: $work_dir/build.log)"
start=$(date +%s)
if ! (cd "$src" && dpkg-buildpackage -us -uc -b -jauto) >"$work_dir/build.log" 2>&1; then
  tail -n 60 "$work_dir/build.log"
  fail "dpkg-buildpackage"
fi
echo "built in $(($(date +%s) - start)) s on $(nproc) CPUs"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
changes="$work_dir/spoa-host_${version}_${arch}.changes"
daemon_deb="$work_dir/spoa-host_${version}_${arch}.deb"
dev_deb="$work_dir/spoa-host-dev_${version}_${arch}.deb"
# Plugins with dependencies of their own ship as packages of their own (spoa-host-geoip...):
# every other Package: of debian/control.
extra_packages=()
while read -r package; do
  [[ $package == spoa-host || $package == spoa-host-dev ]] || extra_packages+=("$package")
done < <(sed -n 's/^Package: *//p' "$src/debian/control")
extra_debs=()
for package in "${extra_packages[@]}"; do
  extra_debs+=("$work_dir/${package}_${version}_${arch}.deb")
done
for file in "$changes" "$daemon_deb" "$dev_deb" "${extra_debs[@]}"; do
  [[ -f $file ]] || fail "dpkg-buildpackage did not make $file"
done
for deb in "$daemon_deb" "$dev_deb" "${extra_debs[@]}"; do
  echo "--- $(basename "$deb")"
  dpkg-deb --contents "$deb" | awk '{print $1, $2, $6, $7, $8}'
done

# --- lintian --------------------------------------------------------------------------
# Everything is shown, down to pedantic and experimental tags; only errors fail the test.
step "lintian (output: $work_dir/lintian.txt)"
rc=0
lintian --display-info --pedantic --display-experimental --fail-on error "$changes" \
  >"$work_dir/lintian.txt" 2>&1 || rc=$?
cat "$work_dir/lintian.txt"
if ((rc != 0)) || grep -q '^E: ' "$work_dir/lintian.txt"; then
  fail "lintian reports errors (exit $rc)"
fi

# --- install --------------------------------------------------------------------------
step "installing $(basename "$daemon_deb") $(basename "$dev_deb") ${extra_debs[*]##*/}"
# Where systemd runs, the postinst would start spoa-host.service on 127.0.0.1:12345, in
# the way of the tests that run next. A policy-rc.d that forbids every action (exit 101)
# is Debian's way to install without starting; only one that this test created is removed.
policy=/usr/sbin/policy-rc.d
policy_created=false
if [[ -d /run/systemd/system && ! -e $policy ]]; then
  printf '#!/bin/sh\n# Made by spoa-host tests/packaging/deb_build_install.sh\nexit 101\n' |
    "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  policy_created=true
  trap '"${sudo[@]}" rm -f "$policy"' EXIT
fi
# Runtime dependencies not installed yet leave dpkg half done; apt completes it.
if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive dpkg -i "$daemon_deb" "$dev_deb" \
  "${extra_debs[@]}"; then
  apt_get update -qq
  apt_get -f install
fi
if $policy_created; then
  "${sudo[@]}" rm -f "$policy"
  trap - EXIT
fi
for package in spoa-host spoa-host-dev "${extra_packages[@]}"; do
  installed=$(dpkg-query -W -f='${Status} ${Version}' "$package" 2>/dev/null || true)
  [[ $installed == "install ok installed $version" ]] ||
    fail "$package is not installed at $version: '$installed'"
done

# --- the installed package ------------------------------------------------------------
step "checking the installed files"
plugin_dir="/usr/lib/$multiarch/spoa-host/plugins"
conf=/etc/spoa-host/spoa-host.toml
expect_file() { [[ -e $1 ]] || fail "missing $1"; }
for file in /usr/sbin/spoa-host "$conf" "$plugin_dir/echo.so" \
  /lib/systemd/system/spoa-host.service /lib/systemd/system/spoa-host.socket \
  /usr/lib/sysusers.d/spoa-host.conf /usr/share/man/man8/spoa-host.8.gz \
  /usr/share/spoa-host/haproxy-socket-dir.conf \
  /usr/include/spoa/plugin.h /usr/include/spoa/plugin.hpp \
  "/usr/lib/$multiarch/cmake/spoa-host-sdk/spoa-host-sdkConfig.cmake" \
  "/usr/lib/$multiarch/pkgconfig/spoa-host-sdk.pc"; do
  expect_file "$file"
done
dpkg-query -W -f='${Conffiles}\n' spoa-host | grep -q "^ $conf " ||
  fail "$conf is not a conffile of spoa-host"
getent passwd spoa-host >/dev/null || fail "no user spoa-host (sysusers.d)"
getent group spoa-host >/dev/null || fail "no group spoa-host (sysusers.d)"
perms=$(stat -c '%a %U:%G' "$conf")
[[ $perms == "640 root:spoa-host" ]] || fail "$conf is $perms, expected 640 root:spoa-host"
echo "ok: files in place, $conf is a conffile, $perms, user and group spoa-host exist"

step "spoa-host --version"
out=$(/usr/sbin/spoa-host --version)
echo "$out"
[[ $out == "spoa-host ${version%%-*} "* ]] || fail "--version does not say ${version%%-*}"

# The installed config names "echo.so" bare: this resolves only if the compiled-in plugin
# directory is where the package put the plugins (the multiarch libdir).
step "spoa-host --check-config, as the service user"
as_service_user=("${sudo[@]}" setpriv --reuid=spoa-host --regid=spoa-host --init-groups --)
out=$("${as_service_user[@]}" /usr/sbin/spoa-host --check-config 2>&1) ||
  fail "--check-config of the installed config: $out"
echo "$out"
[[ $out == "configuration OK" ]] || fail "--check-config printed '$out'"
out=$(/usr/sbin/spoa-host --check-config -c "$conf" 2>&1) || fail "--check-config -c $conf: $out"
grep -qF "$plugin_dir" /usr/sbin/spoa-host ||
  fail "the binary does not name $plugin_dir as its plugin directory"
echo "ok: the compiled-in plugin directory is $plugin_dir"

step "spoa-host --test echo, with the installed config and plugin"
out=$(/usr/sbin/spoa-host --test echo greeting=string:hi 2>&1) || fail "--test echo: $out"
echo "$out"
grep -q 'greeting' <<<"$out" || fail "the echo plugin did not answer with txn.greeting"

# Started by hand the way the unit starts it (as its user, the installed config) on a free
# port: it must come up, and drain and exit 0 on SIGTERM.
step "spoa-host as the service user: start, SIGTERM, exit 0"
log="$work_dir/daemon.log"
"${as_service_user[@]}" /usr/sbin/spoa-host --listen 127.0.0.1:0 --threads 1 \
  >"$log" 2>&1 &
daemon=$!
for _ in $(seq 100); do
  grep -q 'ready' "$log" && break
  kill -0 "$daemon" 2>/dev/null || break
  sleep 0.1
done
cat "$log"
grep -q 'ready' "$log" || {
  kill -KILL "$daemon" 2>/dev/null || true
  fail "the daemon did not report ready"
}
# setpriv execs the daemon, so $daemon is its pid (or sudo's, which forwards the signal).
kill -TERM "$daemon"
rc=0
wait "$daemon" || rc=$?
((rc == 0)) || fail "the daemon exited $rc after SIGTERM"
echo "ok: ready, drained, exit 0"

# The installed units, with the real paths this time (and the installed man page).
step "systemd-analyze verify on the installed units"
if command -v systemd-analyze >/dev/null; then
  out=$(systemd-analyze verify --man=yes /lib/systemd/system/spoa-host.service \
    /lib/systemd/system/spoa-host.socket 2>&1) || fail "systemd-analyze verify: $out"
  [[ -z $out ]] || fail "systemd-analyze verify: $out"
  echo "ok"
fi

echo "deb_build_install: all checks passed"
