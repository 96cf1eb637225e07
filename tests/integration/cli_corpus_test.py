"""remediatorctl against a running remediator: every case of the shared corpus through
`remediatorctl report -f`, then incidents, exit codes and auth, as a user would run them."""
import json
import os
import tempfile

from procs import REPO, SHARED, Results, Server, run

r = Results()
# The shared corpus when it is beside the checkout (as on developer machines and CI), else the
# copy kept with the detection tests.
corpus_path = os.path.join(SHARED, "data", "k8s-failures.jsonl")
if not os.path.exists(corpus_path):
    corpus_path = os.path.join(REPO, "tests", "server", "remediator", "detection", "testdata",
                               "k8s-failures.jsonl")
corpus = [json.loads(line) for line in open(corpus_path) if line.strip()]

state = tempfile.mkdtemp(prefix="cli-corpus-")
token_file = os.path.join(state, "token")
with open(token_file, "w") as f:
    f.write("corpus-test-token-42\n")
server = Server("remediator", ["--listen", "127.0.0.1:0", "--state-dir", state,
                               "--auth-token-file", token_file, "--log-format", "json"])
common = ["--server", server.address, "--token-file", token_file]

# Every corpus case, classified fully right.
code, out, err = run("remediatorctl", common + ["report", "-f", corpus_path])
r.check(code == 0, "report exit code 0 (got %d: %s)" % (code, err))
lines = [json.loads(l) for l in out.splitlines()]
r.check(len(lines) == len(corpus), "one output line per input line (%d vs %d)" % (len(lines), len(corpus)))
fields = ["class", "namespace", "workload_kind", "workload_name", "container", "fixable_by_manifest"]
for case, got in zip(corpus, lines):
    expected = case["expected"]
    for field in fields:
        want = expected.get(field)
        want = "" if want is None else want  # the corpus writes null where there is no value
        r.check(got.get(field) == want,
                "%s %s: expected %r, got %r" % (case["id"], field, want, got.get(field)))
    failure = expected["class"] != "none"
    r.check(bool(got["incident_id"]) == failure,
            "%s: incident_id set only for failures (got %r)" % (case["id"], got["incident_id"]))

# The same input from stdin gives the same answers and joins the same incidents.
code, out2, err = run("remediatorctl", common + ["report", "-f", "-"], stdin=open(corpus_path).read())
r.check(code == 0, "report from stdin exit code 0 (%s)" % err)
again = [json.loads(l) for l in out2.splitlines()]
r.check([l["incident_id"] for l in again] == [l["incident_id"] for l in lines],
        "a second report joins the same incidents")
r.check(not any(l["new_incident"] for l in again), "a second report opens no new incident")

# incidents -o json lists one incident per distinct failing workload and class, counted twice.
code, out, err = run("remediatorctl", common + ["-o", "json", "incidents"])
r.check(code == 0, "incidents exit code 0 (%s)" % err)
incidents = [json.loads(l) for l in out.splitlines()]
distinct = {l["incident_id"] for l in lines if l["incident_id"]}
r.check({i["id"] for i in incidents} == distinct, "incidents lists exactly the reported incidents")
for i in incidents:
    joined = sum(1 for l in lines if l["incident_id"] == i["id"])
    r.check(int(i["count"]) == 2 * joined, "incident %s count %s == 2 x %d" % (i["id"], i["count"], joined))

# Table output names the columns; a filter narrows it.
code, out, err = run("remediatorctl", common + ["incidents", "--class", "oom_killed"])
r.check(code == 0 and out.splitlines()[0].split()[:3] == ["ID", "STATE", "CLASS"], "table header")
r.check(all(" oom_killed " in l for l in out.splitlines()[1:]), "class filter applies")

# Bad input: a clear error, exit 2, and nothing sent.
bad = tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False)
bad.write(json.dumps(corpus[0]) + "\n{not json}\n")
bad.close()
code, out, err = run("remediatorctl", common + ["report", "-f", bad.name])
r.check(code == 2 and "line 2" in err, "bad JSON line: exit 2 naming the line (%d, %s)" % (code, err))
code, out, err = run("remediatorctl", common + ["incident", "inc-nope"])
r.check(code == 1 and "NOT_FOUND" in err, "unknown incident: NOT_FOUND, exit 1 (%d, %s)" % (code, err))
code, out, err = run("remediatorctl", common + ["frobnicate"])
r.check(code == 2 and "unknown command" in err, "unknown command: exit 2")
code, out, err = run("remediatorctl", ["--help"])
r.check(code == 0 and "report -f FILE" in out and "Exit codes" in out, "--help lists commands")
code, out, err = run("remediatorctl", common + ["fix", lines[0]["incident_id"]])
r.check(code == 1 and "FAILED_PRECONDITION" in err and "--kubeconfig" in err,
        "fix without a cluster says which setting is missing (%s)" % err)

# Auth: no token and a wrong token are refused, and the token never shows in the server's log.
code, out, err = run("remediatorctl", ["--server", server.address, "incidents"])
r.check(code == 1 and "UNAUTHENTICATED" in err, "missing token refused (%s)" % err)
code, out, err = run("remediatorctl", ["--server", server.address, "--token", "nope", "incidents"])
r.check(code == 1 and "UNAUTHENTICATED" in err, "wrong token refused")

# Graceful shutdown on SIGTERM: exit 0, and the log says so.
r.check(server.stop() == 0, "remediator exits 0 on SIGTERM")
log = server.stderr()
r.check('"msg":"stopped"' in log, "the JSON log records the stop")
r.check("corpus-test-token-42" not in log, "the token never reaches the log")

# A bad config is exit 2 naming file, line and key.
cfg = os.path.join(state, "bad.yaml")
with open(cfg, "w") as f:
    f.write("listen: 127.0.0.1:0\nmode: banana\n")
code, out, err = run("remediator", ["--config", cfg])
r.check(code == 2 and "banana" in err, "bad mode: exit 2 (%d, %s)" % (code, err))
with open(cfg, "w") as f:
    f.write("listen: 127.0.0.1:0\nstate_dirr: /tmp/x\n")
code, out, err = run("remediator", ["--config", cfg])
r.check(code == 2 and cfg + ":2" in err and "state_dirr" in err, "unknown key named with line (%s)" % err)
code, out, err = run("remediator", ["--help"])
r.check(code == 0 and "--kubeconfig" in out and "--mode" in out, "remediator --help")
r.finish()
