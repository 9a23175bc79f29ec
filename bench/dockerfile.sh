#!/usr/bin/env bash
# Dockerfile rules: speed and agreement with hadolint on the same files.
# Corpus: the rule fixtures and the Dockerfiles found on this machine, copied
# COPIES times; or, with REAL_DIR, a directory of real-world Dockerfiles. Agreement is computed on the rules both tools have
# (hadolint code → pipeguard rule), per (file, line).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
COPIES=${COPIES:-10}
export PATH=/opt/peers/bin:$PATH
C=/tmp/pipeguard-bench/dockerfiles
rm -rf "$C"; mkdir -p "$C"
n=0
if [ -n "${REAL_DIR:-}" ]; then
  # A directory of real-world Dockerfiles (REAL_DIR/NNN/Dockerfile), once each.
  for f in "$REAL_DIR"/*/Dockerfile; do
    n=$((n + 1)); mkdir -p "$C/$n"; cp "$f" "$C/$n/Dockerfile"
  done
else
  mapfile -t found < <(find / -xdev \( -name Dockerfile -o -name 'Dockerfile.*' -o -name '*.dockerfile' \) -type f 2>/dev/null | grep -v -e '^/tmp' -e '^/proc' -e '^/work' || true)
  for i in $(seq 1 "$COPIES"); do
    for f in crates/pipeguard-container/tests/fixtures/*/*.Dockerfile "${found[@]}"; do
      n=$((n + 1)); mkdir -p "$C/$n"; cp "$f" "$C/$n/Dockerfile"
    done
  done
fi
echo "corpus: $n Dockerfiles"
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
  printf '%-10s median %.3f s\n' "$name" "$(median < "/tmp/pipeguard-bench/$name.times")"
}
run pipeguard "$PG" dockerfile "$C" -f json --no-progress
mapfile -t files < <(find "$C" -name Dockerfile | sort)
run hadolint hadolint -f json "${files[@]}"
python3 - "$C" <<'PY'
import json, sys
C = sys.argv[1]
pg = json.load(open("/tmp/pipeguard-bench/pipeguard.out"))
hl = json.load(open("/tmp/pipeguard-bench/hadolint.out"))
MAP = {"DL3008": "unpinned-package-install", "DL3013": "unpinned-package-install", "DL3016": "unpinned-package-install",
       "DL3018": "unpinned-package-install", "DL3028": "unpinned-package-install", "DL3015": "apt-missing-no-install-recommends",
       "DL3009": "apt-cache-not-cleaned", "DL3004": "sudo-in-run", "DL3006": "unpinned-base-image", "DL3007": "unpinned-base-image",
       "DL3002": "root-user"}
shared = set(MAP.values())
P = {(f["locations"][0]["path"].split("/")[0], f["locations"][0]["line"], f["rule_id"]) for f in pg["findings"] if f["rule_id"] in shared}
H = {(h["file"][len(C) + 1:].split("/")[0], h["line"], MAP[h["code"]]) for h in hl if h["code"] in MAP}
print(f"shared rules: both {len(P & H)}, pipeguard only {len(P - H)}, hadolint only {len(H - P)}")
by = {}
for s, k in ((P - H, "pg_only"), (H - P, "hl_only"), (P & H, "both")):
    for (_, _, r) in s:
        by.setdefault(r, {"both": 0, "pg_only": 0, "hl_only": 0})[k] += 1
for r, c in sorted(by.items()):
    print(f"  {r:36} both {c['both']:4}  pipeguard-only {c['pg_only']:4}  hadolint-only {c['hl_only']:4}")
PY
