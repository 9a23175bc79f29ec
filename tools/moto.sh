#!/usr/bin/env bash
# Installs moto's server mode (a local AWS API: STS, Secrets Manager, …) into a
# venv for the `cloud` feature's end-to-end test, and prints the path of its
# `moto_server`. Idempotent: a venv that already has the pinned version is kept.
#
#   MOTO_VENV   where the venv lives (default: target/moto-venv in the repo)
#   PYTHON      the interpreter that creates it (default: python3)
#
# Usage: MOTO_SERVER=$(tools/moto.sh) cargo test -p pipeguard --features cloud --test cloud
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned so that a new moto release cannot change what the test talks to.
MOTO_VERSION=5.2.5
VENV=${MOTO_VENV:-$PWD/target/moto-venv}
PY=${PYTHON:-python3}

if [ -x "$VENV/bin/moto_server" ] &&
   [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" = "$MOTO_VERSION" ]; then
  echo "$VENV/bin/moto_server"
  exit 0
fi

if ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
  # Debian's python3 ships venv/ensurepip separately.
  echo "moto.sh: installing python3-venv" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
fi

echo "moto.sh: creating $VENV with moto[server]==$MOTO_VERSION" >&2
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
"$PY" -m venv "$VENV" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
test -x "$VENV/bin/moto_server"
echo "$VENV/bin/moto_server"
