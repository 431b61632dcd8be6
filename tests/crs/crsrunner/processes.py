"""Child processes of the runner, sockets it hands them, config templates."""

import os
import re
import signal
import socket
import subprocess
import time


class StartError(Exception):
    pass


def listening_socket():
    """A loopback socket bound to a free port and listening, kept open until the child
    that inherits it is running: no port is ever chosen and then released."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    return sock


def fill(template_path, out_path, values):
    with open(template_path, encoding="utf-8") as f:
        text = f.read()
    for key, value in values.items():
        text = text.replace(f"@{key}@", str(value))
    leftover = re.findall(r"@[A-Z_]+@", text)
    if leftover:
        raise StartError(f"{template_path}: placeholders left unfilled: {leftover}")
    with open(out_path, "w", encoding="utf-8") as f:
        f.write(text)
    return out_path


class Child:
    """A process we started; its output goes to a file; stopped by its PID only."""

    def __init__(self, name, argv, workdir, env=None, pass_fds=()):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.out")
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=workdir, env=env,
                                     pass_fds=pass_fds)

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc.poll() is None

    def output(self):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_for(self, predicate, timeout, what):
        """Polls predicate() until true; a child that exits first, or the bound, fails."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if not self.running():
                raise StartError(f"{self.name} exited ({self.proc.returncode}) before {what}:\n"
                                 f"{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise StartError(f"{self.name}: no {what} within {timeout}s:\n"
                                 f"{self.output()[-3000:]}")
            time.sleep(0.05)

    def children(self):
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children") as f:
                return [int(p) for p in f.read().split()]
        except OSError:
            return []

    def stop(self, sig=signal.SIGTERM, grace=15):
        if self.running():
            kids = self.children()
            os.kill(self.pid, sig)
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
                for kid in kids:  # an nginx worker would outlive its killed master
                    try:
                        os.kill(kid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        self._log.close()
