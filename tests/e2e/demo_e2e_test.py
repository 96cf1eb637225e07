"""The whole mission end to end, the way a newcomer runs it: scripts/demo.sh starts kubesim with
the two broken workloads, the GitOps bare repository, the Telephony server, a baresip softphone
that answers yes, and the Remediator. Then this test checks what the mission must leave behind:
  - the OOM-killed nginx: incident pr_opened, a branch on the bare remote raising only the memory
    limit (git show, git fsck);
  - the unfixable workload: incident acknowledged, a CSV row with call time, number, speech
    naming the workload, can_intervene=true;
  - reporting the same failures again opens no second incident, fix, PR or call;
  - Ctrl-C stops everything and leaves nothing running."""
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from procs import BIN, REPO, Results, binary  # noqa: E402

r = Results()
state = tempfile.mkdtemp(prefix="demo-e2e-")
env = dict(os.environ, REMEDIATOR_DEMO_DIR=state)
demo = subprocess.Popen([os.path.join(REPO, "scripts", "demo.sh"), "--no-build"], cwd=REPO,
                        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                        start_new_session=True)
output = []
deadline = time.monotonic() + 420
done = False
while time.monotonic() < deadline:
    line = demo.stdout.readline()
    if not line:
        break
    output.append(line)
    print(line, end="", flush=True)
    if "DEMO DONE" in line or "DEMO INCOMPLETE" in line:
        done = "DEMO DONE" in line
        break
r.check(done, "the demo completes the whole loop")

remediator = open(os.path.join(state, "remediator.out")).read().split()[-1]
ctl = binary("remediatorctl")


def ctl_json(*args):
    p = subprocess.run([ctl, "--server", remediator, "-o", "json"] + list(args),
                       capture_output=True, text=True, timeout=60)
    r.check(p.returncode == 0, "remediatorctl %s: %s" % (" ".join(args), p.stderr))
    return [json.loads(x) for x in p.stdout.splitlines() if x.strip()]


def git(*args):
    return subprocess.run(["git", "-C", os.path.join(state, "gitops.git")] + list(args),
                          capture_output=True, text=True, timeout=60)


incidents = ctl_json("incidents")
by_class = {(i["workload"]["name"], i["error_class"]): i for i in incidents}
nginx = by_class.get(("nginx", "ERROR_CLASS_OOM_KILLED"))
reports = by_class.get(("reports", "ERROR_CLASS_IMAGE_PULL"))
r.check(nginx is not None and nginx["state"] == "INCIDENT_STATE_PR_OPENED",
        "nginx OOM incident ends pr_opened: %s" % (nginx and nginx["state"]))
r.check(reports is not None and reports["state"] == "INCIDENT_STATE_ACKNOWLEDGED",
        "reports incident ends acknowledged: %s" % (reports and reports["state"]))

prs = ctl_json("prs")
r.check(len(prs) == 1, "exactly one pull request: %d" % len(prs))
if prs and nginx:
    pr = prs[0]
    r.check(pr["branch"] == "remediator/" + nginx["id"], "branch is remediator/<incident>")
    head = git("rev-parse", pr["branch"]).stdout.strip()
    r.check(head == pr["commit"], "the branch on the bare remote holds the recorded commit")
    diff = git("diff", "main", pr["branch"]).stdout
    changed = [l for l in diff.splitlines() if l[:1] in "+-" and not l.startswith(("+++", "---"))]
    r.check(len(changed) == 2 and changed[0].split("memory:")[-1].strip() == "4Mi"
            and changed[1].split("memory:")[-1].strip() == "64Mi",
            "the diff raises only the memory limit, 4Mi -> 64Mi: %s" % changed)
    show = git("show", "-s", "--format=%an|%B", pr["branch"]).stdout
    r.check(show.startswith("Remediator|") and nginx["id"] in show, "author and message: " + show)
    r.check(git("fsck", "--strict").returncode == 0, "git fsck on the remote")

with open(os.path.join(state, "telephony", "calls.csv"), newline="") as f:
    rows = list(csv.DictReader(f))
r.check(len(rows) == 1, "one call recorded: %d" % len(rows))
if rows:
    row = rows[0]
    r.check(list(row.keys())[:4] == ["call_time", "number", "speech", "can_intervene"],
            "the CSV's first columns are call_time, number, speech, can_intervene")
    r.check(row["can_intervene"] == "true", "can_intervene is true")
    r.check(row["number"].startswith("sip:oncall@127.0.0.1:"), "the number called")
    r.check("reports" in row["speech"], "the speech names the workload")
    r.check(row["call_time"].endswith("Z") and "T" in row["call_time"], "ISO 8601 UTC call time")
    r.check(reports is not None and row["incident_id"] == reports["id"], "the row names the incident")

# The same failures reported again: no second incident, fix, PR or call.
kubeconfig = os.path.join(state, "kubeconfig")
pods = subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "--cache-dir",
                       os.path.join(state, "kubectl-cache"), "get", "pods,events", "-n", "app",
                       "-o", "json"], capture_output=True, text=True, timeout=60)
r.check(pods.returncode == 0, "kubectl get pods,events: " + pods.stderr)
items = json.loads(pods.stdout)["items"] if pods.returncode == 0 else []
report = "\n".join(json.dumps(i) for i in items if i.get("kind") in ("Pod", "Event"))
p = subprocess.run([ctl, "--server", remediator, "report", "--cluster", "demo", "-f", "-"],
                   input=report,
                   capture_output=True, text=True, timeout=60)
r.check(p.returncode == 0, "re-report: " + p.stderr)
again = [json.loads(x) for x in p.stdout.splitlines()]
r.check(not any(d["new_incident"] and d["workload_name"] == "reports" for d in again),
        "the unpullable image joins its incident")
# The pipeline runs every second: after a few passes it must still have done nothing more.
time.sleep(5)
after = ctl_json("incidents")
r.check(len([i for i in after if i["workload"]["name"] == "reports"]) == 1,
        "still one incident for reports")
r.check(len(ctl_json("prs")) == 1, "still one pull request")
with open(os.path.join(state, "telephony", "calls.csv"), newline="") as f:
    r.check(len(list(csv.DictReader(f))) == 1, "still one call")

# Ctrl-C stops everything cleanly.
os.killpg(demo.pid, signal.SIGINT)
try:
    code = demo.wait(30)
except subprocess.TimeoutExpired:
    os.killpg(demo.pid, signal.SIGKILL)
    code = -1
r.check(code == 0, "the demo exits 0 on Ctrl-C (%s)" % code)
import re  # noqa: E402
shipped = re.findall(r"lines_acknowledged=(\d+)", open(os.path.join(state, "log-shipper.log")).read())
r.check(shipped and int(shipped[-1]) > 0,
        "the log-shipper shipped the containers' log lines and saw them acknowledged: %s" % shipped)
left = subprocess.run(["pgrep", "-a", "-f", state + "/"], capture_output=True,
                      text=True).stdout.splitlines()
r.check(not left, "nothing left running: %s" % left)
r.finish()
