#!/usr/bin/env python3
"""End-to-end tests of the geoip plugin: Debian's HAProxy 2.6 in front of spoa-host.

HAProxy and spoa-host run the README's example files (plugins/geoip/examples/) as written,
templated only to free loopback ports, a temporary folder and the test databases that
make_fixtures.pl writes (tests/plugins/geoip). Reuses the harness of haproxy_e2e.py.

Cases (--case): country (the variables arrive in request and response headers, from
several loopback source addresses), forwarded (the address a trusted proxy forwards in
X-Forwarded-For is the one looked up; an untrusted peer's header is not), reload_under_load (the database file is replaced by
rename while requests run: the answers change, a broken replacement keeps the old data,
and every request is answered by the agent: zero lost ACKs). Exit 0 pass, 1 fail, 77 skip.
"""

import argparse
import os
import shutil
import socket
import sys
import threading
import time
import traceback
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import haproxy_e2e as h  # noqa: E402  (the shared harness: Process, waits, substitutions)

check = h.check
Failure = h.Failure


class GeoipSetup:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.http_port = h.free_port()
        self.app_port = h.free_port()
        self.agent_port = h.free_port()
        self.processes = []
        self.agent = None
        self.haproxy = None
        self.city = os.path.join(workdir, "GeoLite2-City.mmdb")
        self.asn = os.path.join(workdir, "GeoLite2-ASN.mmdb")
        self.install_db("city-v1", self.city)
        self.install_db("asn", self.asn)

    def install_db(self, fixture, target):
        """As geoipupdate does: write beside the target, then rename over it."""
        tmp = target + ".tmp"
        shutil.copyfile(os.path.join(self.args.fixture_dir, fixture + ".mmdb"), tmp)
        os.rename(tmp, target)

    def example(self, name):
        return h.read(os.path.join(self.args.examples_dir, name))

    def write_configs(self):
        toml = self.example("spoa-host.toml")
        toml = h.substitute(toml, 'listen = ["127.0.0.1:12345"]',
                            f'listen = ["127.0.0.1:{self.agent_port}"]', "spoa-host.toml")
        toml = h.substitute(toml, 'reload_interval = "10s"', 'reload_interval = "100ms"',
                            "spoa-host.toml")
        # The examples' timeouts are for production; the test must not depend on a loaded
        # (sanitizer) machine meeting them: the harness's generous ones, same ordering.
        t = h.TEST_TIMEOUTS
        toml = h.substitute(toml, 'processing = "400ms"',
                            f'processing = "{t["agent_processing"]}"', "spoa-host.toml")
        toml = h.substitute(toml, "/var/lib/GeoIP/GeoLite2-City.mmdb", self.city, "spoa-host.toml")
        toml = h.substitute(toml, "/var/lib/GeoIP/GeoLite2-ASN.mmdb", self.asn, "spoa-host.toml")
        toml = "[log]\nlevel = \"debug\"\ntarget = \"stderr\"\n\n" + toml
        # The plugin's own series (ABI 1.1 metrics) are read back by the country case.
        toml = "[metrics]\nlisten = \"127.0.0.254:0\"\n\n" + toml
        self.toml_path = os.path.join(self.workdir, "spoa-host.toml")
        h.write(self.toml_path, toml)

        spoe_path = os.path.join(self.workdir, "spoe-geoip.conf")
        spoe = self.example("spoe-geoip.conf")
        spoe = h.substitute(spoe, "    timeout hello 2s\n", f"    timeout hello {t['haproxy_hello']}\n",
                            "spoe-geoip.conf")
        spoe = h.substitute(spoe, "    timeout processing 500ms\n",
                            f"    timeout processing {t['haproxy_processing']}\n", "spoe-geoip.conf")
        h.write(spoe_path, spoe)
        cfg = self.example("haproxy.cfg")
        cfg = h.substitute(cfg, "/etc/haproxy/spoe-geoip.conf", spoe_path, "haproxy.cfg")
        cfg = h.substitute(cfg, "bind 127.0.0.1:8080", f"bind 127.0.0.1:{self.http_port}",
                           "haproxy.cfg")
        cfg = h.substitute(cfg, "127.0.0.1:8000", f"127.0.0.1:{self.app_port}", "haproxy.cfg",
                           count=2)
        cfg = h.substitute(cfg, "server agent1 127.0.0.1:12345 check inter 5s",
                           f"server agent1 127.0.0.1:{self.agent_port} check inter 500ms",
                           "haproxy.cfg")
        cfg = h.substitute(cfg, "    option spop-check\n",
                           f"    option spop-check\n    timeout check {t['haproxy_check']}\n",
                           "haproxy.cfg")
        self.cfg_path = os.path.join(self.workdir, "haproxy.cfg")
        h.write(self.cfg_path, cfg)

    def start(self):
        self.write_configs()
        self.agent = h.Process("spoa-host", [self.args.spoa_host, "-c", self.toml_path,
                                             "--plugin-dir", self.args.plugin_dir], self.workdir)
        self.processes.append(self.agent)
        ready = h.wait_until(lambda: " ready: listening on " in self.agent.log()
                             or not self.agent.running(), h.START_TIMEOUT)
        check(ready and self.agent.running(), "spoa-host did not become ready")
        self.haproxy = h.Process("haproxy", [self.args.haproxy, "-db", "-f", self.cfg_path],
                                 self.workdir)
        self.processes.append(self.haproxy)

        def listening():
            try:
                with socket.create_connection(("127.0.0.1", self.http_port), timeout=1):
                    return True
            except OSError:
                return not self.haproxy.running()

        h.wait_until(listening, h.START_TIMEOUT)
        check(self.haproxy.running(), "haproxy exited at start")

    def request(self, source="127.0.0.1", path="/", headers=None):
        """GET through HAProxy from `source` (any 127.0.0.0/8 address can be bound)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=h.EVENT_TIMEOUT,
                                          source_address=(source, 0))
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            body = response.read().decode("utf-8", "replace")
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            conn.close()

    def cleanup(self):
        for p in self.processes:
            try:
                p.kill()
            except Exception:  # noqa: BLE001
                traceback.print_exc()

    def dump_logs(self):
        for p in self.processes:
            print(f"----- {p.name} (pid {p.pid}) -----")
            print(p.log())
        for name in ("spoa-host.toml", "haproxy.cfg"):
            print(f"----- {name} -----")
            print(h.read(os.path.join(self.workdir, name)))


def expect_no_failed_exchange(setup):
    """None of the SPOE exchanges HAProxy logged failed (the harness's spoe_exchanges says
    why the lines are no count: each case reads the answers from the responses)."""
    return h.expect_no_failed_spoe_exchange(setup.haproxy.log(), "geoip-agent")


def readme_shows_the_examples(setup):
    """The README's geoip section holds the example files verbatim, each in a code block:
    what this test runs is what an operator copies."""
    readme = h.read(setup.args.readme)
    for name in ("spoa-host.toml", "spoe-geoip.conf", "haproxy.cfg"):
        text = setup.example(name)
        check(f"```\n{text}```" in readme or any(f"```{lang}\n{text}```" in readme
                                                  for lang in ("toml", "haproxy", "ini")),
              f"{setup.args.readme} does not show plugins/geoip/examples/{name} verbatim")


def case_country(setup):
    readme_shows_the_examples(setup)
    setup.start()
    for source in ("127.0.0.1", "127.0.0.2", "127.3.4.5"):
        status, headers, body = setup.request(source)
        check(status == 200, f"from {source}: status {status} {body!r}")
        check("x-spoa-error" not in headers, f"from {source}: {headers}")
        check(headers.get("x-geo-country") == "DE",
              f"from {source}: X-Geo-Country {headers.get('x-geo-country')!r}, headers {headers}")
        # The same variables reached the application as request headers.
        check(body == "country=DE asn=64496\n", f"from {source}: application saw {body!r}")
    expect_no_failed_exchange(setup)
    # The plugin's metrics through the real host's /metrics. Lookups are handed over by the
    # watcher thread's periodic tick: wait for them.
    found = 'spoa_plugin_geoip_lookups_total{plugin="geoip",database="city",result="found"}'
    check(h.wait_until(lambda: h.agent_metrics(setup.agent).get(found, 0) >= 3, h.EVENT_TIMEOUT),
          f"{found} did not reach 3: {h.agent_metrics(setup.agent)}")
    samples = h.agent_metrics(setup.agent)
    for database in ("city", "asn"):
        for name in ("database_records", "database_last_load_success_timestamp_seconds"):
            series = f'spoa_plugin_geoip_{name}{{plugin="geoip",database="{database}"}}'
            check(samples.get(series, 0) > 0, f"{series} not exported: {samples}")


def case_forwarded(setup):
    """127.0.0.2 is a trusted proxy in the example: the address it forwards is the one looked
    up; the same header from an untrusted peer is ignored."""
    setup.start()
    cases = [
        ("127.0.0.2", "198.51.100.7", "US", "198.51.100.7"),
        ("127.0.0.2", "198.51.100.7, 127.0.0.2", "US", "198.51.100.7"),
        ("127.0.0.2", "192.0.2.44", "DE", "192.0.2.44"),
        ("127.0.0.3", "198.51.100.7", "DE", "127.0.0.3"),
        ("127.0.0.2", None, "DE", "127.0.0.2"),
    ]
    for source, xff, country, client in cases:
        status, headers, body = setup.request(source, headers={"X-Forwarded-For": xff} if xff
                                              else None)
        what = f"from {source} with X-Forwarded-For {xff!r}"
        check(status == 200 and "x-spoa-error" not in headers, f"{what}: {status} {headers}")
        check(headers.get("x-geo-country") == country,
              f"{what}: X-Geo-Country {headers.get('x-geo-country')!r}, expected {country}")
        check(headers.get("x-geo-client") == client,
              f"{what}: X-Geo-Client {headers.get('x-geo-client')!r}, expected {client}")
    expect_no_failed_exchange(setup)


# Requests per worker at most: the load is bounded in count as well as by the waits.
MAX_REQUESTS_PER_WORKER = 50000


def case_reload_under_load(setup):
    """The database is replaced twice while 4 clients send requests. Each answer is filed
    under the phase in which its request was sent (0: v1 in place, 1: v2 reported loaded,
    2: the broken file reported), so every check is on events, exact however slowly a
    request in flight is answered: a request sent in phase 1 or 2 must say FR."""
    setup.start()
    check(setup.request()[1].get("x-geo-country") == "DE", "not DE before the replacement")
    phase = [0]
    seen = [{"DE": 0, "FR": 0} for _ in range(3)]
    errors = []
    stop = threading.Event()
    lock = threading.Lock()

    def worker(index):
        source = f"127.0.0.{index + 10}"
        for _ in range(MAX_REQUESTS_PER_WORKER):
            if stop.is_set():
                return
            sent_in = phase[0]
            try:
                status, headers, body = setup.request(source)
                country = headers.get("x-geo-country")
                with lock:
                    if status != 200 or country not in ("DE", "FR") or "x-spoa-error" in headers:
                        errors.append(f"{source}: {status} {headers} {body!r}")
                    else:
                        seen[sent_in][country] += 1
            except Exception as e:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(f"{source}: {type(e).__name__}: {e}")
        with lock:
            errors.append(f"{source}: stopped after {MAX_REQUESTS_PER_WORKER} requests")

    def counted(p, country):
        with lock:
            return seen[p][country]

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for w in workers:
        w.start()
    try:
        check(h.wait_until(lambda: counted(0, "DE") >= 50 or errors, h.EVENT_TIMEOUT) and
              not errors, f"load did not start: {seen} {errors[:3]}")
        setup.install_db("city-v2", setup.city)
        check(h.wait_until(lambda: "database city: reloaded" in setup.agent.log(), h.EVENT_TIMEOUT),
              "spoa-host did not log the reload")
        phase[0] = 1
        check(h.wait_until(lambda: counted(1, "FR") >= 50 or errors, h.EVENT_TIMEOUT) and
              not errors, f"answers did not change to FR: {seen} {errors[:3]}")
        # A broken replacement: logged, and FR goes on.
        setup.install_db("truncated", setup.city)
        check(h.wait_until(lambda: "keeping the version loaded last"
                           in setup.agent.log(), h.EVENT_TIMEOUT), "the broken file was not reported")
        phase[0] = 2
        check(h.wait_until(lambda: counted(2, "FR") >= 50 or errors, h.EVENT_TIMEOUT) and
              not errors, f"answers stopped: {seen} {errors[:3]}")
    finally:
        stop.set()
        for w in workers:
            w.join(h.EVENT_TIMEOUT)
    check(not errors, f"{len(errors)} requests without an answer from the agent:\n" +
          "\n".join(errors[:10]))
    check(seen[1]["DE"] == 0, f"DE for a request sent after v2 was reported loaded: {seen}")
    check(seen[2]["DE"] == 0, f"DE for a request sent after the broken replacement: {seen}")
    total = sum(n for p in seen for n in p.values())
    # Zero lost ACKs: every response above carried a country, which only the agent's ACK
    # sets (a lost or late one leaves txn.geo.country unset: an error above).
    lines = expect_no_failed_exchange(setup)
    print(f"reload_under_load: {total} requests under load (by phase {seen}), all answered; "
          f"{len(lines)} SPOE exchanges logged, none failed")


CASES = {"country": case_country, "forwarded": case_forwarded,
         "reload_under_load": case_reload_under_load}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spoa-host", required=True)
    parser.add_argument("--plugin-dir", required=True)
    parser.add_argument("--examples-dir", required=True)
    parser.add_argument("--fixture-dir", required=True)
    parser.add_argument("--readme", required=True, help="the top-level README.md")
    parser.add_argument("--haproxy", default="/usr/sbin/haproxy")
    parser.add_argument("--case", required=True, choices=sorted(CASES))
    args = parser.parse_args()
    for name in ("spoa_host", "plugin_dir", "examples_dir", "fixture_dir", "readme", "haproxy"):
        setattr(args, name, os.path.abspath(getattr(args, name)))
    if not (os.path.isfile(args.haproxy) and os.access(args.haproxy, os.X_OK)):
        print(f"SKIP: {args.haproxy} not found")
        return h.SKIP
    return h.run_case(args.case, CASES[args.case], lambda workdir: GeoipSetup(args, workdir),
                      f"spoa-geoip-e2e-{args.case}-")


if __name__ == "__main__":
    sys.exit(main())
