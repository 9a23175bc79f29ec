#!/usr/bin/env bash
# Secrets benchmark: throughput of `pipeguard secrets` on a large corpus of real
# files, beside (a) one ripgrep pass for the same keyword list over the same
# bytes (the floor for any keyword-prefiltered scanner), (b) gitleaks and
# (c) detect-secrets. Each tool runs RUNS times (detect-secrets DS_RUNS
# times: it is two orders of magnitude slower); medians are reported.
#
#   bash bench/make_corpus.sh            # once: builds /tmp/pipeguard-bench/corpus
#   bash ../shared/bench/peers/install.sh  # once: installs gitleaks, detect-secrets
#   bash bench/secrets.sh [CORPUS]
set -euo pipefail
cd "$(dirname "$0")/.."
CORPUS=${1:-/tmp/pipeguard-bench/corpus}
RUNS=${RUNS:-3}
OUT=${OUT:-/tmp/pipeguard-bench/out}
export PATH=/opt/peers/bin:$PATH
mkdir -p "$OUT"
# PG=path/to/pipeguard compares another build (e.g. before/after a change).
if [ -z "${PG:-}" ]; then
  cargo build --release --locked -p pipeguard >/dev/null 2>&1
  PG=$PWD/target/release/pipeguard
fi
BYTES=$(du -sb "$CORPUS" | cut -f1)
FILES=$(find "$CORPUS" -type f | wc -l)
"$PG" rules --analyzer secrets --json | python3 -c 'import json,sys; print("\n".join(sorted({k for r in json.load(sys.stdin) for k in r["keywords"]})))' > "$OUT/keywords.txt"
echo "corpus: $CORPUS, $FILES files, $((BYTES / 1000000)) MB; $(wc -l < "$OUT/keywords.txt") keywords; $(nproc) cores"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# time_runs NAME CMD... : runs CMD RUNS times, prints the median wall time and MB/s.
time_runs() {
  local name=$1; shift
  local t runs=$RUNS
  [ "$name" = detect-secrets ] && runs=${DS_RUNS:-$RUNS}
  : > "$OUT/$name.times"
  for _ in $(seq "$runs"); do
    sync
    local s=$(date +%s.%N)
    "$@" > "$OUT/$name.stdout" 2> "$OUT/$name.stderr" || true
    local e=$(date +%s.%N)
    echo "$e - $s" | bc >> "$OUT/$name.times"
  done
  t=$(median < "$OUT/$name.times")
  printf '%-16s median %7.2f s  %8.1f MB/s   (runs: %s)\n' "$name" "$t" "$(echo "$BYTES / 1000000 / $t" | bc -l)" "$(tr '\n' ' ' < "$OUT/$name.times")"
  echo "$t" > "$OUT/$name.median"
}

# Warm the page cache so that every tool reads from memory.
cat $(find "$CORPUS" -type f) > /dev/null 2>&1 || true

time_runs pipeguard "$PG" secrets "$CORPUS" --format json --no-progress -o "$OUT/pipeguard.json" --max-file-size 100000000
time_runs rg-keywords rg --no-ignore --hidden -i -F -c -f "$OUT/keywords.txt" "$CORPUS"
time_runs gitleaks gitleaks dir "$CORPUS" -f json -r "$OUT/gitleaks.json" --exit-code 0 --no-banner --max-target-megabytes 100
# detect-secrets scans ~0.1 MB/s and only scans relative paths from the
# current directory: it gets a subset (the first DS_DIRS directories), and
# pipeguard and gitleaks are timed on the same subset for its ratio.
if [ "${SKIP_DETECT_SECRETS:-0}" != 1 ]; then
  SUB=/tmp/pipeguard-bench/subset
  rm -rf "$SUB"; mkdir -p "$SUB"
  for i in $(seq 0 $(( ${DS_DIRS:-2} - 1 ))); do cp -r "$CORPUS/d$i" "$SUB/"; done
  SUB_BYTES=$(du -sb "$SUB" | cut -f1)
  echo "subset for detect-secrets: $(find "$SUB" -type f | wc -l) files, $((SUB_BYTES / 1000000)) MB"
  BYTES_SAVED=$BYTES; BYTES=$SUB_BYTES
  time_runs pipeguard-subset "$PG" secrets "$SUB" --format json --no-progress -o "$OUT/pipeguard-subset.json"
  time_runs gitleaks-subset gitleaks dir "$SUB" -f json -r "$OUT/gitleaks-subset.json" --exit-code 0 --no-banner
  time_runs detect-secrets sh -c "cd '$SUB' && detect-secrets scan --all-files ."
  cp "$OUT/detect-secrets.stdout" "$OUT/detect-secrets.json"
  BYTES=$BYTES_SAVED
  printf 'pipeguard vs detect-secrets (subset): %.1fx faster\n' "$(echo "$(cat "$OUT/detect-secrets.median") / $(cat "$OUT/pipeguard-subset.median")" | bc -l)"
fi

pg=$(cat "$OUT/pipeguard.median"); gl=$(cat "$OUT/gitleaks.median")
printf 'pipeguard vs gitleaks: %.1fx faster\n' "$(echo "$gl / $pg" | bc -l)"
printf 'pipeguard vs one rg keyword pass: %.2fx the time\n' "$(echo "$pg / $(cat "$OUT/rg-keywords.median")" | bc -l)"

python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
pg = json.load(open(f"{out}/pipeguard.json"))
locs = sum(len(f["locations"]) for f in pg["findings"])
print(f"findings: pipeguard {len(pg['findings'])} distinct secrets at {locs} places", end="")
try:
    gl = json.load(open(f"{out}/gitleaks.json"))
    print(f"; gitleaks {len(gl)} matches", end="")
except Exception:
    pass
try:
    ds = json.load(open(f"{out}/detect-secrets.json"))
    sub = json.load(open(f"{out}/pipeguard-subset.json"))
    print(f"; on the subset: pipeguard {len(sub['findings'])} secrets, detect-secrets {sum(len(v) for v in ds['results'].values())} matches", end="")
except Exception:
    pass
print()
PY
