"""A real Prometheus (Debian's `prometheus`) scrapes both servers' --metrics-listen endpoints on
loopback, and its HTTP API returns the series (issue 16 item 1): incidents by class and state,
detections, ingested lines, RPCs by method and code, refused logins, the telephony server's
engine timings. The remediator gets the shared corpus through `remediatorctl report`; the
telephony server synthesizes and transcribes speech (espeak-ng, pocketsphinx) through
remediatorctl, so the TTS/STT histograms have samples. Config and storage live in a temp dir."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from procs import REPO, SHARED, Results, Server, run, _children

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
if not os.path.exists(PROMETHEUS):
    print("prometheus is not installed (deps/debian-packages.txt lists it)")
    sys.exit(1)

r = Results()
state = tempfile.mkdtemp(prefix="prometheus-scrape-")
token_file = os.path.join(state, "token")
with open(token_file, "w") as f:
    f.write("scrape-test-token-1\n")


def read_metrics_line(server):
    """The "metrics on HOST:PORT" line printed after "listening on"."""
    line = server.proc.stdout.readline()
    if not line.startswith("metrics on "):
        raise RuntimeError("no metrics line: %r; log: %s" % (line, server.stderr()))
    return line.split()[-1]


remediator = Server("remediator", ["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                                   "--state-dir", os.path.join(state, "remediator"),
                                   "--auth-token-file", token_file])
remediator_metrics = read_metrics_line(remediator)
telephony = Server("telephony", ["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
                                 "--state-dir", os.path.join(state, "telephony"),
                                 "--auth-token-file", token_file])
telephony_metrics = read_metrics_line(telephony)

# Traffic: the corpus, a refused call, speech synthesized and heard back.
corpus_path = os.path.join(SHARED, "data", "k8s-failures.jsonl")
if not os.path.exists(corpus_path):
    corpus_path = os.path.join(REPO, "tests", "server", "remediator", "detection", "testdata",
                               "k8s-failures.jsonl")
common = ["--server", remediator.address, "--token-file", token_file]
code, out, err = run("remediatorctl", common + ["report", "-f", corpus_path])
r.check(code == 0, "report the corpus (exit %d: %s)" % (code, err))
code, _, _ = run("remediatorctl", ["--server", remediator.address, "--token", "wrong", "incidents"])
r.check(code != 0, "a wrong token is refused")
wav = os.path.join(state, "yes.wav")
tele = ["--server", "", "--telephony", telephony.address, "--token-file", token_file]
code, out, err = run("remediatorctl", tele + ["tts", "--text", "yes I can", "-o", wav])
r.check(code == 0, "synthesize through the telephony server (exit %d: %s)" % (code, err))
code, out, err = run("remediatorctl", tele + ["stt", "-f", wav])
r.check(code == 0, "transcribe through the telephony server (exit %d: %s)" % (code, err))

# Prometheus on a free loopback port, scraping both every second.
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    web_port = s.getsockname()[1]
config = os.path.join(state, "prometheus.yml")
with open(config, "w") as f:
    f.write("""global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: remediator
    static_configs: [{targets: ['%s']}]
  - job_name: telephony
    static_configs: [{targets: ['%s']}]
""" % (remediator_metrics, telephony_metrics))
prom_log = open(os.path.join(state, "prometheus.log"), "w")
prom = subprocess.Popen([PROMETHEUS, "--config.file=" + config,
                         "--storage.tsdb.path=" + os.path.join(state, "tsdb"),
                         "--web.listen-address=127.0.0.1:%d" % web_port,
                         "--log.level=warn"], stdout=prom_log, stderr=prom_log)
_children.append(prom)


def query(expr):
    url = "http://127.0.0.1:%d/api/v1/query?%s" % (web_port,
                                                    urllib.parse.urlencode({"query": expr}))
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            body = json.load(response)
    except OSError:
        return None
    return body["data"]["result"] if body.get("status") == "success" else None


def wait_for(expr, predicate, timeout=60):
    """Polls the query until predicate(result) holds; returns the last result."""
    deadline = time.monotonic() + timeout
    result = None
    while time.monotonic() < deadline:
        result = query(expr)
        if result is not None and predicate(result):
            return result
        time.sleep(0.5)
    return result


up = wait_for("up", lambda res: len(res) == 2 and all(x["value"][1] == "1" for x in res))
r.check(up is not None and len(up) == 2 and all(x["value"][1] == "1" for x in up),
        "both targets are up: %s" % up)
expected = [
    ('sum(remediator_incidents)', lambda v: v >= 5),
    ('sum(remediator_incidents{class="oom_killed",state="open"})', lambda v: v >= 1),
    ('sum(remediator_detections_total)', lambda v: v >= 5),
    ('sum(remediator_ingested_observations_total)', lambda v: v >= 10),
    ('sum(remediator_ingested_log_lines_total)', lambda v: v >= 1),
    ('sum(grpc_server_handled_total{job="remediator",grpc_method="ReportError",grpc_code="OK"})',
     lambda v: v >= 1),
    ('sum(remediator_auth_failures_total{reason="unauthenticated"})', lambda v: v >= 1),
    ('sum(telephony_tts_seconds_count{engine="espeak-ng"})', lambda v: v >= 1),
    ('sum(telephony_stt_seconds_count)', lambda v: v >= 1),
    ('sum(telephony_decision_seconds_count)', lambda v: v >= 1),
    ('sum(grpc_server_handled_total{job="telephony",grpc_method="Synthesize"})', lambda v: v >= 1),
]
for expr, ok in expected:
    res = wait_for(expr, lambda res: len(res) == 1 and ok(float(res[0]["value"][1])))
    value = float(res[0]["value"][1]) if res else None
    r.check(value is not None and ok(value), "%s = %s" % (expr, value))
    print("query %-90s -> %s" % (expr, value), flush=True)
# Families Prometheus knows with their types (from the exposition's # TYPE lines).
meta_url = "http://127.0.0.1:%d/api/v1/metadata" % web_port
with urllib.request.urlopen(meta_url, timeout=5) as response:
    metadata = json.load(response)["data"]
for name, kind in [("remediator_incidents", "gauge"), ("remediator_detections_total", "counter"),
                   ("telephony_tts_seconds", "histogram"),
                   ("grpc_server_handled_total", "counter")]:
    got = [m["type"] for m in metadata.get(name, [])]
    r.check(kind in got, "%s has type %s (got %s)" % (name, kind, got))

prom.terminate()
prom.wait(10)
remediator.stop()
telephony.stop()
shutil.rmtree(state, ignore_errors=True)
r.finish()
