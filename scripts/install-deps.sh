#!/usr/bin/env bash
# Installs the Debian 12 packages listed in deps/debian-packages.txt. Idempotent: packages that are
# already installed are left as they are (--no-upgrade), and a second run does nothing.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$here/deps/debian-packages.txt" | grep -v '^$')

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
# Node.js and npm may come from another source than Debian's archive; only the commands matter.
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: these Debian packages are missing: ${missing[*]}" >&2
    echo "install-deps: run this script as root (sudo $0), or install them with:" >&2
    echo "  sudo apt-get install --no-install-recommends --no-upgrade ${missing[*]}" >&2
    exit 2
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q -o DPkg::Lock::Timeout=120 >/dev/null
  apt-get install -y -q --no-install-recommends --no-upgrade -o DPkg::Lock::Timeout=120 "${missing[@]}"
fi

# kubectl is not in Debian 12's archive; the conformance tests use the machine's /usr/bin/kubectl
# and say so (and skip only those tests) when it is absent.
if ! command -v kubectl >/dev/null 2>&1; then
  echo "install-deps: note: kubectl is not installed; kubectl conformance tests will report it" >&2
fi
echo "install-deps: all Debian packages present"
