#!/usr/bin/env bash
# Compares the LineMatcher with grep -E (and ripgrep when installed) on one generated CRI log,
# with `wc -l` (a memchr line count) as the baseline of the same run. Figures are MB/s of process
# CPU time (user+sys, file in the page cache) and ratios against wc -l; the matched-line counts of
# every tool must equal the generator's ground truth (sum of its per-pattern injections).
#
# usage: tests/bench/detection/compare_grep.sh [BUILD_DIR] [BYTES]
#   BUILD_DIR  where detection_bench and gen_cri_logs were built (default: build)
#   BYTES      size of the generated file (default 209715200, as in perf-anchors.md §6)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-build}"
bytes="${2:-209715200}"
bench="$build/tests/bench/detection/detection_bench"
gen="$build/tests/bench/detection/gen_cri_logs"
patterns="$here/error-patterns.txt"
for f in "$bench" "$gen"; do
  [[ -x "$f" ]] || { echo "missing $f (build detection_bench first)" >&2; exit 2; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
file="$work/logs.cri"
"$gen" "$file" "$bytes" > "$work/gen.txt"
size=$(stat -c %s "$file")
truth=$(sed -n 's/^injected://p' "$work/gen.txt" | tr ' ' '\n' | awk '{s+=$1} END {print s}')
cat "$file" > /dev/null  # warm the page cache

# cpu_seconds CMD...: runs CMD 3 times, prints the lowest user+sys CPU seconds; stdout -> $work/out
cpu_seconds() {
  local best=""
  for _ in 1 2 3; do
    local s
    s=$( { TIMEFORMAT='%U %S'; time "$@" > "$work/out"; } 2>&1 | tail -1 | awk '{print $1+$2}')
    if [[ -z "$best" ]] || awk -v a="$s" -v b="$best" 'BEGIN{exit !(a<b)}'; then best="$s"; fi
  done
  echo "$best"
}

printf 'file: %d bytes, ground truth matched lines: %d\n' "$size" "$truth"
printf '%-34s %10s %10s %12s %10s\n' tool cpu_s MB/s x_wc_-l lines
base=$(cpu_seconds wc -l "$file")
base_lines=$(awk '{print $1}' "$work/out")
report() {  # name seconds count
  awk -v n="$1" -v s="$2" -v b="$base" -v z="$size" -v c="$3" \
    'BEGIN { if (s <= 0) s = 0.0005; printf "%-34s %10.3f %10.1f %12.4f %10s\n", n, s, z/s/1e6, b/s, c }'
}
report "wc -l (memchr baseline)" "$base" "$base_lines"

status=0
s=$(cpu_seconds grep -c -E -f "$patterns" "$file" || true)
grep_count=$(cat "$work/out")
report "grep -c -E -f error-patterns.txt" "$s" "$grep_count"
[[ "$grep_count" == "$truth" ]] || { echo "grep count differs from ground truth" >&2; status=1; }

if command -v rg > /dev/null; then
  s=$(cpu_seconds rg -c -f "$patterns" "$file" || true)
  rg_count=$(cat "$work/out")
  report "rg -c -f error-patterns.txt" "$s" "$rg_count"
else
  echo "rg (ripgrep) not installed: skipped"
fi

s=$(cpu_seconds "$bench" --bench_file="$file" --count_only)
m_count=$(sed -n 's/.*matched_lines=\([0-9]*\).*/\1/p' "$work/out")
scan=$(sed -n 's/.*(\([0-9.]*\) MB\/s).*/\1/p' "$work/out")
report "detection_bench --count_only (proc)" "$s" "$m_count"
printf '  (its in-memory ScanBuffer pass alone: %s MB/s of CPU time)\n' "$scan"
[[ "$m_count" == "$truth" ]] || { echo "LineMatcher count differs from ground truth" >&2; status=1; }
exit $status
