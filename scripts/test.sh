#!/usr/bin/env bash
# Installs what the tests need, builds everything, and runs every test: unit, integration
# (real servers on 127.0.0.1:0, real kubectl, real espeak-ng/pocketsphinx/baresip), end-to-end
# and the benchmarks in their short mode. Network tests run inside a private network namespace
# (`unshare -n`, loopback only) when the machine allows it.
#
#   scripts/test.sh                 # everything
#   scripts/test.sh --sanitize      # the same under AddressSanitizer + UBSan (build-asan/)
#   scripts/test.sh -- -R corpus    # extra arguments after -- go to ctest
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

build_dir=build
cmake_args=()
ctest_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sanitize) build_dir=build-asan; cmake_args+=(-DREMEDIATOR_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n==> %s\n' "$*"; }

step "Debian packages and build ($build_dir)"
BUILD_DIR="$build_dir" "$here/scripts/build.sh" "${cmake_args[@]}"

step "test tools (npm: @bufbuild/buf for buf curl, playwright-core for the console test)"
if [ ! -x tools/node_modules/.bin/buf ] || [ ! -d tools/node_modules/playwright-core ]; then
  (cd tools && npm install --no-audit --no-fund --loglevel=error)
fi

step "tests"
export GRPC_VERBOSITY=ERROR
export REMEDIATOR_SHARED_DIR="${REMEDIATOR_SHARED_DIR:-$(cd "$here/.." && pwd)/shared}"
export PATH="$here/tools/node_modules/.bin:$PATH"
run_tests() {
  cd "$build_dir"
  # Two at a time; end-to-end tests that must not share the machine set RUN_SERIAL.
  ctest --output-on-failure -j 2 "$@"
}
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
  echo "(inside a private network namespace: loopback only)"
  export -f run_tests
  export build_dir
  unshare -n bash -c 'ip link set lo up && run_tests "$@"' run_tests "${ctest_args[@]}"
else
  echo "(no private network namespace available: tests bind 127.0.0.1 only)"
  run_tests "${ctest_args[@]}"
fi
