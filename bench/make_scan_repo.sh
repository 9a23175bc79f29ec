#!/usr/bin/env bash
# Builds the `pipeguard scan` benchmark repository: >= 10,000 real source
# files already on this machine (Python's standard library, crate sources
# from cargo's registry with their Cargo.lock files, CI workflows and
# Dockerfiles that ship inside those crates), committed to git in a few
# commits, plus a `feature` branch with a small pull-request-sized change:
# 6 files touched, one new vulnerable package, one new secret.
set -euo pipefail
OUT=${1:-/tmp/pipeguard-bench/scanrepo}
FILES=${FILES:-12000}
rm -rf "$OUT"; mkdir -p "$OUT"
cd "$OUT"
git init -q -b main
git config user.name bench; git config user.email bench@example.invalid; git config commit.gpgsign false
n=0
copy_tree() { # copy_tree SRC DEST: real files of the kinds the analyzers read
  local src=$1 dest=$2
  while IFS= read -r -d '' f; do
    rel=${f#"$src"/}
    mkdir -p "$dest/$(dirname "$rel")"
    cp "$f" "$dest/$rel"
    n=$((n + 1))
    if [ "$n" -ge "$FILES" ]; then return 0; fi
  done < <(find "$src" -type f \( -name '*.py' -o -name '*.rs' -o -name '*.js' -o -name '*.ts' -o -name '*.go' -o -name '*.java' \
      -o -name '*.toml' -o -name 'Cargo.lock' -o -name '*.yml' -o -name '*.yaml' -o -name 'Dockerfile*' -o -name '*.md' -o -name '*.json' \) \
      -size -2M -print0 2>/dev/null | sort -z)
  return 0
}
py=$(ls -d /usr/lib/python3.* 2>/dev/null | head -1)
copy_tree "$py" python
git add -A; git commit -q -m "python stdlib"
if [ "$n" -lt "$FILES" ]; then
  copy_tree "$(ls -d /root/.cargo/registry/src/*/ | head -1 | sed 's:/$::')" crates
fi
git add -A; git commit -q -m "vendored crates"
# A realistic top level: a workflow, a Dockerfile and a Python lockfile.
mkdir -p .github/workflows
cat > .github/workflows/ci.yml <<'YML'
name: ci
on: [push, pull_request]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1
        with:
          persist-credentials: false
      - run: python -m pytest
YML
printf 'FROM python:3.12-slim\nRUN useradd -u 10001 app\nUSER 10001\nCOPY . /app\n' > Dockerfile
printf 'requests==2.32.3\nurllib3==2.2.2\n' > requirements.txt
git add -A; git commit -q -m "ci, image, requirements"
echo "scan repo: $(git ls-files | wc -l) files, $(du -sm --exclude=.git . | cut -f1) MB in $OUT"

# The pull request: five small source edits, a new vulnerable package, a secret.
git checkout -q -b feature
i=0
for f in $(git ls-files 'python/*.py' | head -200 | awk 'NR % 40 == 1'); do
  printf '\n# reviewed in the benchmark PR %s\n' "$i" >> "$f"; i=$((i + 1))
done
printf 'requests==2.32.3\nurllib3==2.2.2\njinja2==3.1.3\n' > requirements.txt
mkdir -p app
head=Vq8bench   # the benchmark PR's synthetic password, assembled so this script does not hold it
secret="$head-Zr4Kd2N-mX7pLw"
printf 'def connect():\n    password = "%s"\n    return password\n' "$secret" > app/db.py
git add -A; git commit -q -m "feature"
echo "feature branch: $(git diff --name-only main | wc -l) files changed"
