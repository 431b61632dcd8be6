#!/usr/bin/env bash
# The unix socket the package offers to Debian's stock haproxy, tried for real with the
# installed package (deb_build_install.sh) and the haproxy package:
#
# 1. the folder setup of spoa-host.service: its ExecStartPre= command, taken from the
#    installed unit and run as systemd would run a '+' line (as root), makes
#    /var/lib/haproxy/spoa-host 2750 spoa-host:haproxy;
# 2. the daemon, as the service user, listens on the unix path the installed config
#    offers; the socket is 0660 spoa-host:haproxy;
# 3. haproxy with the stock global section (chroot /var/lib/haproxy, user and group
#    haproxy) answers an HTTP request through the SPOE filter with the agent's variables,
#    over the socket as seen from inside its chroot, and its SPOP health check passes;
# 4. a user outside group haproxy cannot connect.
#
# Without systemd as PID 1 the unit itself cannot run here: its commands and paths are what
# is checked. HAProxy's frontend and demo backend listen on a unix socket and an abstract
# one, so the test needs no TCP port at all.
#
#   haproxy_chroot_socket.sh WORK_DIR
set -euo pipefail

work_dir=$1
unit=/lib/systemd/system/spoa-host.service
conf=/etc/spoa-host/spoa-host.toml
chroot_dir=/var/lib/haproxy
haproxy=/usr/sbin/haproxy

fail() {
  echo "FAIL: $*"
  exit 1
}
step() { echo "=== $*"; }
if ((EUID != 0)); then
  echo "SKIP: needs root (chroot, other users)"
  exit 77
fi
for need in "$unit" "$conf" /usr/sbin/spoa-host "$haproxy" /usr/bin/curl /usr/bin/python3; do
  [[ -e $need ]] || {
    echo "SKIP: $need missing (packages spoa-host, haproxy, curl, python3)"
    exit 77
  }
done
getent group haproxy >/dev/null || {
  echo "SKIP: no group haproxy"
  exit 77
}

rm -rf "$work_dir"
mkdir -p "$work_dir"
chmod 0755 "$work_dir"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
# Waits up to 60 s for a command to succeed (an event, not a delay).
wait_for() {
  local what=$1
  shift
  for _ in $(seq 600); do
    "$@" && return 0
    sleep 0.1
  done
  fail "timed out waiting for $what"
}

