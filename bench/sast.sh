#!/usr/bin/env bash
# SAST benchmark: `pipeguard code` against semgrep (local taint rules over the
# same source/sink families, bench/sast-semgrep-rules.yml) and, for Python,
# bandit, on at least 100,000 lines of real source per language:
#
#   python      the Python standard library on this machine (/usr/lib/python3.*)
#   javascript  installed Node packages (/usr/lib/node_modules: npm and its dependencies)
#   go          the Go standard library (Debian's golang-1.*-src, fetched with apt-get download)
#   java        the JDK class library sources (Debian's openjdk-17-source src.zip)
#
# Prints wall time (median of RUNS), files/s and finding counts side by side.
# Peers: `SKIP_CARGO=1 bash ../shared/bench/peers/install.sh` (as root).
#
#   bench/sast.sh                 # all languages, 3 runs each
#   RUNS=5 LANGS="python go" bench/sast.sh
#   PIPEGUARD=target/release/pipeguard WORK=/tmp/sast-bench bench/sast.sh
#   TOOLS=pipeguard bench/sast.sh  # only re-time pipeguard (the corpora are kept in WORK)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${WORK:-/tmp/pipeguard-sast-bench}
RUNS=${RUNS:-3}
LANGS=${LANGS:-"python javascript go java"}
TOOLS=${TOOLS:-"pipeguard semgrep bandit"}
PG=${PIPEGUARD:-$ROOT/target/release/pipeguard}
RULES=$ROOT/bench/sast-semgrep-rules.yml
export PATH=/opt/peers/bin:$PATH

[ -x "$PG" ] || { echo "build first: cargo build --release -p pipeguard" >&2; exit 2; }
command -v semgrep >/dev/null || { echo "semgrep missing: run the peers install.sh" >&2; exit 2; }
mkdir -p "$WORK/src" "$WORK/out" "$WORK/deb"

# Copies the files matching EXT from SRC into DST, renaming `node_modules`
# and test directories so that no tool's built-in ignore list (semgrep's
# default .semgrepignore skips node_modules/ and tests/) changes what it reads.
copy_tree() {
  local src=$1 dst=$2 ext=$3
  [ -d "$dst" ] && return 0
  python3 - "$src" "$dst" "$ext" <<'PY'
import os, shutil, sys
src, dst, ext = sys.argv[1:]
rename = {"node_modules": "nm", "test": "tst", "tests": "tsts", "testdata": "tstdata"}
for d, dirs, files in os.walk(src):
    dirs[:] = [x for x in dirs if not x.startswith(".")]
    rel = os.path.relpath(d, src)
    parts = [rename.get(p, p) for p in rel.split(os.sep)] if rel != "." else []
    for f in files:
        if not f.endswith(ext) or f.endswith(".min.js"):
            continue
        p = os.path.join(d, f)
        if os.path.islink(p) or os.path.getsize(p) > 2 * 1024 * 1024:
            continue
        out = os.path.join(dst, *parts)
        os.makedirs(out, exist_ok=True)
        shutil.copyfile(p, os.path.join(out, f))
PY
  # An empty .semgrepignore replaces semgrep's default ignore list.
  : > "$dst/.semgrepignore"
}

prepare() {
  local lang=$1 dst=$WORK/src/$1
  case $lang in
    python)
      local py
      py=$(ls -d /usr/lib/python3.[0-9]* | sort -V | tail -1)
      copy_tree "$py" "$dst" .py ;;
    javascript)
      copy_tree /usr/lib/node_modules "$dst" .js ;;
    go)
      if [ ! -d "$dst" ]; then
        (cd "$WORK/deb" && ls golang-1.*-src_*.deb >/dev/null 2>&1 || apt-get download "$(apt-cache search --names-only '^golang-1\.[0-9]+-src$' | sort -V | tail -1 | cut -d' ' -f1)" >/dev/null 2>&1)
        rm -rf "$WORK/deb/go" && dpkg-deb -x "$(ls "$WORK"/deb/golang-1.*-src_*.deb | head -1)" "$WORK/deb/go"
        local gosrc
        gosrc=$(ls -d "$WORK"/deb/go/usr/share/go-1.*/src | head -1)
        mkdir -p "$WORK/deb/gosub"
        for d in net crypto encoding os database html text archive compress mime; do
          cp -r "$gosrc/$d" "$WORK/deb/gosub/"
        done
        copy_tree "$WORK/deb/gosub" "$dst" .go
      fi ;;
    java)
      if [ ! -d "$dst" ]; then
        (cd "$WORK/deb" && ls openjdk-*-source_*.deb >/dev/null 2>&1 || apt-get download openjdk-17-source >/dev/null 2>&1)
        rm -rf "$WORK/deb/jdk" && dpkg-deb -x "$(ls "$WORK"/deb/openjdk-*-source_*.deb | head -1)" "$WORK/deb/jdk"
        local zip
        zip=$(find "$WORK/deb/jdk" -name src.zip | head -1)
        rm -rf "$WORK/deb/jsrc" && mkdir -p "$WORK/deb/jsrc"
        unzip -q "$zip" 'java.base/java/util/*' 'java.base/java/net/*' 'java.base/java/io/*' \
          'java.base/java/nio/*' 'java.sql/*' 'java.net.http/*' 'java.naming/*' -d "$WORK/deb/jsrc"
        copy_tree "$WORK/deb/jsrc" "$dst" .java
      fi ;;
  esac
}

