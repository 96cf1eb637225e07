"""The log-shipper and the remediator as real processes: the server is SIGKILLed mid-stream and
started again on the same address and state dir; every error line written reaches it at least
once (counted through `remediatorctl incidents`), and SIGTERM stops the shipper with exit 0."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from procs import Results, Server, binary, run  # noqa: E402

CONTAINER_ID = "0123456789abcdef" * 4
r = Results()
work = tempfile.mkdtemp(prefix="log-shipper-process-")
logs = os.path.join(work, "logs")
os.makedirs(logs)
log = os.path.join(logs, "web-7d9f8b6c4-x2x9k_shop_app-%s.log" % CONTAINER_ID)


def append(errors, tag):
    with open(log, "a") as f:
        for i in range(errors):
            for j in range(3):
                f.write("2026-11-26T08:00:00.1Z stdout F GET /api/v1/orders/%d 200 3ms\n" % j)
            f.write("2026-11-26T08:00:00.2Z stderr F panic: nil map %s-%d\n" % (tag, i))


def count(address):
    code, out, err = run("remediatorctl", ["--server", address, "-o", "json", "incidents"])
    if code != 0:
        return -1
    return sum(int(json.loads(l)["count"]) for l in out.splitlines() if l.strip())


def wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


state = os.path.join(work, "server-state")
server = Server("remediator", ["--listen", "127.0.0.1:0", "--state-dir", state])
address = server.address
append(300, "first")
shipper_log = open(os.path.join(work, "shipper.err"), "w")
shipper = subprocess.Popen(
    [binary("log-shipper"), "--server", address, "--paths", os.path.join(logs, "*.log"),
     "--state-dir", os.path.join(work, "shipper-state"), "--batch-lines", "1",
     "--flush-interval", "0s", "--poll-interval", "10ms", "--glob-interval", "50ms"],
    stderr=shipper_log)
try:
    r.check(wait_for(lambda: count(address) >= 30), "first lines arrive")
    server.stop(signal.SIGKILL)
    append(300, "second")
    r.check(wait_for(lambda: "cannot ship log lines" in open(shipper_log.name).read()),
            "the shipper notices the dead server and retries")
    server = Server("remediator", ["--listen", address, "--state-dir", state])
    r.check(wait_for(lambda: count(address) >= 600), "all 600 error lines arrive after the restart "
            "(got %d)" % count(address))
    got = count(address)
    r.check(got <= 600 + 2 * 16, "duplicates bounded by the unacknowledged streams (got %d)" % got)
finally:
    shipper.send_signal(signal.SIGTERM)
    try:
        code = shipper.wait(20)
    except subprocess.TimeoutExpired:
        shipper.kill()
        code = shipper.wait()
    server.stop()
r.check(code == 0, "SIGTERM stops the shipper with exit 0 (got %s)" % code)
text = open(shipper_log.name).read()
r.check("lines_acknowledged" in text, "the shipper logs what it shipped when it stops")
r.finish()
