#!/usr/bin/env bash
# Usage: run_against_kubesim.sh KUBESIM_BINARY WORLD_FILE SCRIPT
# Starts kubesim on a free port (simulated time 30x), points KUBECONFIG and an empty HOME (so
# kubectl's discovery cache is fresh) at it, and runs SCRIPT unchanged; exits with its status.
set -euo pipefail
kubesim="$1" world="$2" script="$3"
command -v kubectl >/dev/null || { echo "kubectl not installed: skipping"; exit 0; }
work="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
"$kubesim" --world "$world" --listen 127.0.0.1:0 --kubeconfig-out "$work/kubeconfig" \
  --time-scale 30 --log-format json >"$work/kubesim.out" 2>"$work/kubesim.err" &
pid=$!
for _ in $(seq 1 500); do
  [[ -s "$work/kubeconfig" ]] && grep -q "listening on" "$work/kubesim.out" && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/kubesim.err" >&2; exit 1; }
  sleep 0.02
done
mkdir -p "$work/home"
HOME="$work/home" KUBECONFIG="$work/kubeconfig" bash "$script"
