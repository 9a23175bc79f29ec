#!/usr/bin/env bash
# Builds every fuzz target of fuzz/ and runs each for SECONDS (default 60),
# one target at a time on one core, then prints per target: executions,
# crashes, corpus size and peak RSS.
#
#   tools/fuzz.sh [SECONDS]
#
# Needs a nightly toolchain and cargo-fuzz 0.13 (`cargo install --locked
# cargo-fuzz --version 0.13.2`). Seed corpora come from the test fixtures
# (copied into fuzz/corpus/, which is not committed) and fuzz/seeds/.
# A crash leaves its input in fuzz/artifacts/<target>/; once fixed, keep it
# in fuzz/regressions/<target>/ (replayed on stable by
# `cargo test --manifest-path fuzz/Cargo.toml --no-default-features`).
# Exit status: 1 if any target crashed.
set -euo pipefail

secs=${1:-60}
toolchain=${PIPEGUARD_FUZZ_TOOLCHAIN:-nightly}
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz=$root/fuzz
cd "$fuzz"

# The targets that read files put them in a private scratch directory;
# all of it goes when the run ends.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch

targets=$(cargo "+$toolchain" fuzz list)

echo "== building $(echo "$targets" | wc -w) targets"
start=$(date +%s)
cargo "+$toolchain" fuzz build --debug-assertions
echo "build took $(($(date +%s) - start)) s"
# The targets run from the binaries built above, not through `cargo fuzz
# run`, which would rebuild whenever a source file changed in the meantime.
bindir=$fuzz/target/$(rustc "+$toolchain" -vV | sed -n 's/^host: //p')/release

# seed TARGET PREFIX-BYTE FILE...: copies fixtures into the target's corpus,
# each prefixed with the selector byte the target reads first (if any).
seed() {
    local target=$1 prefix=$2
    shift 2
    mkdir -p "corpus/$target"
    for f in "$@"; do
        [ -f "$f" ] || continue
        local name
        name=$(printf '%s' "$prefix$f" | sha1sum | cut -c1-16)
        if [ -n "$prefix" ]; then
            { printf "\\x$prefix"; cat "$f"; } >"corpus/$target/$name"
        else
            cp "$f" "corpus/$target/$name"
        fi
    done
}

fx=$root/crates
deps=$fx/pipeguard-deps/tests/fixtures
locks=$fx/pipeguard-lockfile/tests/fixtures
# lockfile: the first byte picks the parser, in the order of pipeguard_lockfile::FORMATS.
i=0
for pattern in 'cargo/*/Cargo.lock' 'npm/*/package-lock.json' 'yarn/*/yarn.lock' \
    'pnpm/*/pnpm-lock.yaml' 'requirements/*.txt' 'poetry/*.lock' 'pipenv/Pipfile.lock' \
    'uv/uv.lock' 'go/go.mod' 'bundler/*.lock' 'composer/composer.lock' \
    'gradle/gradle.lockfile' 'maven/pom.xml' 'nuget/packages.lock.json'; do
    # shellcheck disable=SC2086 # the pattern is meant to glob
    seed lockfile "$(printf '%02x' $i)" $locks/$pattern
    i=$((i + 1))
done
seed ci_workflow 00 "$fx"/pipeguard-ci/tests/fixtures/*/*.yml
seed ci_workflow 01 "$fx"/pipeguard-ci/tests/fixtures/composite/*.yml
seed ci_workflow 02 "$fx"/pipeguard-ci/tests/fixtures/*/*gitlab-ci.yml
seed dockerfile '' "$fx"/pipeguard-container/tests/fixtures/*/*Dockerfile "$root/Dockerfile"
seed secrets_scan_bytes 00 "$fx"/pipeguard-ci/tests/fixtures/secrets-in-logs/*.yml \
    "$fx"/pipeguard-container/tests/fixtures/secret-in-env/*
seed policy '' "$root/pipeguard.toml"
# osv_record: a few records of each ecosystem's fixture dump.
mkdir -p corpus/osv_record
for zip in "$deps"/osv/*/all.zip; do
    python3 - "$zip" corpus/osv_record <<'PY'
import hashlib, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for name in z.namelist()[:20]:
        data = z.read(name)
        open(f"{sys.argv[2]}/{hashlib.sha1(data).hexdigest()[:16]}", "wb").write(data)
PY
done
for t in $targets; do
    mkdir -p "corpus/$t" "regressions/$t"
done

status=0
summary=()
for t in $targets; do
    echo "== $t (${secs} s)"
    log=$scratch/$t.log
    dirs=("corpus/$t")
    [ -d "seeds/$t" ] && dirs+=("seeds/$t")
    dirs+=("regressions/$t")
    rc=0
    touch "$scratch/start"
    mkdir -p "artifacts/$t"
    "$bindir/$t" -artifact_prefix="artifacts/$t/" \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 \
        -print_final_stats=1 "${dirs[@]}" >"$log" 2>&1 || rc=$?
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    crashes=$(find "artifacts/$t" -type f -newer "$scratch/start" \( -name "crash-*" -o -name "timeout-*" -o -name "oom-*" -o -name "leak-*" \) 2>/dev/null | wc -l)
    corpus=$(find "corpus/$t" -type f | wc -l)
    if [ "$rc" -ne 0 ]; then
        status=1
        echo "   FAILED (exit $rc); last lines of the log:"
        grep -E 'ERROR|panicked|SUMMARY|artifact_prefix|Test unit written' "$log" | head -n 8 | sed 's/^/   /'
    fi
    summary+=("$(printf '%-20s %12s %8s %8s %8s' "$t" "$execs" "$crashes" "$corpus" "$rss")")
done

echo
printf '%-20s %12s %8s %8s %8s\n' target executions crashes corpus rss_mb
printf '%s\n' "${summary[@]}"
exit $status
