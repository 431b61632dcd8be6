#!/usr/bin/env python3
"""End-to-end tests of the iprep plugin: Debian's HAProxy 2.6 in front of spoa-host.

HAProxy and spoa-host run the example configs of plugins/iprep/examples/ (the ones the
README shows), rewritten only for paths and ports: HAProxy's frontend listens on a socket
this script bound to port 0 and hands over (`bind fd@N`), the demo application on a unix
socket, and spoa-host on 127.0.0.1:0, read back from its "ready: listening on" line. So no
port is guessed. Clients bind to distinct 127.0.0.x source addresses (all of 127.0.0.0/8
is local) to be listed, allowlisted or clean.

Cases (--case): deny_allow_forwarded, reload_under_load, crowdsec, readme.
Exit status: 0 pass, 1 fail, 77 skipped (no HAProxy, or no crowdsec for that case).
Reuses the helpers of haproxy_e2e.py (the suite's harness).
"""

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from haproxy_e2e import (SKIP, Failure, Process, agent_metrics, check,  # noqa: E402
                         expect_no_failed_spoe_exchange, read, run_case, substitute,
                         wait_until, write)

LISTED = "127.0.0.5"        # in the block list
ALLOWED = "127.0.0.10"      # in the block list's 127.0.0.0/28 and in the allowlist
CLEAN = "127.0.0.20"        # nowhere (until a test lists it)
PROXY = "127.0.0.2"         # trusted_proxies in the example config
UNTRUSTED = "127.0.0.30"
FORWARDED_LISTED = "192.0.2.5"


class FdProcess(Process):
    """haproxy_e2e.Process that also hands inherited file descriptors to the child."""

    def __init__(self, name, argv, workdir, pass_fds=()):  # noqa: D107 - same as Process
        self.name = name
        self.argv = argv
        self.log_path = os.path.join(workdir, f"{name}.log")
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, cwd=workdir, pass_fds=pass_fds)


