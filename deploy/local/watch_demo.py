#!/usr/bin/env python3
"""Prints the mission as it happens, by polling the Remediator with remediatorctl -o json:
detected, fix tried, verified, PR opened, escalated, call placed, the speech, the answer, the CSV
row. Exits 0 once the fixable incident has its PR and the unfixable one its answered call, 1 on
timeout. Usage: watch_demo.py REMEDIATORCTL SERVER CALLS_CSV TIMEOUT_SECONDS"""
import csv
import json
import subprocess
import sys
import time

ctl, server, calls_csv, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])


def ctl_json(*args):
    p = subprocess.run([ctl, "--server", server, "-o", "json"] + list(args),
                       capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        return []
    return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]


def say(text):
    print("  " + time.strftime("%H:%M:%S") + "  " + text, flush=True)


def short(state):
    return state.replace("INCIDENT_STATE_", "").lower()


seen_incidents, seen_states, seen_prs, seen_calls, seen_attempts = set(), {}, set(), set(), set()
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    incidents = ctl_json("incidents")
    for inc in incidents:
        w = inc.get("workload", {})
        name = "%s/%s/%s" % (w.get("namespace", ""), w.get("kind", "").lower(), w.get("name", ""))
        if inc["id"] not in seen_incidents:
            seen_incidents.add(inc["id"])
            say("detected   %s on %s (%s): %s" % (inc["error_class"].replace("ERROR_CLASS_", "").lower(),
                                                 name, inc["id"], inc.get("summary", "")))
        state = short(inc["state"])
        if seen_states.get(inc["id"]) != state:
            seen_states[inc["id"]] = state
            note = inc["transitions"][-1].get("note", "") if inc.get("transitions") else ""
            if state != "open":
                say("%-10s %s: %s" % (state, name, note[:160]))
        attempt_id = inc.get("last_fix_attempt_id")
        if attempt_id and attempt_id not in seen_attempts:
            for a in ctl_json("fixes", inc["id"]):
                if a["id"] != attempt_id or a.get("status") in ("FIX_STATUS_UNSPECIFIED", "FIX_STATUS_VERIFYING"):
                    continue
                seen_attempts.add(attempt_id)
                say("fix tried  %s -> %s: %s" % (a.get("strategy") or "-",
                                                a["status"].replace("FIX_STATUS_", "").lower(),
                                                (a.get("explanation") or a.get("error", ""))[:200]))
                for line in a.get("diff", "").splitlines():
                    if line[:1] in "+-" and not line.startswith(("+++", "---")):
                        say("           " + line)
                for line in a.get("verification_evidence", []):
                    say("verified   " + line)
    for pr in ctl_json("prs"):
        if pr["id"] not in seen_prs:
            seen_prs.add(pr["id"])
            say("PR opened  %s  branch %s  commit %s" % (pr["title"], pr["branch"], pr["commit"][:12]))
    try:
        rows = list(csv.DictReader(open(calls_csv, newline="")))
    except OSError:
        rows = []
    for row in rows:
        if row["call_id"] in seen_calls:
            continue
        seen_calls.add(row["call_id"])
        say("call       %s at %s (%s)" % (row["number"], row["call_time"], row["outcome"]))
        say("speech     " + row["speech"])
        say("answer     \"%s\" -> can_intervene=%s" % (row["transcript"], row["can_intervene"]))
        say("CSV row    " + ",".join(row[k] for k in ("call_time", "number", "speech", "can_intervene"))[:200])
    states = {seen_states[i] for i in seen_states}
    if "pr_opened" in states and ({"acknowledged", "unanswered"} & states):
        sys.exit(0)
    time.sleep(1)
print("timed out after %d s; states: %s" % (timeout, seen_states), flush=True)
sys.exit(1)
