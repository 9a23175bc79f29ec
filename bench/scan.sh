#!/usr/bin/env bash
# `pipeguard scan` wall time on a >= 10,000-file repository: pull-request
# mode (small diff) and full scans, cold and with the content cache, with
# per-analyzer timings, next to gitleaks on the same repository (the only
# peer that covers the secrets part of both modes offline).
# Usage: bench/scan.sh [RUNS]   (needs bench/make_scan_repo.sh first)
set -euo pipefail
RUNS=${1:-5}
REPO=${REPO:-/tmp/pipeguard-bench/scanrepo}
PG=${PG:-$(pwd)/target/release/pipeguard}
DB=${DB:-/tmp/pipeguard-bench/db}
export PATH=/opt/peers/bin:$PATH
[ -d "$REPO/.git" ] || bash bench/make_scan_repo.sh "$REPO"
if [ ! -f "$DB/meta.json" ]; then "$PG" db update --from ../shared/advisories --db "$DB" >/dev/null; fi
CACHE=$(mktemp -d)
# Reports go to a scratch directory, never to /dev/null: some tools replace
# their report file by renaming a temporary file over it, which would turn
# /dev/null into a regular file for the whole machine.
OUT=$(mktemp -d)
median() { sort -n | awk '{a[NR]=$1} END {m=(NR+1)/2; print (NR%2 ? a[int(m)] : (a[NR/2]+a[NR/2+1])/2)}'; }
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N); echo "$e - $s" | bc; }
cd "$REPO"
git checkout -q feature
row() { # row NAME CMD...
  local name=$1; shift
  local times=()
  for _ in $(seq "$RUNS"); do times+=("$(t "$@")"); done
  printf '%-46s %8.3f s   (runs: %s)\n' "$name" "$(printf '%s\n' "${times[@]}" | median)" "${times[*]}"
}
echo "repository: $(git ls-files | wc -l) files, $(git rev-list --count HEAD) commits; PR: $(git diff --name-only main | wc -l) changed files"
row "pipeguard scan --diff-base main (PR mode)" "$PG" scan . --db "$DB" --diff-base main --no-progress -f json
row "pipeguard scan --profile main --no-cache" "$PG" scan . --db "$DB" --profile main --no-cache --no-progress -f json
"$PG" scan . --db "$DB" --profile main --cache-dir "$CACHE" --no-progress -f json >/dev/null 2>&1 || true
row "pipeguard scan --profile main (warm cache)" "$PG" scan . --db "$DB" --profile main --cache-dir "$CACHE" --no-progress -f json
row "pipeguard scan --profile main --only secrets,deps,ci,dockerfile --no-cache" "$PG" scan . --db "$DB" --profile main --only secrets,deps,ci,dockerfile --no-cache --no-progress -f json
if command -v gitleaks >/dev/null; then
  row "gitleaks git --log-opts main..feature (PR)" gitleaks git . --log-opts=main..feature -f json -r "$OUT/gitleaks.json" --exit-code 0
  row "gitleaks dir (working tree)" gitleaks dir . -f json -r "$OUT/gitleaks.json" --exit-code 0
  row "gitleaks git (full history)" gitleaks git . -f json -r "$OUT/gitleaks.json" --exit-code 0
fi
echo; echo "== --timings, PR mode"
"$PG" scan . --db "$DB" --diff-base main --no-progress --timings -f json -o /tmp/pipeguard-bench/scan-pr.json || true
echo "== --timings, full (no cache)"
"$PG" scan . --db "$DB" --profile main --no-cache --no-progress --timings -f json -o /tmp/pipeguard-bench/scan-full.json || true
echo "== --timings, full (warm cache)"
"$PG" scan . --db "$DB" --profile main --cache-dir "$CACHE" --no-progress --timings -f json -o "$OUT/warm.json" || true
python3 - <<'PY'
import json, collections
for name in ["scan-pr", "scan-full"]:
    r = json.load(open(f"/tmp/pipeguard-bench/{name}.json"))
    c = collections.Counter(f["analyzer"] for f in r["findings"])
    print(name, dict(c), "problems:", len(r["problems"]))
PY
rm -rf "$CACHE" "$OUT"