class Setup:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.processes = []
        self.lists = os.path.join(workdir, "lists")
        os.makedirs(self.lists)
        # HAProxy's frontend socket: bound here, kept open, inherited by HAProxy.
        self.frontend = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.frontend.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.frontend.bind(("127.0.0.1", 0))
        self.frontend.listen(128)
        self.frontend.set_inheritable(True)
        self.http_port = self.frontend.getsockname()[1]
        self.agent = None
        self.haproxy = None
        self.agent_port = None

    def example(self, name):
        return read(os.path.join(self.args.source_dir, "plugins", "iprep", "examples", name))

    def write_list(self, name, text):
        """Written beside and renamed over, as list updaters do."""
        tmp = os.path.join(self.lists, name + ".tmp")
        write(tmp, text)
        os.rename(tmp, os.path.join(self.lists, name))

    def write_lists(self):
        self.write_list("allow.txt", f"# office\n{ALLOWED}\n")
        self.write_list("firehol_level1.netset",
                        f"# firehol_level1 (test copy)\n127.0.0.0/28\n{FORWARDED_LISTED}\n"
                        "2001:db8::/32\n")
        self.write_list("scores.csv", "network,label,score\n203.0.113.0/24,scanner,80\n")

    def agent_config(self, crowdsec=None):
        text = self.example("spoa-host.toml")
        text = substitute(text, 'listen = ["127.0.0.1:12345"]', 'listen = ["127.0.0.1:0"]',
                          "spoa-host.toml")
        text = substitute(text, "/etc/spoa-host/iprep/", self.lists + "/", "spoa-host.toml",
                          count=3)
        text = substitute(text, 'reload_interval = "1s"', 'reload_interval = "100ms"',
                          "spoa-host.toml")
        text = substitute(text, "[server]\n", "[server]\nthreads = 2\n", "spoa-host.toml")
        text += '\n[log]\nlevel = "debug"\ntarget = "stderr"\n'
        # The plugin's own series (ABI 1.1 metrics) are read back by the cases.
        text += '\n[metrics]\nlisten = "127.0.0.254:0"\n'
        if crowdsec:
            text = substitute(text, "# [plugins.iprep.config.sources.crowdsec]\n"
                              "# type = \"crowdsec\"\n"
                              "# url = \"http://127.0.0.1:8080/\"\n"
                              "# api_key_file = \"/etc/spoa-host/crowdsec.key\"\n"
                              "# poll_interval = \"10s\"\n",
                              "[plugins.iprep.config.sources.crowdsec]\n"
                              "type = \"crowdsec\"\n"
                              f"url = \"{crowdsec['url']}\"\n"
                              f"api_key_file = \"{crowdsec['key_file']}\"\n"
                              f"poll_interval = \"{crowdsec['poll']}\"\n",
                              "spoa-host.toml")
        path = os.path.join(self.workdir, "spoa-host.toml")
        write(path, text)
        return path

    def haproxy_config(self):
        spoe_path = os.path.join(self.workdir, "iprep-spoe.conf")
        write(spoe_path, self.example("spoe.conf"))
        app_socket = os.path.join(self.workdir, "app.sock")
        cfg = self.example("haproxy.cfg")
        cfg = substitute(cfg, "/etc/haproxy/iprep-spoe.conf", spoe_path, "haproxy.cfg")
        cfg = substitute(cfg, "bind 127.0.0.1:8080", f"bind fd@{self.frontend.fileno()}",
                         "haproxy.cfg")
        cfg = substitute(cfg, "server app1 127.0.0.1:8000", f"server app1 unix@{app_socket}",
                         "haproxy.cfg")
        cfg = substitute(cfg, "bind 127.0.0.1:8000", f"bind unix@{app_socket}", "haproxy.cfg")
        cfg = substitute(cfg, "server agent1 127.0.0.1:12345 check inter 5s",
                         f"server agent1 127.0.0.1:{self.agent_port} check inter 1s",
                         "haproxy.cfg")
        path = os.path.join(self.workdir, "haproxy.cfg")
        write(path, cfg)
        return path

    def start_agent(self, config):
        agent = FdProcess("spoa-host", [self.args.spoa_host, "-c", config, "--plugin-dir",
                                        self.args.plugin_dir], self.workdir)
        self.processes.append(agent)
        self.agent = agent
        ready = wait_until(lambda: re.search(r"ready: listening on 127\.0\.0\.1:(\d+)",
                                             agent.log()) or not agent.running(), 30)
        check(agent.running() and ready, "spoa-host did not become ready")
        self.agent_port = int(re.search(r"ready: listening on 127\.0\.0\.1:(\d+)",
                                        agent.log()).group(1))

    def start_haproxy(self):
        cfg = self.haproxy_config()
        haproxy = FdProcess("haproxy", [self.args.haproxy, "-db", "-f", cfg], self.workdir,
                            pass_fds=(self.frontend.fileno(),))
        self.processes.append(haproxy)
        self.haproxy = haproxy
        # Up once the agent's health check passed and a request gets an iprep answer.
        answered = wait_until(lambda: not haproxy.running() or
                              self.request(CLEAN)[1].get("x-iprep-client") == CLEAN, 30, 0.1)
        check(haproxy.running(), "haproxy exited at start")
        check(answered, "no iprep answer through HAProxy within 30 s")

    def request(self, source, path="/", headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout,
                                          source_address=(source, 0))
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            body = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, body
        finally:
            conn.close()

    def cleanup(self):
        for p in self.processes:
            try:
                p.kill()
            except Exception:  # noqa: BLE001 - cleanup goes on
                traceback.print_exc()
        self.frontend.close()

    def dump_logs(self):
        for p in self.processes:
            print(f"----- {p.name} (pid {p.pid}): {' '.join(p.argv)} -----")
            print(p.log()[-20000:])
        for name in ("haproxy.cfg", "iprep-spoe.conf", "spoa-host.toml"):
            path = os.path.join(self.workdir, name)
            if os.path.exists(path):
                print(f"----- {name} -----")
                print(read(path))


