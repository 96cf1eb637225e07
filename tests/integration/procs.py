"""Start the project's binaries as a user would, for process-level tests (stdlib only).

Servers are started with --listen 127.0.0.1:0; the address is read from the one
"listening on HOST:PORT" line they print. Every process started is killed at exit.
"""
import atexit
import os
import signal
import subprocess
import tempfile
import time

BIN = os.environ.get("REMEDIATOR_BIN_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
REPO = os.environ.get("REMEDIATOR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
SHARED = os.environ.get("REMEDIATOR_SHARED_DIR", os.path.join(REPO, "../shared"))

_children = []


def binary(name):
    for sub in ("server/remediator", "server/telephony", "server/kubesim", "clients/cli",
                "clients/log_shipper"):
        path = os.path.join(BIN, sub, name)
        if os.path.exists(path):
            return path
    raise FileNotFoundError("no built binary %s under %s" % (name, BIN))


def _cleanup():
    for p in _children:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(_cleanup)


class Server:
    """A server process listening on a port it picked itself."""

    def __init__(self, name, args, timeout=20):
        self.log = tempfile.NamedTemporaryFile(prefix=name + "-", suffix=".log", delete=False)
        self.proc = subprocess.Popen([binary(name)] + args, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        _children.append(self.proc)
        deadline = time.monotonic() + timeout
        self.address = None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith("listening on "):
                self.address = line.split()[-1]
                break
        if self.address is None:
            self.stop()
            raise RuntimeError("%s did not start: %s" % (name, open(self.log.name).read()))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops the server with `sig`; returns its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def stderr(self):
        return open(self.log.name).read()


def run(name, args, stdin=None, timeout=60):
    """Runs a binary to completion; returns (exit code, stdout, stderr)."""
    p = subprocess.run([binary(name)] + args, input=stdin, capture_output=True, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class Results:
    """Counts checks and prints the plain closing line ctest-agnostic runners understand."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, condition, what):
        if condition:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what, flush=True)
        return condition

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        raise SystemExit(0 if self.failed == 0 else 1)
