#!/usr/bin/env bash
# A plugin author's path, against the installed spoa-host-dev: builds the plugins of
# tests/packaging/plugin/ out of tree, with CMake (find_package(spoa-host-sdk) and
# spoa_add_plugin) and with nothing but `pkg-config --cflags spoa-host-sdk`, then has the
# installed /usr/sbin/spoa-host check a config that loads them and answer one message each.
#
#   out_of_tree_plugin.sh PLUGIN_SOURCE_DIR WORK_DIR
#
# Runs after deb_build_install.sh (CTest fixture), which installs the packages.
set -euo pipefail

plugin_src=$(realpath "$1")
work=$2
host=/usr/sbin/spoa-host

fail() {
  echo "FAIL: $*"
  exit 1
}
step() { echo "=== $*"; }

[[ -x $host ]] || fail "$host is not installed (run deb_build_install.sh first)"
pkg-config --exists spoa-host-sdk || fail "pkg-config does not know spoa-host-sdk"
rm -rf "$work"
mkdir -p "$work"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
installed_plugin_dir="/usr/lib/$multiarch/spoa-host/plugins"

# The SDK's idea of where plugins go must be the host's.
step "pkg-config"
pc_plugin_dir=$(pkg-config --variable=plugindir spoa-host-sdk)
pc_plugin_dir=$(realpath -m "$pc_plugin_dir")
echo "plugindir=$pc_plugin_dir cflags=$(pkg-config --cflags spoa-host-sdk)" \
  "version=$(pkg-config --modversion spoa-host-sdk)"
[[ $pc_plugin_dir == "$installed_plugin_dir" ]] ||
  fail "pkg-config plugindir is $pc_plugin_dir, the package installs to $installed_plugin_dir"

# CMake: exactly the README's recipe, in a fresh build tree with no hint where the SDK is.
step "CMake: find_package(spoa-host-sdk 1) + spoa_add_plugin(greeter)"
cmake -S "$plugin_src" -B "$work/cmake-build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  >"$work/cmake-configure.log" 2>&1 || {
  cat "$work/cmake-configure.log"
  fail "configuring the out-of-tree plugin"
}
grep 'spoa-host-sdk_' "$work/cmake-configure.log"
cmake_plugin_dir=$(sed -n 's/.*spoa-host-sdk_PLUGIN_DIR=//p' "$work/cmake-configure.log")
[[ $(realpath -m "$cmake_plugin_dir") == "$installed_plugin_dir" ]] ||
  fail "CMake spoa-host-sdk_PLUGIN_DIR is $cmake_plugin_dir, expected $installed_plugin_dir"
cmake --build "$work/cmake-build" || fail "building greeter.so with CMake"
greeter="$work/cmake-build/greeter.so"
[[ -f $greeter ]] || fail "spoa_add_plugin did not make $greeter"

# pkg-config: the one-line build of plugins/example-c's header comment, for plain C99.
step "pkg-config: cc -std=c99 \$(pkg-config --cflags spoa-host-sdk) answer.c"
mkdir -p "$work/pc-build"
# shellcheck disable=SC2046 # the flags are meant to split
cc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -shared -fPIC -fvisibility=hidden \
  -Wl,--no-undefined $(pkg-config --cflags spoa-host-sdk) "$plugin_src/answer.c" \
  -o "$work/pc-build/answer.so" || fail "building answer.so with pkg-config"

# Both exports are exactly the entry symbol (hidden visibility everywhere else).
for so in "$greeter" "$work/pc-build/answer.so"; do
  exports=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort | tr '\n' ' ')
  [[ $exports == "spoa_plugin_entry_v1 " ]] ||
    fail "$(basename "$so") exports '$exports', expected only spoa_plugin_entry_v1"
done

# One config with both, and the bundled echo by bare name from the installed directory.
config="$work/spoa-host.toml"
cat >"$config" <<EOF
[server]
listen = ["127.0.0.1:0"]

[plugins.greeter]
path = "cmake-build/greeter.so"   # relative to this file's folder
messages = ["greet"]
[plugins.greeter.config]
greeting = "bonjour"

[plugins.answer]
path = "$work/pc-build/answer.so"
messages = ["answer"]

[plugins.echo]
path = "echo.so"
messages = ["echo"]
EOF

step "$host --check-config -c $config"
out=$($host --check-config -c "$config" 2>&1) || fail "--check-config: $out"
echo "$out"
[[ $out == "configuration OK" ]] || fail "--check-config printed '$out'"

step "$host --test greet / answer / echo"
expect_test() {
  local message=$1 pattern=$2 out
  shift 2
  out=$($host -c "$config" --test "$message" "$@" 2>&1) || fail "--test $message: $out"
  echo "$out"
  grep -Eq "$pattern" <<<"$out" || fail "--test $message: no line matching /$pattern/"
}
expect_test greet 'txn\.greeting .*bonjour'
expect_test answer 'txn\.answer .*42'
expect_test echo 'txn\.x .*y' x=string:y

echo "out_of_tree_plugin: all checks passed"