def expect(setup, source, status, headers=None, client=None, action=None, what=""):
    got, h, body = setup.request(source, headers=headers)
    check("x-iprep-error" not in h, f"{what}: SPOE error {h.get('x-iprep-error')}")
    check(got == status, f"{what}: from {source}: status {got}, expected {status}; {h} {body!r}")
    if client is not None and status == 200:
        check(h.get("x-iprep-client") == client,
              f"{what}: X-Iprep-Client {h.get('x-iprep-client')!r}, expected {client}")
    if action is not None and status == 200:
        check(h.get("x-iprep-action") == action,
              f"{what}: X-Iprep-Action {h.get('x-iprep-action')!r}, expected {action}")
    return h


def expect_no_failed_exchange(setup):
    """None of the SPOE exchanges HAProxy logged failed (the harness's spoe_exchanges says
    why the lines are no count: the cases read each answer from its response)."""
    return expect_no_failed_spoe_exchange(setup.haproxy.log(), "iprep-agent")


# ---- cases -----------------------------------------------------------------------------

def case_deny_allow_forwarded(setup):
    setup.write_lists()
    setup.start_agent(setup.agent_config())
    setup.start_haproxy()
    expect(setup, LISTED, 403, what="listed source")
    expect(setup, ALLOWED, 200, client=ALLOWED, action="allow", what="allowlisted source")
    expect(setup, CLEAN, 200, client=CLEAN, what="clean source")
    # A trusted proxy forwards a listed client: the client is judged...
    expect(setup, PROXY, 403, headers={"X-Forwarded-For": FORWARDED_LISTED},
           what="listed client behind a trusted proxy")
    expect(setup, PROXY, 200, headers={"X-Forwarded-For": f"{FORWARDED_LISTED}, 198.51.100.1"},
           client="198.51.100.1", what="clean client behind a trusted proxy")
    # A scored client (CSV source, action tarpit) behind the proxy is tarpitted: HAProxy
    # holds it for `timeout tarpit`, then answers 500.
    expect(setup, PROXY, 500, headers={"X-Forwarded-For": "203.0.113.9"},
           what="scored client behind a trusted proxy (tarpit)")
    # ...but an untrusted peer cannot make itself someone else.
    expect(setup, UNTRUSTED, 200, headers={"X-Forwarded-For": FORWARDED_LISTED},
           client=UNTRUSTED, what="untrusted peer with a forged header")
    expect(setup, UNTRUSTED, 200, headers={"X-Forwarded-For": ALLOWED}, client=UNTRUSTED,
           what="untrusted peer claiming an allowlisted address")
    # Each of the 7 answers above is in its response (a deny or tarpit happens only on the
    # agent's variables); the log shows no failed exchange.
    expect_no_failed_exchange(setup)
    # The plugin's metrics, through the real host's /metrics: two listed clients (one
    # forwarded), one allowlisted, three sources loaded. Lookups are handed to the host once
    # a second, so wait for them rather than read the first scrape.
    check(wait_until(lambda: iprep_series(setup).get(("lookups_total", "result", "listed"), 0)
                     >= 2 and iprep_series(setup).get(("lookups_total", "result", "allowed"), 0)
                     >= 1, 30), f"lookups by result not exported: {iprep_series(setup)}")
    series = iprep_series(setup)
    for source in ("office", "firehol", "scores"):
        check(series.get(("source_entries", "source", source), 0) >= 1,
              f"source {source}: no entries exported: {series}")
        check(series.get(("source_last_success_seconds", "source", source), 0) > 0,
              f"source {source}: no last successful load exported: {series}")


