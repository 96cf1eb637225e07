#!/usr/bin/env bash
# The main job on embedded defaults, on one machine: a simulated cluster (kubesim) with two broken
# workloads — nginx with a 4Mi memory limit, and a workload whose image exists nowhere — a local
# bare GitOps repository holding their manifests, the Telephony server, a baresip softphone on
# loopback standing in for the on-call person's phone (it answers "yes"), the Remediator, and the
# log-shipper sidecar tailing the simulated containers' CRI log files.
# It prints the mission as it happens, then where everything is. Ctrl-C stops everything.
#
#   scripts/demo.sh            # install, build, run; wait for Ctrl-C at the end
#   scripts/demo.sh --once     # exit (and stop everything) once the loop is done
#   scripts/demo.sh --no-build # skip install and build (after scripts/build.sh)
#   REMEDIATOR_DEMO_DIR=DIR    # where the state goes (default ./demo-state)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
once=0
build=1
for arg in "$@"; do
  case "$arg" in
    --once) once=1 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "demo.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
if [ "$build" = 1 ]; then
  bold "==> installing Debian packages and building (scripts/build.sh)"
  "$here/scripts/build.sh"
fi
B="$here/build"
for bin in server/kubesim/kubesim server/telephony/telephony server/remediator/remediator clients/cli/remediatorctl clients/log_shipper/log-shipper; do
  [ -x "$B/$bin" ] || { echo "demo.sh: $B/$bin is missing: run scripts/build.sh" >&2; exit 1; }
done
CTL="$B/clients/cli/remediatorctl"

STATE="${REMEDIATOR_DEMO_DIR:-$here/demo-state}"
rm -rf "$STATE"
mkdir -p "$STATE"
pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  # Whatever the servers started (a call's baresip) runs with the state dir on its command line.
  for _ in $(seq 1 50); do
    pgrep -f -- "$STATE/" >/dev/null || break
    pkill -TERM -f -- "$STATE/" 2>/dev/null || true
    sleep 0.1
  done
  pkill -KILL -f -- "$STATE/" 2>/dev/null || true
}
trap cleanup EXIT
trap 'echo; bold "==> stopping"; cleanup; exit 0' INT TERM

# Starts a server in the background and waits for its "listening on HOST:PORT" line.
start_server() {
  local name="$1"; shift
  "$@" >"$STATE/$name.out" 2>"$STATE/$name.log" &
  pids+=($!)
  for _ in $(seq 1 200); do
    if grep -q '^listening on ' "$STATE/$name.out" 2>/dev/null; then
      sed -n 's/^listening on //p' "$STATE/$name.out" | head -n1
      return 0
    fi
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "demo.sh: $name did not start; its log:" >&2
  cat "$STATE/$name.log" >&2
  exit 1
}
free_port() { python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, getattr(socket, "SOCK_"+sys.argv[1])); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"; }

bold "==> GitOps repository (a local bare repository) with the workloads' manifests"
git init -q --bare -b main "$STATE/gitops.git"
git clone -q "$STATE/gitops.git" "$STATE/gitops-checkout" 2>/dev/null
cp -r deploy/local/gitops/app "$STATE/gitops-checkout/"
git -C "$STATE/gitops-checkout" -c user.name=platform -c user.email=platform@example.com add -A
git -C "$STATE/gitops-checkout" -c user.name=platform -c user.email=platform@example.com commit -q -m "app: nginx and reports"
git -C "$STATE/gitops-checkout" push -q origin main
echo "    $STATE/gitops.git: $(git -C "$STATE/gitops.git" ls-tree -r --name-only main | tr '\n' ' ')"

mkdir -p "$STATE/containers"
bold "==> kubesim: a simulated cluster (time x10) running the manifests"
KUBE=$(start_server kubesim "$B/server/kubesim/kubesim" --world deploy/local/kubesim-world.yaml \
  --manifests deploy/local/gitops/app --listen 127.0.0.1:0 --kubeconfig-out "$STATE/kubeconfig" \
  --time-scale 10 --start-offset -1h --container-logs "$STATE/containers")
echo "    API server $KUBE, kubeconfig $STATE/kubeconfig"

