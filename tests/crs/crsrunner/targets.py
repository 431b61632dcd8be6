"""The WAFs under test, each started in the run's own folder and stopped by PID.

* `nginx`: Debian's nginx with ModSecurity-nginx; the rule ids come from nginx's error
  log, where ModSecurity-nginx writes one line per logged match, with `client: ADDR`.
* `spoa`: HAProxy 2.6 -> spoa-host with the waf plugin; the rule ids come from the
  plugin's `rule_ids` answer, which haproxy.cfg copies into a response header.

Both load the same generated SecLang file, and both forward to the same plain nginx server
("app"), so any difference in what they report comes from the connector in front of the
engine.
"""

import dataclasses
import os
import re
import socket
import threading

from . import processes
from .processes import Child, StartError

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(os.path.dirname(HERE), "conf")
MARKER_ID = "98001"  # conf/crs-tests.conf.in: logged by every request that reaches phase 1
NGINX_MODULE = "/usr/lib/nginx/modules/ngx_http_modsecurity_module.so"
UNICODE_MAP = "/etc/nginx/unicode.mapping"  # shipped by libnginx-mod-http-modsecurity


@dataclasses.dataclass
class Observation:
    ids: list            # rule ids logged for the request, in order, each once
    inspected: bool      # the marker rule ran: ModSecurity saw the request
    waf_error: str = ""  # the WAF answered with an error instead of a verdict


def write_rules(workdir):
    unicode_map = f"SecUnicodeMapFile {UNICODE_MAP} 20127" if os.path.exists(UNICODE_MAP) else ""
    return processes.fill(os.path.join(CONF, "crs-tests.conf.in"),
                          os.path.join(workdir, "crs-tests.conf"),
                          {"WORKDIR": workdir, "UNICODE_MAP": unicode_map})


def http_get_ok(port):
    """True once something answers a plain GET / on the port with a status line."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.")
    except OSError:
        return False


class NginxServer:
    """One nginx master + 1 worker with two servers: `waf_port` (ModSecurity, regression
    rules) and `app_port` (plain; the application behind both targets)."""

    def __init__(self, workdir, rules, nginx="/usr/sbin/nginx"):
        if not os.path.exists(nginx) or not os.path.exists(NGINX_MODULE):
            raise FileNotFoundError(f"{nginx} or {NGINX_MODULE} (packages nginx, "
                                    "libnginx-mod-http-modsecurity)")
        self.error_log = os.path.join(workdir, "nginx-error.log")
        waf_sock, app_sock = processes.listening_socket(), processes.listening_socket()
        self.waf_port = waf_sock.getsockname()[1]
        self.app_port = app_sock.getsockname()[1]
        # As root the master hands the workers to "nobody", who could not read a private
        # temp folder; the worker stays root instead (loopback-only test server).
        user = "user root root;" if os.geteuid() == 0 else ""
        conf = processes.fill(os.path.join(CONF, "nginx.conf.in"),
                              os.path.join(workdir, "nginx.conf"),
                              {"WORKDIR": workdir, "RULES": rules, "USER": user,
                               "WAF_PORT": self.waf_port, "APP_PORT": self.app_port})
        fds = [waf_sock.fileno(), app_sock.fileno()]
        # nginx takes listening sockets over from the NGINX variable (its binary-upgrade
        # path) when their addresses match `listen` lines: no port is picked and released.
        env = dict(os.environ, NGINX="".join(f"{fd};" for fd in fds))
        try:
            self.child = Child("nginx", [nginx, "-p", workdir, "-e", self.error_log, "-c", conf],
                               workdir, env=env, pass_fds=fds)
            self.child.wait_for(lambda: http_get_ok(self.app_port), 60, "answer on the app port")
        finally:
            waf_sock.close()
            app_sock.close()

    def worker_pids(self):
        return self.child.children()

    def died(self):
        if self.child.running():
            return []
        return [f"nginx exited with status {self.child.proc.returncode} during the run:\n"
                f"{self.child.output()[-4000:]}"]

    def stop(self):
        self.child.stop()


class ErrorLogIndex:
    """Rule ids per client address, read incrementally from nginx's error log."""

    # The id that follows [file] [line] is the rule's own; an id-like text earlier on the
    # line would be request data quoted in the "Matched ... (Value: ...)" part.
    RULE = re.compile(rb'ModSecurity: .*?\[file "[^"]*"\] \[line "\d+"\] \[id "(\d+)"\]')
    CLIENT = re.compile(rb'.*, client: ([0-9.]+), server: ')  # greedy: nginx's, at the end

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.partial = b""
        self.by_client = {}
        self.lock = threading.Lock()

    def _refresh(self):
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        self.offset += len(data)
        data = self.partial + data
        lines = data.split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            rule_match = self.RULE.search(line)
            client_match = self.CLIENT.match(line)
            if rule_match and client_match:
                ids = self.by_client.setdefault(client_match.group(1).decode(), [])
                rule = rule_match.group(1).decode()
                if rule not in ids:
                    ids.append(rule)

    def ids_for(self, client):
        with self.lock:
            self._refresh()
            return list(self.by_client.get(client, []))