def iprep_series(setup):
    """spoa_plugin_iprep_* samples from the agent's /metrics, keyed (metric, label, value) by
    the label after plugin="iprep"."""
    samples = {}
    for series, value in agent_metrics(setup.agent).items():
        m = re.fullmatch(r'spoa_plugin_iprep_(\w+)\{plugin="iprep",(\w+)="([^"]*)"[^}]*\}', series)
        if m:
            samples[(m.group(1), m.group(2), m.group(3))] = value
    return samples


def case_reload_under_load(setup):
    setup.write_lists()
    setup.start_agent(setup.agent_config())
    setup.start_haproxy()
    expect(setup, CLEAN, 200, what="before the replacement")

    stop = threading.Event()
    errors = []
    counts = {"requests": 0}
    lock = threading.Lock()

    def load(source):
        # Bounded: stops when told, and at most 20000 requests per thread.
        for _ in range(20000):
            if stop.is_set():
                return
            try:
                status, h, _ = setup.request(source)
                with lock:
                    counts["requests"] += 1
                if "x-iprep-error" in h:
                    errors.append(f"{source}: SPOE error {h['x-iprep-error']}")
                # Never listed: a 200 whose client variable only the agent's ACK sets.
                elif status != 200 or h.get("x-iprep-client") != source:
                    errors.append(f"{source}: status {status}, no iprep answer: {h}")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(f"{source}: {e}")

    threads = [threading.Thread(target=load, args=(s,)) for s in (ALLOWED, "127.0.0.21",
                                                                   "127.0.0.22")]
    for t in threads:
        t.start()
    try:
        # The replacement lists CLEAN: it is denied once the new file is in.
        setup.write_list("firehol_level1.netset", f"127.0.0.0/28\n{CLEAN}\n")
        check(wait_until(lambda: setup.request(CLEAN)[0] == 403, 30),
              "the replaced list was not picked up within 30 s")
        check(wait_until(lambda: "firehol_level1.netset: reloaded, 2 entries" in setup.agent.log(),
                         10), "no reload line in the agent's log")
        # A broken replacement: the old data stays, the log says file:line.
        setup.write_list("firehol_level1.netset", f"127.0.0.0/28\n{CLEAN}\n# x\n10.0.0.300\n")
        want = os.path.join(setup.lists, "firehol_level1.netset") + ":4: '10.0.0.300'"
        check(wait_until(lambda: want in setup.agent.log(), 30),
              f"the broken list was not reported as {want!r}")
        check("keeping the version loaded last" in setup.agent.log(), "no 'keeping' in the log")
        expect(setup, CLEAN, 403, what="after the broken replacement (old data kept)")
        expect(setup, ALLOWED, 200, what="allowlist after the broken replacement")
        # Some more load on the old data before stopping.
        done = counts["requests"]
        wait_until(lambda: counts["requests"] >= done + 50, 30)
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    check(not errors, f"{len(errors)} failed requests under load: " + "; ".join(errors[:5]))
    check(counts["requests"] >= 50, f"only {counts['requests']} requests under load")
    # Zero lost ACKs: every response under load carried the agent's answer (checked above),
    # and no exchange HAProxy logged failed.
    lines = expect_no_failed_exchange(setup)
    print(f"reload_under_load: {counts['requests']} requests under load, all answered; "
          f"{len(lines)} SPOE exchanges logged, none failed")


# ---- CrowdSec --------------------------------------------------------------------------

