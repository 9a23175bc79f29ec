#!/usr/bin/env bash
# Throughput of `pipeguard mask` on a build-log-like stream with 50 known
# secrets (each also planted base64-, hex-, URL- and JSON-encoded, at random
# offsets), against sed with the same 50 values as expressions.
#
#   bench/mask.sh [SIZE_MB] [RUNS]      (defaults: 1024 MB, 5 runs)
#
# Needs: a release build (cargo build --release -p pipeguard), python3,
# hyperfine. Prints the wall-clock median and the CPU time (user + system,
# mean; the steadier figure on a shared machine) in MB/s. The sed reference
# runs on a smaller slice (sed is far slower) and is scaled the same way.
set -euo pipefail

SIZE_MB=${1:-1024}
RUNS=${2:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${PIPEGUARD_BIN:-$ROOT/target/release/pipeguard}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/pipeguard-mask-bench.XXXXXX)}
trap 'rm -rf "$WORK"' EXIT
[ -x "$BIN" ] || { echo "build first: cargo build --release -p pipeguard" >&2; exit 2; }
command -v hyperfine >/dev/null || { echo "hyperfine is needed" >&2; exit 2; }

python3 - "$WORK" <<'EOF'
import base64, json, random, sys, urllib.parse
work = sys.argv[1]
rnd = random.Random(7)
alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_+/=@!"
secrets = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(16, 48))) for _ in range(50)]
with open(f"{work}/values.txt", "w") as f:
    f.write("\n".join(secrets) + "\n")
words = ["Compiling", "Downloading", "Running", "Finished", "warning:", "INFO", "DEBUG",
         "test", "ok", "src/main.rs", "crates/core/src/lib.rs", "npm", "install", "added",
         "packages", "in", "3.2s", "layer", "sha256:9f86d081884c7d65", "Step", "RUN",
         "apt-get", "update", "Get:1", "http://deb.debian.org/debian", "bookworm", "InRelease",
         "pytest", "PASSED", "collected", "items", "[", "]", "=>", "100%", "-->", "error[E0308]:"]
def line():
    n = rnd.randint(4, 16)
    ts = f"2026-11-26T00:{rnd.randint(0,59):02d}:{rnd.randint(0,59):02d}.{rnd.randint(0,999999):06d}Z"
    return ts + " " + " ".join(rnd.choice(words) for _ in range(n))
def planted():
    s = rnd.choice(secrets).encode()
    kind = rnd.randrange(6)
    pre = bytes(rnd.randrange(256) for _ in range(rnd.randrange(3)))
    if kind == 0: form = s.decode()
    elif kind == 1: form = base64.b64encode(pre + s + b"\n").decode()
    elif kind == 2: form = s.hex()
    elif kind == 3: form = urllib.parse.quote(s.decode(), safe="")
    elif kind == 4: form = json.dumps({"token": s.decode()})
    else: form = base64.b64encode(base64.b64encode(pre + s)).decode()
    return f"{line()} secret={form} done"
out = []
size = 0
while size < 64 * 1024 * 1024:
    l = planted() if rnd.random() < 0.002 else line()
    out.append(l)
    size += len(l) + 1
with open(f"{work}/chunk.log", "w") as f:
    f.write("\n".join(out) + "\n")
EOF

: > "$WORK/build.log"
while [ "$(stat -c %s "$WORK/build.log")" -lt $((SIZE_MB * 1024 * 1024)) ]; do
  cat "$WORK/chunk.log" >> "$WORK/build.log"
done
BYTES=$(stat -c %s "$WORK/build.log")
head -c $((64 * 1024 * 1024)) "$WORK/build.log" > "$WORK/slice.log"
SLICE=$(stat -c %s "$WORK/slice.log")

# sed with one expression per value (values escaped for a basic regex).
python3 - "$WORK" <<'EOF'
import re, sys
work = sys.argv[1]
with open(f"{work}/sed.txt", "w") as f:
    for v in open(f"{work}/values.txt").read().split():
        esc = re.sub(r'([\\/.*\[\]^$])', r'\\\1', v)
        f.write(f"s/{esc}/***/g\n")
EOF

# Correctness first: no planted raw value survives.
"$BIN" mask --values-file "$WORK/values.txt" < "$WORK/slice.log" > "$WORK/masked.log"
if grep -F -f "$WORK/values.txt" "$WORK/masked.log" >/dev/null; then
  echo "FAIL: a raw value survived masking" >&2; exit 1
fi
echo "masked $(grep -c '\*\*\*' "$WORK/masked.log") lines of $(wc -l < "$WORK/slice.log") in the 64 MiB slice"

run() { # name, bytes, command
  hyperfine --runs "$RUNS" --warmup 1 --export-json "$WORK/$1.json" --style none "$3" >/dev/null
  python3 - "$WORK/$1.json" "$2" "$1" <<'EOF'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"][0]
med = statistics.median(r["times"]); size = int(sys.argv[2])
cpu = r["user"] + r["system"]
print(f"{sys.argv[3]:<30} wall median {med:7.3f} s {size / med / 1e6:7.1f} MB/s | cpu mean {cpu:6.2f} s {size / cpu / 1e6:7.1f} MB/s per cpu-second  (runs: {', '.join(f'{t:.2f}' for t in r['times'])})")
EOF
}

echo "input: $((BYTES / 1024 / 1024)) MiB, 50 secrets, $RUNS runs each"
run cat "$BYTES" "cat $WORK/build.log > /dev/null"
run mask-values-only "$BYTES" "$BIN mask --no-rules --values-file $WORK/values.txt < $WORK/build.log > /dev/null"
run mask-values-and-rules "$BYTES" "$BIN mask --values-file $WORK/values.txt < $WORK/build.log > /dev/null"
run "sed-50-expressions (64 MiB)" "$SLICE" "LC_ALL=C sed -f $WORK/sed.txt < $WORK/slice.log > /dev/null"
