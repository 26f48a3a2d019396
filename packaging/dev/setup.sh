#!/usr/bin/env bash
# Sets up what Vidi needs, from a fresh clone: the Debian packages (installed when run as root or with sudo),
# then a virtual environment in .venv with Vidi and its test tools installed, at the exact versions of
# packaging/requirements.lock (refreshed on purpose with packaging/dev/lock.sh). Safe to run again: a step whose
# result is already there is skipped; a changed pyproject.toml or lock installs again.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Why each Debian package (see README):
#   libpulse0                          QtMultimedia refuses to load without it
#   libportaudio2                      sounddevice (microphone recording)
#   libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0   Qt's xcb platform (a real window)
#   libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0            Qt itself
#   xvfb                               real-window tests and screenshots without a screen
#   ffmpeg                             the tests make their media with it (Vidi itself never calls it)
#   espeak-ng                          speech for the index's speech-recognition tests (skipped without it)
#   python3-venv                       the virtual environment
DEB_PACKAGES="libpulse0 libportaudio2 libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 \
libegl1 libgl1 libfontconfig1 libdbus-1-3 libglib2.0-0 xvfb ffmpeg espeak-ng python3-venv"

missing=""
for package in $DEB_PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo="none"; fi
    if [ "$sudo" = none ]; then
        echo "vidi setup: please install these Debian packages first:$missing" >&2
        exit 1
    fi
    echo "vidi setup: installing Debian packages:$missing"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "vidi setup: creating .venv"
    "$PYTHON" -m venv .venv
fi
LOCK=packaging/requirements.lock
stamp=".venv/.vidi-installed"
want="$(cat pyproject.toml "$LOCK" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "vidi setup: installing Vidi and its dependencies into .venv (first time: several minutes)"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[test]" -c "$LOCK"
    echo "$want" > "$stamp"
fi
