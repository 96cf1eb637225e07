"""Both servers as a grpcurl user sees them: `buf curl` (npm @bufbuild/buf) through server
reflection lists the services and methods, calls RPCs with JSON, reads the health status, and
gets gRPC error codes for bad requests."""
import json
import os
import shutil
import subprocess
import tempfile

from procs import REPO, Results, Server

r = Results()
buf = shutil.which("buf") or os.path.join(REPO, "tools", "node_modules", ".bin", "buf")
if not os.path.exists(buf):
    raise SystemExit("buf is not installed: run `npm install` in tools/ (scripts/test.sh does)")

state = tempfile.mkdtemp(prefix="buf-curl-")
remediator = Server("remediator", ["--listen", "127.0.0.1:0", "--state-dir", state + "/r"])
telephony = Server("telephony", ["--listen", "127.0.0.1:0", "--state-dir", state + "/t"])


def buf_curl(address, *args, data=None):
    cmd = [buf, "curl", "--protocol", "grpc", "--http2-prior-knowledge"]
    if data is not None:
        cmd += ["-d", data]
    cmd += list(args)
    cmd[-1] = "http://%s%s" % (address, cmd[-1])
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


listed = set()
for server, service in ((remediator, "remediator.v1.Remediator"), (telephony, "telephony.v1.Telephony")):
    code, out, err = buf_curl(server.address, "--list-methods", "")
    r.check(code == 0, "%s --list-methods exit 0 (%s)" % (service, err))
    methods = set(out.split())
    listed |= {m.split("/")[0] for m in methods}
    r.check("grpc.health.v1.Health/Check" in methods, "%s: health is described by reflection" % service)
    r.check(any(m.startswith(service + "/") for m in methods), "%s listed" % service)
    code, out, err = buf_curl(server.address, "/grpc.health.v1.Health/Check", data="{}")
    r.check(code == 0 and json.loads(out).get("status") == "SERVING", "%s health SERVING (%s)" % (service, out))
r.check({"remediator.v1.Remediator", "telephony.v1.Telephony", "grpc.health.v1.Health"} <= listed,
        "reflection shows both services and health: %s" % sorted(listed))

# A real call with JSON, and the answer as JSON.
pod = json.dumps({"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": "nginx-5d8f6c7b9-abcde", "namespace": "app",
                               "ownerReferences": [{"kind": "ReplicaSet", "name": "nginx-5d8f6c7b9", "controller": True}]},
                  "status": {"phase": "Running", "containerStatuses": [
                      {"name": "nginx", "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                       "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}})
code, out, err = buf_curl(remediator.address, "/remediator.v1.Remediator/ReportError",
                          data=json.dumps({"observations": [{"podJson": pod}]}))
r.check(code == 0, "ReportError through buf curl (%s)" % err)
detection = json.loads(out)["detections"][0] if code == 0 else {}
r.check(detection.get("errorClass") == "ERROR_CLASS_OOM_KILLED", "class over JSON: %s" % detection)
r.check(detection.get("workload", {}).get("name") == "nginx", "workload over JSON")
code, out, err = buf_curl(remediator.address, "/remediator.v1.Remediator/GetIncident",
                          data=json.dumps({"id": detection.get("incidentId", "")}))
r.check(code == 0 and json.loads(out).get("state") == "INCIDENT_STATE_OPEN", "GetIncident (%s)" % err)

# Errors arrive as gRPC codes: buf curl exits with code * 8.
code, out, err = buf_curl(remediator.address, "/remediator.v1.Remediator/ReportError", data="{}")
r.check(code == 3 * 8 and "invalid_argument" in err, "empty batch: INVALID_ARGUMENT (%d %s)" % (code, err))
code, out, err = buf_curl(remediator.address, "/remediator.v1.Remediator/GetIncident", data='{"id":"inc-x"}')
r.check(code == 5 * 8, "unknown incident: NOT_FOUND (%d)" % code)
code, out, err = buf_curl(telephony.address, "/telephony.v1.Telephony/PlaceCall",
                          data='{"number":"not a number","message":"hi"}')
r.check(code == 3 * 8, "telephony bad number: INVALID_ARGUMENT (%d %s)" % (code, err))

r.check(remediator.stop() == 0, "remediator stops cleanly")
r.check(telephony.stop() == 0, "telephony stops cleanly")
r.finish()
