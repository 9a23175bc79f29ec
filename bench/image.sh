#!/usr/bin/env bash
# Image analysis benchmark: builds a real OCI image (umoci) of >= 100 MB from
# files already on the machine (a Debian-like rootfs: Python's stdlib, shared
# libraries, docs, a dpkg status), then times `pipeguard image` on it (median
# of RUNS) with its peak memory. trivy can read the same layout for secrets
# (its vulnerability DB is unreachable here), so it is timed too.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
W=/tmp/pipeguard-bench/image
rm -rf "$W"; mkdir -p "$W"
L=$W/layout
umoci init --layout "$L"
umoci new --image "$L:base"
umoci unpack --image "$L:base" "$W/b"
R=$W/b/rootfs
mkdir -p "$R/usr/lib" "$R/usr/share" "$R/var/lib/dpkg" "$R/etc" "$R/bin"
cp -a /usr/lib/python3.11 "$R/usr/lib/" 2>/dev/null || cp -a /usr/lib/python3* "$R/usr/lib/"
[ "${BIG:-0}" = 1 ] && cp -a /usr/lib/x86_64-linux-gnu "$R/usr/lib/"
cp -a /usr/share/doc "$R/usr/share/"
cp /var/lib/dpkg/status "$R/var/lib/dpkg/status"
cp /etc/os-release "$R/etc/os-release"
cp /bin/dash "$R/bin/sh"
umoci repack --image "$L:v1" "$W/b"
du -sh "$L" "$R"
# PG=path/to/pipeguard compares another build (e.g. before/after a change).
if [ -z "${PG:-}" ]; then
  cargo build --release --locked -p pipeguard >/dev/null 2>&1
  PG=$PWD/target/release/pipeguard
fi
DB=${DB:-/tmp/pipeguard-bench/deps-work/db}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
: > "$W/times"
for _ in $(seq "$RUNS"); do
  s=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$W/mem" "$PG" image "oci:$L:v1" --db "$DB" -f json -o "$W/report.json" --no-progress || true
  e=$(date +%s.%N); echo "$e - $s" | bc >> "$W/times"
done
python3 - "$W/report.json" "$(median < "$W/times")" "$(tail -1 "$W/mem")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); s = r["summary"]
print(f"pipeguard image: median {float(sys.argv[2]):.2f} s, peak {int(sys.argv[3]) // 1024} MB, {s['files_scanned']} files, {s['bytes_scanned'] / 1e6:.0f} MB read, {s.get('packages_scanned')} OS packages, {len(r['findings'])} findings")
PY
if command -v /opt/peers/bin/trivy >/dev/null; then
  : > "$W/trivy.times"
  for _ in $(seq "$RUNS"); do
    s=$(date +%s.%N)
    /opt/peers/bin/trivy image --cache-backend memory --input "$L:v1" --scanners secret --skip-db-update --skip-check-update --skip-version-check --disable-telemetry --offline-scan -f json -o "$W/trivy.json" >/dev/null 2>&1 || true
    e=$(date +%s.%N); echo "$e - $s" | bc >> "$W/trivy.times"
  done
  echo "trivy image --scanners secret: median $(median < "$W/trivy.times") s"
fi
