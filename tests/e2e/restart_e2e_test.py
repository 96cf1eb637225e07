"""Restart safety of the whole pipeline: the quick-start stack (scripts/demo.sh) with the
remediator stopped twice — by SIGTERM while a fix is being verified (it must exit within 10 s,
parking the verification), and by SIGKILL while the on-call call is in progress — and restarted
with the same configuration each time. The interrupted fix must be resumed (verified, then one
PR), the interrupted call must not ring twice (one CSV row), and no incident, PR or call may be
duplicated or lost."""
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from procs import REPO, Results, binary  # noqa: E402

r = Results()
state = tempfile.mkdtemp(prefix="restart-e2e-")
env = dict(os.environ, REMEDIATOR_DEMO_DIR=state)
demo = subprocess.Popen([os.path.join(REPO, "scripts", "demo.sh"), "--no-build"], cwd=REPO,
                        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                        start_new_session=True)
os.set_blocking(demo.stdout.fileno(), False)
ctl = binary("remediatorctl")
config = os.path.join(state, "remediator.yaml")


def remediator_address():
    try:
        return open(os.path.join(state, "remediator.out")).read().split()[-1]
    except (OSError, IndexError):
        return None


def incidents():
    address = remediator_address()
    if address is None:
        return []
    p = subprocess.run([ctl, "--server", address, "-o", "json", "incidents"], capture_output=True,
                       text=True, timeout=30)
    return [json.loads(x) for x in p.stdout.splitlines() if x.strip()] if p.returncode == 0 else []


def kill_and_restart(why, sig=signal.SIGKILL):
    pids = subprocess.run(["pgrep", "-f", "remediator --config " + config], capture_output=True,
                          text=True).stdout.split()
    r.check(len(pids) == 1, "one remediator to stop (%s): %s" % (why, pids))
    start = time.monotonic()
    for pid in pids:
        os.kill(int(pid), sig)
    for _ in range(600):
        if not subprocess.run(["pgrep", "-f", "remediator --config " + config]).returncode == 0:
            break
        time.sleep(0.05)
    took = time.monotonic() - start
    print("  [test] stopped the remediator with %s in %.1f s (%s); restarting it" %
          (signal.Signals(sig).name, took, why), flush=True)
    subprocess.Popen([binary("remediator"), "--config", config],
                     stdout=open(os.path.join(state, "remediator-restarted.out"), "a"),
                     stderr=open(os.path.join(state, "remediator-restarted.log"), "a"),
                     start_new_session=True)
    return took


def verifying(incident_id):
    """True once the incident's fix attempt is applied and being verified (a state, not a time)."""
    address = remediator_address()
    if address is None:
        return False
    p = subprocess.run([ctl, "--server", address, "-o", "json", "fixes", incident_id],
                       capture_output=True, text=True, timeout=30)
    return p.returncode == 0 and any(json.loads(x).get("status") == "FIX_STATUS_VERIFYING"
                                     for x in p.stdout.splitlines() if x.strip())

output = ""
killed = set()
deadline = time.monotonic() + 480
result = None
while time.monotonic() < deadline and result is None:
    try:
        chunk = demo.stdout.read()
    except (BlockingIOError, TypeError):
        chunk = None
    if chunk:
        output += chunk
        sys.stdout.write(chunk)
        sys.stdout.flush()
    if "DEMO DONE" in output:
        result = True
    elif "DEMO INCOMPLETE" in output:
        result = False
    current = incidents()
    states = {(i["workload"]["name"], i["error_class"]): i["state"] for i in current}
    ids = {(i["workload"]["name"], i["error_class"]): i["id"] for i in current}
    nginx_key = ("nginx", "ERROR_CLASS_OOM_KILLED")
    if ("fix" not in killed and states.get(nginx_key) == "INCIDENT_STATE_FIXING" and
            verifying(ids[nginx_key])):
        killed.add("fix")
        took = kill_and_restart("during the verification of the fix", signal.SIGTERM)
        r.check(took <= 10, "SIGTERM during a verification exits within 10 s: %.1f s" % took)
    if ("call" not in killed and
            states.get(("reports", "ERROR_CLASS_IMAGE_PULL")) == "INCIDENT_STATE_ESCALATING"):
        time.sleep(4)  # the phone is ringing or the speech is playing
        killed.add("call")
        kill_and_restart("during the on-call call")
    time.sleep(0.3)
r.check(killed == {"fix", "call"}, "the remediator was killed at both steps: %s" % killed)
r.check(result is True, "the loop completes after the restarts")

final = incidents()
by_class = {(i["workload"]["name"], i["error_class"]): i for i in final}
nginx = by_class.get(("nginx", "ERROR_CLASS_OOM_KILLED"))
reports = by_class.get(("reports", "ERROR_CLASS_IMAGE_PULL"))
r.check(nginx is not None and nginx["state"] == "INCIDENT_STATE_PR_OPENED",
        "nginx ends pr_opened: %s" % (nginx and nginx["state"]))
r.check(reports is not None and reports["state"] == "INCIDENT_STATE_ACKNOWLEDGED",
        "reports ends acknowledged: %s" % (reports and reports["state"]))
r.check(len([i for i in final if i["workload"]["name"] == "reports"]) == 1, "one reports incident")
address = remediator_address()
prs = subprocess.run([ctl, "--server", address, "-o", "json", "prs"], capture_output=True,
                     text=True).stdout.splitlines()
r.check(len(prs) == 1, "exactly one PR: %d" % len(prs))
branches = subprocess.run(["git", "-C", os.path.join(state, "gitops.git"), "branch", "--list",
                           "remediator/*"], capture_output=True, text=True).stdout.split()
r.check(len(branches) == 1, "exactly one remediator branch: %s" % branches)
if nginx:
    fixes = subprocess.run([ctl, "--server", address, "-o", "json", "fixes", nginx["id"]],
                           capture_output=True, text=True).stdout.splitlines()
    statuses = [json.loads(f)["status"] for f in fixes]
    r.check(statuses.count("FIX_STATUS_VERIFIED") == 1, "one verified attempt: %s" % statuses)
    r.check("FIX_STATUS_VERIFYING" not in statuses, "no attempt left half-done: %s" % statuses)
with open(os.path.join(state, "telephony", "calls.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
r.check(len(rows) == 1, "the interrupted call rang once: %d rows" % len(rows))
baresip_calls = [n for n in os.listdir(os.path.join(state, "phone"))]
os.killpg(demo.pid, signal.SIGINT)
try:
    demo.wait(30)
except subprocess.TimeoutExpired:
    os.killpg(demo.pid, signal.SIGKILL)
subprocess.run(["pkill", "-KILL", "-f", state + "/"])
r.finish()
