#!/usr/bin/env bash
# CI-audit benchmark: pipeguard ci vs zizmor --offline on the same >= 500
# workflow files. The corpus replicates the realistic workflows of the audit
# fixtures and docs/examples (RUNS medians; zizmor from ../shared/bench/peers).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
COPIES=${COPIES:-20}
export PATH=/opt/peers/bin:$PATH
C=/tmp/pipeguard-bench/workflows
rm -rf "$C"; mkdir -p "$C/.github/workflows"
n=0
for i in $(seq 1 "$COPIES"); do
  for f in crates/pipeguard-ci/tests/fixtures/*/*.yml docs/examples/.github/workflows/*.yml; do
    case "$f" in *gitlab-ci*) continue;; esac
    n=$((n + 1))
    cp "$f" "$C/.github/workflows/w$n-$(basename "$(dirname "$f")")-$(basename "$f")"
  done
done
echo "corpus: $n workflow files, $(du -sh "$C" | cut -f1)"
# PG=path/to/pipeguard compares another build (e.g. before/after a change).
if [ -z "${PG:-}" ]; then
  cargo build --release --locked -p pipeguard >/dev/null 2>&1
  PG=$PWD/target/release/pipeguard
fi
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
run() {
  local name=$1; shift
  : > "/tmp/pipeguard-bench/$name.times"
  for _ in $(seq "$RUNS"); do
    s=$(date +%s.%N); "$@" > "/tmp/pipeguard-bench/$name.out" 2>/dev/null || true; e=$(date +%s.%N)
    echo "$e - $s" | bc >> "/tmp/pipeguard-bench/$name.times"
  done
  printf '%-10s median %.3f s (runs: %s)\n' "$name" "$(median < "/tmp/pipeguard-bench/$name.times")" "$(tr '\n' ' ' < "/tmp/pipeguard-bench/$name.times")"
}
run pipeguard "$PG" ci "$C" -f json --no-progress
run zizmor zizmor --offline --persona=auditor --format json "$C"
pg=$(median < /tmp/pipeguard-bench/pipeguard.times); zz=$(median < /tmp/pipeguard-bench/zizmor.times)
printf 'pipeguard is %.1fx faster than zizmor\n' "$(echo "$zz / $pg" | bc -l)"
python3 - <<'PY'
import json
pg = json.load(open("/tmp/pipeguard-bench/pipeguard.out"))
try:
    zz = json.load(open("/tmp/pipeguard-bench/zizmor.out"))
except Exception:
    zz = []
print(f"findings: pipeguard {len(pg['findings'])}, zizmor {len(zz)}")
PY
