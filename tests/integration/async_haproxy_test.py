#!/usr/bin/env python3
"""async against real HAProxy 2.6: a connection lost under load loses no verdict.

HAProxy <= 3.0 with `option async` waits for a NOTIFY's ACK on any connection of the same
engine-id (its thread), as long as one of them lives. This test puts a small TCP relay
between HAProxy (nbthread 1, max-waiting-frames 10, so 40 concurrent requests need several
SPOE connections) and spoa-host (capabilities pipelining + async, the delay plugin answering
after 1 s). While 40 requests wait for their ACKs, the relay cuts one of the busy
connections on both sides. spoa-host must send the ACKs of that connection on a sibling,
and every request must come back with the plugin's variable and without txn.spoa.error.

Uses the e2e harness (tests/e2e/haproxy_e2e.py) for ports, processes and HAProxy configs.
Exit 77 (SKIP) without HAProxy.
"""
import argparse
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import traceback

SKIP = 77


class Relay:
    """TCP relay on loopback: one upstream connection per accepted one, bytes copied both
    ways by two threads; cut() closes one pair on both sides at once."""

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind(("127.0.0.1", 0))  # kept open: the port cannot be taken
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.pairs = []  # [client, upstream, bytes to upstream, open]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            pair = [client, upstream, 0, True]
            with self.lock:
                self.pairs.append(pair)
            threading.Thread(target=self._copy, args=(pair, client, upstream, True),
                             daemon=True).start()
            threading.Thread(target=self._copy, args=(pair, upstream, client, False),
                             daemon=True).start()

    def _copy(self, pair, src, dst, to_upstream):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                if to_upstream:
                    with self.lock:
                        pair[2] += len(data)
        except OSError:
            pass
        self._close(pair)

    def _close(self, pair):
        with self.lock:
            if not pair[3]:
                return
            pair[3] = False
        for s in (pair[0], pair[1]):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def busy_pairs(self, min_bytes):
        with self.lock:
            return [p for p in self.pairs if p[3] and p[2] >= min_bytes]

    def cut(self, pair):
        self._close(pair)

    def stop(self):
        self.stopped = True
        self.listener.close()
        with self.lock:
            pairs = list(self.pairs)
        for pair in pairs:
            self._close(pair)


def agent_config(setup):
    text = f"""[server]
listen = ["127.0.0.1:{setup.agent_port}"]
threads = 2
capabilities = ["pipelining", "async"]

[timeouts]
processing = "4s"

[log]
level = "debug"
target = "stderr"

[plugins.delay]
path = "delay.so"
messages = ["echo"]

[plugins.delay.config]
delay = "1s"
messages = "echo"
"""
    path = os.path.join(setup.workdir, "spoa-host.toml")
    e2e.write(path, text)
    return path


def haproxy_config(setup, relay_port):
    cfg_path = setup.write_haproxy_config(agents={"agent1": f"127.0.0.1:{relay_port}"},
                                          global_lines=("nbthread 1",))
    spoe_path = os.path.join(setup.workdir, "spoe.conf")
    spoe = e2e.read(spoe_path)
    spoe = e2e.substitute(spoe, "    use-backend spoa_agents\n",
                          "    use-backend spoa_agents\n    option async\n"
                          "    max-waiting-frames 10\n", "spoe.conf")
    e2e.write(spoe_path, spoe)
    cfg = e2e.read(cfg_path)
    cfg = e2e.substitute(cfg, "    http-response set-header X-Spoa-Ip %[var(txn.spoa.ip)]\n",
                         "    http-response set-header X-Spoa-Delay %[var(txn.spoa.delay_ms)]\n",
                         "haproxy.cfg")
    e2e.write(cfg_path, cfg)
    return cfg_path


def run(setup):
    setup.start_agent(agent_config(setup))
    relay = Relay(setup.agent_port)
    try:
        setup.start_haproxy(haproxy_config(setup, relay.port))
        results = []
        lock = threading.Lock()

        def one(i):
            try:
                status, headers, _ = setup.request(f"/r{i}", timeout=20)
                outcome = (status, headers.get("x-spoa-delay"), headers.get("x-spoa-error"))
            except Exception as e:  # noqa: BLE001 - reported below
                outcome = ("exception", repr(e), None)
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
        for t in threads:
            t.start()
        # Wait until the NOTIFYs are out on at least two connections, then cut the
        # busiest one while the plugin still works on them (it answers after 1 s).
        deadline = time.monotonic() + 10
        busy = []
        while time.monotonic() < deadline:
            busy = relay.busy_pairs(min_bytes=250)  # the HELLO and a few NOTIFYs
            if len(busy) >= 2:
                break
            time.sleep(0.02)
        e2e.check(len(busy) >= 2, f"HAProxy used {len(busy)} busy SPOE connection(s); "
                  "need two to lose one")
        victim = max(busy, key=lambda p: p[2])
        relay.cut(victim)
        for t in threads:
            t.join(30)
        e2e.check(len(results) == 40, f"{len(results)} of 40 requests came back")
        failed = [r for r in results if r != (200, "1000", None)]
        e2e.check(not failed, f"{len(failed)} of 40 requests lost their verdict: {failed[:5]}")
        e2e.check("rerouted to a sibling connection" in setup.agent.log(),
                  "no ACK was rerouted: the cut connection had nothing pending")
    finally:
        relay.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spoa-host", required=True)
    parser.add_argument("--plugin-dir", required=True)
    parser.add_argument("--config-dir", required=True)
    parser.add_argument("--e2e-dir", required=True, help="tests/e2e, for haproxy_e2e.py")
    parser.add_argument("--haproxy", default="/usr/sbin/haproxy")
    args = parser.parse_args()
    for name in ("spoa_host", "plugin_dir", "config_dir", "haproxy", "e2e_dir"):
        setattr(args, name, os.path.abspath(getattr(args, name)))
    if not (os.path.isfile(args.haproxy) and os.access(args.haproxy, os.X_OK)):
        print(f"SKIP: {args.haproxy} not found")
        return SKIP
    sys.path.insert(0, args.e2e_dir)
    global e2e
    import haproxy_e2e as e2e  # noqa: E402 - path set just above

    workdir = tempfile.mkdtemp(prefix="spoa-async-")
    setup = e2e.Setup(args, workdir)
    ok = False
    try:
        run(setup)
        ok = True
    except Exception:  # noqa: BLE001 - every failure is reported with the logs
        traceback.print_exc()
    finally:
        setup.cleanup()
        if not ok:
            setup.dump_logs()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"async_haproxy: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


e2e = None
if __name__ == "__main__":
    sys.exit(main())
