#!/usr/bin/env bash
# Deps benchmark: import all of ../shared/advisories (seconds, index size),
# then scan >= 20,000 locked packages across many lockfiles (median wall time
# of RUNS warm runs, and peak memory). VULN_SHARE (default 0.1) is the share
# of packages locked at a version from an advisory range; 1 is a stress test.
# No runnable peer exists here:
# osv-scanner is in no registry, trivy's vulnerability DB comes from an OCI
# registry we cannot reach, and cargo-audit needs the RustSec git database.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
ADV=${1:-../shared/advisories}
W=/tmp/pipeguard-bench/deps-work
mkdir -p "$W"
# PG=path/to/pipeguard compares another build (e.g. before/after a change).
if [ -z "${PG:-}" ]; then
  cargo build --release --locked -p pipeguard >/dev/null 2>&1
  PG=$PWD/target/release/pipeguard
fi
VULN_SHARE=${VULN_SHARE:-0.1} python3 bench/make_deps_corpus.py "$ADV" /tmp/pipeguard-bench/deps
rm -rf "$W/db"
s=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$W/import.mem" "$PG" db update --from "$ADV" --db "$W/db" > "$W/import.out"
e=$(date +%s.%N)
printf 'import: %.2f s, peak %d MB, index %s\n' "$(echo "$e - $s" | bc)" $(( $(tail -1 "$W/import.mem") / 1024 )) "$(du -sh "$W/db" | cut -f1)"
cat "$W/import.out"
: > "$W/times"
for _ in $(seq "$RUNS"); do
  s=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$W/scan.mem" "$PG" deps /tmp/pipeguard-bench/deps --db "$W/db" -f json -o "$W/report.json" --no-progress || true
  e=$(date +%s.%N)
  echo "$e - $s" | bc >> "$W/times"
done
med=$(sort -n "$W/times" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
python3 - "$W/report.json" "$med" "$(tail -1 "$W/scan.mem")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
print(f"scan: {s.get('packages_scanned')} packages in {s['files_scanned']} lockfiles, median {float(sys.argv[2]):.3f} s, peak {int(sys.argv[3]) // 1024} MB, {len(r['findings'])} findings, {len(r['problems'])} problems")
PY
