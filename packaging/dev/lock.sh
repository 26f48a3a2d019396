#!/usr/bin/env bash
# Refreshes packaging/requirements.lock, the one list of exact versions that the dev set-up (packaging/dev/setup.sh,
# hence CI), and the installer builds (packaging/linux/build.sh, packaging/windows/build.ps1,
# packaging/macos/build_dmg.sh) install with. Run it ON PURPOSE, after changing a dependency in pyproject.toml
# or to take newer releases; nothing runs it automatically. Then run the tests and commit the lock.
#
#   bash packaging/dev/lock.sh             # add what pyproject.toml newly needs; keep every other pin as it is
#   bash packaging/dev/lock.sh --upgrade   # re-resolve everything to the newest releases pyproject.toml allows
#
# It resolves pyproject.toml's dependencies with the test and packaging extras, for every OS (uv's --universal:
# one file with markers, e.g. the nvidia-* CUDA wheels only on Linux, decord not on macOS), with uv
# (installed into .venv when it is not on PATH).
set -euo pipefail
cd "$(dirname "$0")/../.."
LOCK=packaging/requirements.lock
UV="$(command -v uv || true)"
if [ -z "$UV" ]; then
    [ -x .venv/bin/uv ] || .venv/bin/python -m pip install -q uv
    UV=.venv/bin/uv
fi
UV_PYTHON_DOWNLOADS=never "$UV" pip compile pyproject.toml --extra test --extra packaging --universal \
    --python-version 3.11 --no-header --annotation-style line "$@" -o "$LOCK" >/dev/null
{
    echo "# The exact versions Vidi is installed and tested with, on every OS (markers say where a line applies)."
    echo "# Used as pip constraints by packaging/dev/setup.sh and the installer builds. Do not edit by hand:"
    echo "# refresh it on purpose with 'bash packaging/dev/lock.sh [--upgrade]' (it says how it was made)."
    grep -v '^#' "$LOCK"
} > "$LOCK.tmp"
mv "$LOCK.tmp" "$LOCK"
echo "lock.sh: $(grep -c '==' "$LOCK") pins in $LOCK"