class NginxTarget:
    name = "nginx"

    def __init__(self, server):
        self.port = server.waf_port
        self.index = ErrorLogIndex(server.error_log)

    def observe(self, source, response):
        # ModSecurity-nginx logs phase 1 and 2 matches before nginx sends the response
        # head, so once the response is in, the lines for this request are in the file.
        ids = self.index.ids_for(source)
        return Observation(ids=ids, inspected=MARKER_ID in ids)

    def died(self):
        return []  # the NginxServer reports its own

    def stop(self):
        pass


class SpoaTarget:
    name = "spoa"

    def __init__(self, workdir, rules, app_port, spoa_host, plugin_dir,
                 haproxy="/usr/sbin/haproxy"):
        for path in (spoa_host, os.path.join(plugin_dir, "waf.so"), haproxy):
            if not os.path.exists(path):
                raise FileNotFoundError(path)
        self.children = []
        try:
            toml = processes.fill(os.path.join(CONF, "spoa-host.toml.in"),
                                  os.path.join(workdir, "spoa-host.toml"), {"RULES": rules})
            agent = Child("spoa-host", [spoa_host, "-c", toml, "--plugin-dir", plugin_dir],
                          workdir)
            self.children.append(agent)
            # spoa-host logs the address it bound ("ready: listening on 127.0.0.1:PORT").
            ready = agent.wait_for(
                lambda: re.search(r"ready: listening on 127\.0\.0\.1:(\d+)", agent.output()),
                120, "ready line")
            agent_port = int(ready.group(1))

            processes.fill(os.path.join(CONF, "spoe.conf.in"), os.path.join(workdir, "spoe.conf"),
                           {})
            sock = processes.listening_socket()
            self.port = sock.getsockname()[1]
            cfg = processes.fill(os.path.join(CONF, "haproxy.cfg.in"),
                                 os.path.join(workdir, "haproxy.cfg"),
                                 {"WORKDIR": workdir, "LISTEN_FD": sock.fileno(),
                                  "APP_PORT": app_port, "AGENT_PORT": agent_port})
            try:
                proxy = Child("haproxy", [haproxy, "-db", "-f", cfg], workdir,
                              pass_fds=[sock.fileno()])
                self.children.append(proxy)
                proxy.wait_for(lambda: http_get_ok(self.port), 60, "answer on its frontend")
            finally:
                sock.close()
        except BaseException:
            self.stop()
            raise

    def died(self):
        """A line per child that exited during the run (a sanitizer abort, a crash), with
        the end of its output; empty when all are still running."""
        return [f"{c.name} exited with status {c.proc.returncode} during the run:\n"
                f"{c.output()[-4000:]}" for c in self.children if not c.running()]

    def observe(self, _source, response):
        ids = re.findall(r"\d+", response.headers.get("x-crs-rule-ids", ""))
        return Observation(ids=ids, inspected=MARKER_ID in ids,
                           waf_error=response.headers.get("x-crs-waf-error", ""))

    def stop(self):
        for child in reversed(self.children):
            child.stop()
        self.children = []