bold "==> the on-call person's phone: a baresip softphone on loopback that answers yes"
PHONE="$STATE/phone"
mkdir -p "$PHONE/rec"
sip_port=$(free_port DGRAM); ctrl_port=$(free_port STREAM); rtp=$(( (sip_port % 20000) + 30000 ))
espeak-ng -v en-us -w "$PHONE/yes.wav" "yes, I can intervene" 2>/dev/null
sox "$PHONE/yes.wav" -r 8000 -c 1 -b 16 "$PHONE/yes-8k.wav" pad 0 2.5
sox "$PHONE/yes-8k.wav" "$PHONE/answer.wav" repeat 60
cat >"$PHONE/config" <<CFG
poll_method epoll
sip_listen 127.0.0.1:$sip_port
net_interface 127.0.0.1
call_max_calls 4
audio_player aubridge,nil
audio_source aufile,$PHONE/answer.wav
audio_alert aubridge,nil
ausrc_srate 8000
auplay_srate 8000
ausrc_channels 1
auplay_channels 1
audio_buffer 20-160
rtcp_mux no
rtp_ports $rtp-$((rtp + 19))
jitter_buffer_delay 5-10
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module aubridge.so
module_tmp account.so
module_app menu.so
module_app ctrl_tcp.so
ctrl_tcp_listen 127.0.0.1:$ctrl_port
statmode_default off
ringback_disabled yes
CFG
echo "<sip:oncall@127.0.0.1:$sip_port>;regint=0;answermode=auto;audio_codecs=PCMU" >"$PHONE/accounts"
baresip -f "$PHONE" >"$PHONE/baresip.log" 2>&1 &
pids+=($!)
NUMBER="sip:oncall@127.0.0.1:$sip_port"
echo "    on-call number $NUMBER"

bold "==> telephony server (espeak-ng, pocketsphinx, baresip dialer, calls.csv)"
TEL=$(start_server telephony "$B/server/telephony/telephony" --listen 127.0.0.1:0 \
  --state-dir "$STATE/telephony")
echo "    $TEL, call log $STATE/telephony/calls.csv"

bold "==> remediator (watch the cluster, fix, verify, PR, escalate)"
cat >"$STATE/oncall.yaml" <<YAML
timezone: UTC
people:
- {name: on-call, number: "$NUMBER"}
rotations:
- {name: demo, people: [on-call]}
escalation: {delay: 1m, max_calls_per_incident: 2, max_calls_per_person_per_hour: 6}
YAML
# A fixed port, so that a restarted remediator is found at the same address.
rem_port=$(free_port STREAM)
cat >"$STATE/remediator.yaml" <<YAML
listen: 127.0.0.1:$rem_port
state_dir: $STATE/remediator
kubeconfig: $STATE/kubeconfig
cluster_name: demo
namespaces: [app]
mode: fix
gitops: {repo: $STATE/gitops.git, branch: main, forge: local}
telephony: {address: $TEL}
oncall: $STATE/oncall.yaml
verify: {window: 15s, rollout_timeout: 90s, poll_interval: 1s}
pipeline_interval: 1s
YAML
REM=$(start_server remediator "$B/server/remediator/remediator" --config "$STATE/remediator.yaml")
echo "    $REM, state $STATE/remediator"

bold "==> log-shipper: the sidecar tailing the containers' CRI log files into ReportErrorStream"
"$B/clients/log_shipper/log-shipper" --server "$REM" --paths "$STATE/containers/*.log" \
  --state-dir "$STATE/log-shipper" --flush-interval 1s >"$STATE/log-shipper.log" 2>&1 &
pids+=($!)
echo "    tailing $STATE/containers/*.log"

bold "==> the mission, as it happens"
if python3 deploy/local/watch_demo.py "$CTL" "$REM" "$STATE/telephony/calls.csv" 240; then
  result="DEMO DONE"
else
  result="DEMO INCOMPLETE (see the logs in $STATE)"
fi
echo
bold "==> $result"
cat <<INFO
Where everything is ($STATE):
  remediator  $REM   log remediator.log, store remediator/remediator.db
  telephony   $TEL   log telephony.log, call log telephony/calls.csv
  kubesim     $KUBE  kubeconfig kubeconfig, container logs containers/
  log-shipper        log log-shipper.log, checkpoints log-shipper/
  GitOps      gitops.git (bare), the PR branch: git -C $STATE/gitops.git branch
Look at it:
  $CTL --server $REM incidents
  $CTL --server $REM prs
  $CTL --server $REM --telephony $TEL calls
  kubectl --kubeconfig $STATE/kubeconfig get pods,deploy -n app
  git -C $STATE/gitops.git log --all --stat -p -1 --format='%H %an: %s'
  cat $STATE/telephony/calls.csv
INFO
if [ "$once" = 1 ]; then
  [ "$result" = "DEMO DONE" ] && exit 0 || exit 1
fi
bold "==> running; Ctrl-C stops everything"
while true; do sleep 3600 & wait $!; done