class CrowdSec:
    """Debian's crowdsec, local API only (-no-cs), offline, on 127.0.0.1:0, in a folder of
    its own: its own database, no Central API, no metrics port, no acquisition."""

    def __init__(self, setup):
        self.setup = setup
        self.dir = os.path.join(setup.workdir, "crowdsec")
        os.makedirs(os.path.join(self.dir, "data"))
        self.config = os.path.join(self.dir, "config.yaml")
        write(os.path.join(self.dir, "acquis.yaml"), "")
        write(self.config, f"""common:
  daemonize: false
  log_media: stdout
  log_level: info
  working_dir: .
config_paths:
  config_dir: {self.dir}/
  data_dir: {self.dir}/data/
  simulation_path: /etc/crowdsec/simulation.yaml
  hub_dir: /var/lib/crowdsec/hub/
  index_path: /var/lib/crowdsec/hub/.index.json
  notification_dir: {self.dir}/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: {self.dir}/acquis.yaml
cscli:
  output: json
db_config:
  log_level: info
  type: sqlite
  use_wal: false
  db_path: {self.dir}/data/crowdsec.db
api:
  client:
    credentials_path: {self.dir}/local_api_credentials.yaml
  server:
    log_level: info
    listen_uri: 127.0.0.1:0
    profiles_path: /etc/crowdsec/profiles.yaml
    trusted_ips:
      - 127.0.0.1
prometheus:
  enabled: false
""")
        self.process = None
        self.port = None

    def cscli(self, *args):
        result = subprocess.run(["cscli", "-c", self.config, *args], capture_output=True,
                                text=True, timeout=60)
        check(result.returncode == 0, f"cscli {' '.join(args)}: {result.stderr}")
        return result.stdout

    def start(self):
        key = self.cscli("bouncers", "add", "spoa-host-iprep", "-o", "raw").strip()
        check(re.fullmatch(r"[0-9a-zA-Z]+", key), f"unexpected bouncer key {key!r}")
        self.key_file = os.path.join(self.dir, "bouncer.key")
        write(self.key_file, key + "\n")
        self.process = FdProcess("crowdsec", ["crowdsec", "-c", self.config, "-no-cs"],
                                 self.setup.workdir)
        self.setup.processes.append(self.process)
        self.port = wait_until(self.listening_port, 30, 0.1)
        check(self.port, "crowdsec's local API does not listen")
        # cscli decisions add/delete go through the local API as a machine.
        self.cscli("machines", "add", "spoa-host-test", "--password", "iprep-e2e-password",
                   "--url", f"http://127.0.0.1:{self.port}", "-f",
                   os.path.join(self.dir, "local_api_credentials.yaml"))

    def listening_port(self):
        """The port LAPI bound: the listening TCP socket among crowdsec's own fds."""
        if not self.process.running():
            raise Failure("crowdsec exited:\n" + self.process.log())
        inodes = set()
        fd_dir = f"/proc/{self.process.pid}/fd"
        for fd in os.listdir(fd_dir):
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            m = re.fullmatch(r"socket:\[(\d+)\]", target)
            if m:
                inodes.add(m.group(1))
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                    return int(fields[1].split(":")[1], 16)
        return None


