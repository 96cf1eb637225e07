#!/usr/bin/env bash
# Installs the Debian packages (scripts/install-deps.sh) and builds everything into build/
# (or $BUILD_DIR). Extra arguments go to cmake's configure step.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
build_dir="${BUILD_DIR:-build}"
"$here/scripts/install-deps.sh"
# ccache hits across checkouts in other folders (CI clones elsewhere).
export CCACHE_BASEDIR="$here" CCACHE_NOHASHDIR=true
cmake -S . -B "$build_dir" -G Ninja "$@" >/dev/null
ninja -C "$build_dir" -j "$(nproc)"
