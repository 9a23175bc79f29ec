#!/usr/bin/env bash
# Builds the secrets benchmark corpus: >= 600 MB of real source and text files
# already on this machine (Python installs, the Rust toolchain's sources,
# cargo's crate sources, C headers), copied into one directory so that every
# tool scans exactly the same bytes. Not a git repository, no .gitignore.
# Paths are flattened to d<N>/<n>-<basename>: peers skip whole trees by path
# (gitleaks ignores anything under site-packages/ or a dot-directory), and the
# comparison must be over the same bytes.
set -euo pipefail
OUT=${1:-/tmp/pipeguard-bench/corpus}
TARGET_MB=${TARGET_MB:-600}
rm -rf "$OUT"; mkdir -p "$OUT"
roots=(/root/.pyenv /opt/peers /root/.rustup /root/.cargo/registry/src /usr/include /usr/lib/python3 /usr/share/doc)
exts='py|pyi|rs|c|h|cc|cpp|hpp|js|mjs|ts|go|java|rb|sh|json|yaml|yml|toml|md|txt|html|css|cfg|ini|xml'
total=0
limit=$((TARGET_MB * 1000 * 1000))
n=0
for r in "${roots[@]}"; do
  [ -d "$r" ] || continue
  while IFS= read -r -d '' f; do
    size=$(stat -c %s "$f")
    [ "$size" -gt 0 ] && [ "$size" -le 5000000 ] || continue
    d="$OUT/d$((n / 500))"
    [ -d "$d" ] || mkdir -p "$d"
    cp "$f" "$d/$n-$(basename "$f")"
    total=$((total + size)); n=$((n + 1))
    [ "$total" -ge "$limit" ] && break 2
  done < <(find "$r" -type f -regextype posix-extended -iregex ".*\.($exts)$" -print0 2>/dev/null)
done
echo "corpus: $n files, $((total / 1000000)) MB in $OUT"
