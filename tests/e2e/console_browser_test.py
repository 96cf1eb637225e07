"""The web console in a real headless Chromium, on a real run: the remediator gets the shared
corpus (remediatorctl report) and phones about one incident through the telephony server
(espeak-ng speaks, a baresip softphone on loopback answers "yes, I can intervene", pocketsphinx
hears it, keep_audio keeps both WAVs). Then tests/e2e/console_browser.js signs in with the viewer
token and checks the incident list and its filter, an incident's timeline and evidence, the calls
with the decision and both recordings loading with the WAV headers' durations, the CSV downloads,
no console error and no request leaving the console. Screenshots go to $CONSOLE_SCREENSHOTS (or
the temp dir)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import wave

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from procs import REPO, SHARED, Results, Server, _children, run  # noqa: E402

r = Results()
state = tempfile.mkdtemp(prefix="console-browser-")
shots = os.environ.get("CONSOLE_SCREENSHOTS", state)
os.makedirs(shots, exist_ok=True)


def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# The on-call person's phone: baresip answering with a recorded "yes" (as scripts/demo.sh does).
phone = os.path.join(state, "phone")
os.makedirs(phone)
sip_port, ctrl_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
rtp = (sip_port % 20000) + 30000
subprocess.run(["espeak-ng", "-v", "en-us", "-w", os.path.join(phone, "yes.wav"),
                "yes, I can intervene"], check=True, capture_output=True)
subprocess.run(["sox", os.path.join(phone, "yes.wav"), "-r", "8000", "-c", "1", "-b", "16",
                os.path.join(phone, "yes-8k.wav"), "pad", "0", "2.5"], check=True)
subprocess.run(["sox", os.path.join(phone, "yes-8k.wav"), os.path.join(phone, "answer.wav"),
                "repeat", "60"], check=True)
with open(os.path.join(phone, "config"), "w") as f:
    f.write("""poll_method epoll
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
call_max_calls 4
audio_player aubridge,nil
audio_source aufile,%s/answer.wav
audio_alert aubridge,nil
ausrc_srate 8000
auplay_srate 8000
ausrc_channels 1
auplay_channels 1
audio_buffer 20-160
rtcp_mux no
rtp_ports %d-%d
jitter_buffer_delay 5-10
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:%d
statmode_default off
ringback_disabled yes
""" % (sip_port, phone, rtp, rtp + 19, ctrl_port))
with open(os.path.join(phone, "accounts"), "w") as f:
    f.write("<sip:oncall@127.0.0.1:%d>;regint=0;answermode=auto;audio_codecs=PCMU\n" % sip_port)
softphone = subprocess.Popen(["baresip", "-f", phone], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
_children.append(softphone)
number = "sip:oncall@127.0.0.1:%d" % sip_port

for role in ("operator", "viewer"):
    with open(os.path.join(state, role), "w") as f:
        f.write("%s-token-%s\n" % (role, os.getpid()))
viewer = "viewer-token-%s" % os.getpid()
telephony_state = os.path.join(state, "telephony")
with open(os.path.join(state, "telephony.yaml"), "w") as f:
    f.write("keep_audio: true\n")
telephony = Server("telephony", ["--config", os.path.join(state, "telephony.yaml"), "--listen",
                                 "127.0.0.1:0", "--state-dir", telephony_state,
                                 "--auth-token-file", os.path.join(state, "operator")])
remediator = Server("remediator", [
    "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--state-dir",
    os.path.join(state, "remediator"), "--auth-token-file", os.path.join(state, "operator"),
    "--viewer-token-file", os.path.join(state, "viewer"), "--telephony", telephony.address,
    "--telephony-token-file", os.path.join(state, "operator"), "--console-audio-dir",
    os.path.join(telephony_state, "audio")])
line = remediator.proc.stdout.readline()
r.check(line.startswith("console on "), "the remediator prints the console address: %r" % line)
console = line.split()[-1].rstrip("/")

common = ["--server", remediator.address, "--token-file", os.path.join(state, "operator"),
          "-o", "json"]
corpus = os.path.join(SHARED, "data", "k8s-failures.jsonl")
if not os.path.exists(corpus):
    corpus = os.path.join(REPO, "tests", "server", "remediator", "detection", "testdata",
                          "k8s-failures.jsonl")
code, out, err = run("remediatorctl", common + ["report", "-f", corpus])
r.check(code == 0, "report the corpus (%d: %s)" % (code, err))
code, out, err = run("remediatorctl", common + ["incidents", "--class", "oom_killed"])
r.check(code == 0, "list incidents (%d: %s)" % (code, err))
incident = json.loads(out.splitlines()[0])["id"]
code, out, err = run("remediatorctl", common + ["call", "--incident", incident, "--number", number],
                     timeout=180)
r.check(code == 0, "the call about %s (%d: %s)" % (incident, code, err))
call = json.loads(out.splitlines()[-1]) if code == 0 else {}
call_id = call.get("call_id", call.get("callId", ""))
r.check(call.get("can_intervene", call.get("canIntervene")) is True,
        "the softphone said yes: %s" % call)


def seconds(path):
    with wave.open(path) as w:
        return w.getnframes() / float(w.getframerate())


audio = os.path.join(telephony_state, "audio")
durations = {}
for kind in ("prompt", "answer"):
    path = os.path.join(audio, "%s-%s.wav" % (call_id, kind))
    r.check(os.path.exists(path), "the telephony server kept %s" % path)
    durations[kind] = seconds(path) if os.path.exists(path) else -1

node = shutil.which("node") or "/usr/bin/node"
browser = subprocess.run(
    [node, os.path.join(REPO, "tests", "e2e", "console_browser.js"),
     json.dumps({"url": console, "token": viewer, "incident": incident, "call": call_id,
                 "durations": durations, "screenshots": shots})],
    capture_output=True, text=True, timeout=180,
    env=dict(os.environ, REMEDIATOR_SOURCE_DIR=REPO))
print(browser.stderr, end="")
results = {}
for out_line in browser.stdout.splitlines():
    if out_line.startswith("{"):
        results = json.loads(out_line)
for c in results.get("checks", []):
    r.check(c["ok"], "browser: " + c["what"])
    print(("ok   " if c["ok"] else "FAIL ") + c["what"])
r.check(browser.returncode == 0 and results, "the browser run passed (exit %d)" % browser.returncode)
print("screenshots in", shots)

remediator.stop()
telephony.stop()
softphone.terminate()
softphone.wait(10)
if shots != state:
    shutil.rmtree(state, ignore_errors=True)
r.finish()