# "wall cpu" seconds of a command (output discarded; non-zero exits are
# findings, not failures). CPU time (user + sys, children included) is the
# steadier figure on a shared machine.
timed() {
  local f
  f=$(mktemp)
  /usr/bin/time -f "%e %U %S" -o "$f" "$@" >/dev/null 2>&1 || true
  awk '{printf "%s %.2f\n", $1, $2 + $3}' "$f"
  rm -f "$f"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
# Median wall and median CPU of "wall cpu" lines.
medians() {
  local lines
  lines=$(cat)
  echo "$(echo "$lines" | cut -d' ' -f1 | median) $(echo "$lines" | cut -d' ' -f2 | median)"
}

count_json() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print(len(r.get(sys.argv[2]) or []))" "$1" "$2"; }

printf '| language | files | lines | tool | wall s (median of %s) | CPU s (median) | files/s (wall) | findings |\n' "$RUNS"
printf '|---|---:|---:|---|---:|---:|---:|---:|\n'
for lang in $LANGS; do
  prepare "$lang"
  dir=$WORK/src/$lang
  ext=$(case $lang in python) echo py;; javascript) echo js;; go) echo go;; java) echo java;; esac)
  files=$(find "$dir" -name "*.$ext" | wc -l)
  lines=$(find "$dir" -name "*.$ext" -print0 | xargs -0 cat | wc -l)

  has() { case " $TOOLS " in *" $1 "*) return 0;; *) return 1;; esac; }
  if has pipeguard; then
  out=$WORK/out/$lang-pipeguard.json
  ts=()
  for _ in $(seq "$RUNS"); do
    ts+=("$(timed "$PG" code --no-progress -f json -o "$out" "$dir")")
  done
  read -r t c < <(printf '%s\n' "${ts[@]}" | medians)
  printf '| %s | %s | %s | pipeguard code | %.2f | %.2f | %.0f | %s |\n' "$lang" "$files" "$lines" "$t" "$c" "$(echo "$files / $t" | bc -l)" "$(count_json "$out" findings)"
  fi

  if has semgrep; then
  out=$WORK/out/$lang-semgrep.json
  ts=()
  for _ in $(seq "$RUNS"); do
    ts+=("$(timed semgrep scan --config "$RULES" --metrics=off --disable-version-check --json -o "$out" "$dir")")
  done
  read -r t c < <(printf '%s\n' "${ts[@]}" | medians)
  printf '| %s | %s | %s | semgrep | %.2f | %.2f | %.0f | %s |\n' "$lang" "$files" "$lines" "$t" "$c" "$(echo "$files / $t" | bc -l)" "$(count_json "$out" results)"
  fi

  if has bandit && [ "$lang" = python ] && command -v bandit >/dev/null; then
    out=$WORK/out/$lang-bandit.json
    ts=()
    for _ in $(seq "$RUNS"); do
      ts+=("$(timed bandit -q -r "$dir" -f json -o "$out")")
    done
    read -r t c < <(printf '%s\n' "${ts[@]}" | medians)
    printf '| %s | %s | %s | bandit | %.2f | %.2f | %.0f | %s |\n' "$lang" "$files" "$lines" "$t" "$c" "$(echo "$files / $t" | bc -l)" "$(count_json "$out" results)"
  fi
done
echo
echo "pipeguard findings by rule (last run):"
for lang in $LANGS; do
  [ -f "$WORK/out/$lang-pipeguard.json" ] || continue
  python3 - "$WORK/out/$lang-pipeguard.json" <<'PY'
import collections, json, sys
r = json.load(open(sys.argv[1]))
c = collections.Counter(f["rule_id"] for f in r["findings"])
print("  " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
PY
done