step "the folder setup of $unit"
line=$(grep -E '^ExecStartPre=\+.*haproxy' "$unit") || fail "$unit has no ExecStartPre=+ line for haproxy"
echo "$line"
command=${line#ExecStartPre=+}
# systemd runs the line itself, without a shell: /bin/sh -c '...' is its own argument list.
eval "set -- $command"
"$@" || fail "the ExecStartPre command failed"
folder=$chroot_dir/spoa-host
perms=$(stat -c '%a %U:%G' "$folder") || fail "no $folder"
[[ $perms == "2750 spoa-host:haproxy" ]] || fail "$folder is $perms, expected 2750 spoa-host:haproxy"
grep -qx 'ReadWritePaths=-/var/lib/haproxy/spoa-host' "$unit" ||
  fail "$unit does not make $folder writable in its sandbox"
echo "ok: $folder $perms"

step "the daemon on the unix socket the installed config offers"
socket=$(grep -Eo 'unix:/var/lib/haproxy/[^"]+' "$conf" | head -n 1)
[[ -n $socket ]] || fail "$conf offers no unix:/var/lib/haproxy/... listener"
socket=${socket#unix:}
echo "offered: unix:$socket"
[[ $(dirname "$socket") == "$folder" ]] || fail "$socket is not in $folder"
agent_log=$work_dir/agent.log
setpriv --reuid=spoa-host --regid=spoa-host --init-groups -- \
  /usr/sbin/spoa-host -c "$conf" --listen "unix:$socket" --threads 1 --log-level debug \
  >"$agent_log" 2>&1 &
pids+=($!)
agent=$!
wait_for "the agent's ready line" grep -q 'ready: listening on' "$agent_log"
perms=$(stat -c '%a %U:%G' "$socket")
[[ $perms == "660 spoa-host:haproxy" ]] || fail "$socket is $perms, expected 660 spoa-host:haproxy"
echo "ok: $socket $perms"

step "haproxy chrooted in $chroot_dir as user haproxy, through the socket"
inside=${socket#"$chroot_dir"}
cp /usr/share/doc/spoa-host/examples/spoe.conf "$work_dir/spoe.conf" 2>/dev/null ||
  zcat /usr/share/doc/spoa-host/examples/spoe.conf.gz >"$work_dir/spoe.conf" ||
  fail "no installed example spoe.conf"
cat >"$work_dir/haproxy.cfg" <<EOF
global
    log stdout format raw local0
    chroot $chroot_dir
    user haproxy
    group haproxy
    stats socket $work_dir/stats.sock mode 600 level admin
    nbthread 1

defaults
    mode http
    log global
    timeout connect 30s
    timeout client 60s
    timeout server 60s

frontend fe_web
    bind unix@$work_dir/fe.sock mode 666
    filter spoe engine spoa config $work_dir/spoe.conf
    http-response set-header X-Spoa-Path %[var(txn.spoa.path)]
    http-response set-header X-Spoa-Error %[var(txn.spoa.error)] if { var(txn.spoa.error) -m found }
    default_backend be_app

backend be_app
    server app1 abns@spoa-host-chroot-test-app

listen demo_app
    bind abns@spoa-host-chroot-test-app
    http-request return status 200 content-type text/plain string "hello from haproxy"

backend spoa_agents
    mode tcp
    timeout server 3m
    timeout check 30s
    option spop-check
    server agent1 unix@$inside check inter 500ms
EOF
# The test's own slack: HAProxy waits for the agent as long as the request may take.
sed -i 's/^\( *timeout processing\) .*/\1 30s/; s/^\( *timeout hello\) .*/\1 30s/' "$work_dir/spoe.conf"
"$haproxy" -c -f "$work_dir/haproxy.cfg" || fail "haproxy -c rejects the test config"
haproxy_log=$work_dir/haproxy.log
"$haproxy" -db -f "$work_dir/haproxy.cfg" >"$haproxy_log" 2>&1 &
pids+=($!)
wait_for "haproxy's frontend socket" test -S "$work_dir/fe.sock"
response=$(curl -s -i --max-time 60 --unix-socket "$work_dir/fe.sock" http://spoa.test/through-chroot) ||
  fail "curl through haproxy failed: $(cat "$haproxy_log")"
echo "$response"
grep -qi '^X-Spoa-Path: /through-chroot' <<<"$response" ||
  fail "no X-Spoa-Path from the agent. haproxy log:
$(cat "$haproxy_log")
agent log:
$(cat "$agent_log")"
! grep -qi '^X-Spoa-Error' <<<"$response" || fail "HAProxy set txn.spoa.error"
echo "ok: HAProxy (chroot, user haproxy) got the agent's variables over unix@$inside"

server_state() {
  /usr/bin/python3 - "$work_dir/stats.sock" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(b"show stat\n")
data = b""
while chunk := s.recv(65536):
    data += chunk
lines = data.decode().splitlines()
header = lines[0][2:].split(",")
for line in lines[1:]:
    row = dict(zip(header, line.split(",")))
    if row.get("pxname") == "spoa_agents" and row.get("svname") == "agent1":
        print(row["status"], row["check_status"])
EOF
}
check_passed() { [[ $(server_state) == "UP L7OK"* ]]; }
wait_for "a passed SPOP health check of agent1" check_passed
grep -q 'HELLO.*(health check)' "$agent_log" || fail "the agent logged no health-check HELLO"
echo "ok: health check $(server_state)"

step "a user outside group haproxy is refused"
if setpriv --reuid=nobody --regid=nogroup --clear-groups -- /usr/bin/python3 -c '
import socket, sys
socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$socket" 2>"$work_dir/nobody.err"; then
  fail "user nobody connected to $socket"
fi
grep -q 'PermissionError' "$work_dir/nobody.err" || fail "unexpected error: $(cat "$work_dir/nobody.err")"
echo "ok: nobody gets EACCES"

kill -TERM "$agent"
rc=0
wait "$agent" || rc=$?
((rc == 0)) || fail "the agent exited $rc after SIGTERM"
[[ ! -e $socket ]] || fail "the agent left $socket behind"
echo "haproxy_chroot_socket: all checks passed"