def case_crowdsec(setup):
    if shutil.which("crowdsec") is None or shutil.which("cscli") is None:
        print("SKIP: Debian's crowdsec package is not installed (scripts/bootstrap.sh installs it)")
        raise SystemExit(SKIP)
    cs = CrowdSec(setup)
    cs.start()
    setup.write_lists()
    poll = "1s"
    setup.start_agent(setup.agent_config(
        {"url": f"http://127.0.0.1:{cs.port}/", "key_file": cs.key_file, "poll": poll}))
    check(wait_until(lambda: "source 'crowdsec': startup pull" in setup.agent.log(), 30),
          "no startup pull from the local API")
    setup.start_haproxy()
    target = CLEAN
    expect(setup, target, 200, what="before the decision")

    stop = threading.Event()
    results = []  # (time, status) of the traffic from the target address
    errors = []

    def traffic():
        for _ in range(100000):  # bounded
            if stop.is_set():
                return
            try:
                status, h, _ = setup.request(target)
                if "x-iprep-error" in h:
                    errors.append(f"SPOE error {h['x-iprep-error']}")
                results.append((time.monotonic(), status))
            except Exception as e:  # noqa: BLE001
                errors.append(str(e))
            time.sleep(0.02)

    thread = threading.Thread(target=traffic)
    thread.start()
    def pulls_since(offset):
        return [line for line in setup.agent.log()[offset:].splitlines()
                if "source 'crowdsec': pull" in line]

    def arrives_within_one_poll(offset, marker, what):
        # Judged by events, not time margins: the change is in LAPI once cscli returned.
        # The first pull logged after that may have been in flight already; the second
        # one started after it, so the change must be in one of those two.
        check(wait_until(lambda: len(pulls_since(offset)) >= 2 or
                         any(marker in p for p in pulls_since(offset)), 30),
              f"{what}: fewer than 2 pulls in 30 s (poll every {poll})")
        first_two = pulls_since(offset)[:2]
        check(any(marker in p for p in first_two),
              f"{what}: not in the first poll after it was made: {first_two}")

    def all_answers_since(since, status, what):
        # The change was published before its pull line was logged, so every request that
        # started after `since` sees it; the one in flight at that moment may not.
        check(wait_until(lambda: any(t > since and s == status for t, s in list(results)), 10),
              f"no {status} after the pull that brought the {what}")
        after = [s for t, s in list(results) if t > since]
        check(after and all(s == status for s in after[1:]),
              f"statuses after the {what} arrived: {after[:20]}")

    try:
        cs.cscli("decisions", "add", "-i", target, "-d", "1h", "-R", "iprep e2e")
        arrives_within_one_poll(len(setup.agent.log()), "1 new", "ban")
        all_answers_since(time.monotonic(), 403, "ban")
        # cs-haproxy-spoa-bouncer #152: a deleted decision kept banning. Here the pull
        # after the deletion lifts it.
        cs.cscli("decisions", "delete", "-i", target)
        arrives_within_one_poll(len(setup.agent.log()), "1 deleted", "deletion")
        all_answers_since(time.monotonic(), 200, "deletion")
    finally:
        stop.set()
        thread.join(30)
    check(not errors, "; ".join(errors[:5]))
    # Ranges and captcha: a range decision of another type is reported with its type.
    cs.cscli("decisions", "add", "-r", "127.0.0.64/27", "-t", "captcha", "-d", "1h")
    mark = len(setup.agent.log())
    check(wait_until(lambda: "1 new" in setup.agent.log()[mark:], 30), "range decision not pulled")
    expect(setup, "127.0.0.70", 403, what="range decision (captcha counts as listed)")


def case_readme(setup):
    """The README's iprep section shows the example files verbatim."""
    readme = read(os.path.join(setup.args.source_dir, "README.md"))
    for name in ("spoa-host.toml", "spoe.conf", "haproxy.cfg"):
        check(setup.example(name) in readme,
              f"README.md does not contain plugins/iprep/examples/{name} verbatim")


CASES = {
    "deny_allow_forwarded": case_deny_allow_forwarded,
    "reload_under_load": case_reload_under_load,
    "crowdsec": case_crowdsec,
    "readme": case_readme,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spoa-host", required=True)
    parser.add_argument("--plugin-dir", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--haproxy", default="/usr/sbin/haproxy")
    parser.add_argument("--case", required=True, choices=sorted(CASES))
    args = parser.parse_args()
    for name in ("spoa_host", "plugin_dir", "source_dir", "haproxy"):
        setattr(args, name, os.path.abspath(getattr(args, name)))
    if args.case != "readme" and not (os.path.isfile(args.haproxy) and
                                      os.access(args.haproxy, os.X_OK)):
        print(f"SKIP: {args.haproxy} not found (scripts/bootstrap.sh installs haproxy)")
        return SKIP
    return run_case(args.case, CASES[args.case], lambda workdir: Setup(args, workdir),
                    f"spoa-iprep-{args.case}-")


if __name__ == "__main__":
    sys.exit(main())
