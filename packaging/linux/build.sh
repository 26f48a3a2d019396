#!/usr/bin/env bash
# Builds Vidi's Linux installers from this checkout: a one-folder app (PyInstaller), a .tar.gz of it with a .desktop
# file and icons, and a .deb (dpkg-deb). Two flavours from the same script:
#   --flavour cuda   torch with CUDA (PyPI's Linux wheels are CUDA builds); runs on an NVIDIA GPU or the CPU
#   --flavour cpu    torch from the PyTorch CPU wheel index; much smaller, CPU only
#
#   packaging/linux/build.sh [--flavour cpu|cuda] [--venv DIR] [--skip-pyinstaller] [--no-tar] [--no-deb]
#                            [--deb-compression gzip|xz|zstd] [--no-self-test]
#
# Without --venv it makes a fresh build environment in build/linux-FLAVOUR/venv (Vidi, its dependencies, PyInstaller,
# all at the versions of packaging/requirements.lock; for cpu, torch/torchvision/torchaudio from the PyTorch CPU
# index). With --venv
# it uses that environment as it is (e.g. --venv .venv, the dev set-up), after installing PyInstaller if missing.
#
# Results (VERSION from core_model/__init__.py, ARCH from uname -m):
#   build/linux-FLAVOUR/dist/vidi/                     the app folder (run ./vidi; ./vidi --self-test)
#   dist/vidi-VERSION-linux-ARCH-FLAVOUR.tar.gz        that folder + vidi.desktop + icons + install-desktop-entry.sh
#   dist/PACKAGE_VERSION_DEBARCH.deb                   PACKAGE is vidi (cpu) or vidi-cuda (cuda); installs to /opt/vidi
#   build/linux-FLAVOUR/sizes.txt                      sizes and build times
# Heavy steps run under `nice` (VIDI_BUILD_NICE, default 15). Needs: python3 with venv, dpkg-deb, tar, gzip (pigz
# is used when present).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

FLAVOUR=cuda
VENV=""
RUN_PYINSTALLER=1
MAKE_TAR=1
MAKE_DEB=1
SELF_TEST=1
DEB_COMPRESSION=gzip
NICE=(nice -n "${VIDI_BUILD_NICE:-15}")

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
while [ $# -gt 0 ]; do
    case "$1" in
        --flavour) FLAVOUR="$2"; shift 2 ;;
        --flavour=*) FLAVOUR="${1#*=}"; shift ;;
        --venv) VENV="$2"; shift 2 ;;
        --venv=*) VENV="${1#*=}"; shift ;;
        --skip-pyinstaller) RUN_PYINSTALLER=0; shift ;;
        --no-tar) MAKE_TAR=0; shift ;;
        --no-deb) MAKE_DEB=0; shift ;;
        --no-self-test) SELF_TEST=0; shift ;;
        --deb-compression) DEB_COMPRESSION="$2"; shift 2 ;;
        --deb-compression=*) DEB_COMPRESSION="${1#*=}"; shift ;;
        -h|--help) usage 0 ;;
        *) echo "build.sh: unknown argument '$1'" >&2; usage 2 ;;
    esac
done
case "$FLAVOUR" in cpu|cuda) ;; *) echo "build.sh: --flavour must be cpu or cuda" >&2; exit 2 ;; esac

VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' core_model/__init__.py)
ARCH=$(uname -m)
case "$ARCH" in x86_64) DEB_ARCH=amd64 ;; aarch64) DEB_ARCH=arm64 ;; *) DEB_ARCH=$ARCH ;; esac
BUILD="build/linux-$FLAVOUR"
APP="$BUILD/dist/vidi"
NAME="vidi-$VERSION-linux-$ARCH-$FLAVOUR"
PACKAGE=$([ "$FLAVOUR" = cuda ] && echo vidi-cuda || echo vidi)
OTHER_PACKAGE=$([ "$FLAVOUR" = cuda ] && echo vidi || echo vidi-cuda)
# Runtime Debian packages (the README's list, less what only development and tests need: xvfb, ffmpeg, python3-venv).
DEB_DEPENDS="libpulse0, libportaudio2, libxcb-icccm4, libxcb-keysyms1, libxcb-cursor0, libxkbcommon-x11-0, \
libegl1, libgl1, libfontconfig1, libdbus-1-3, libglib2.0-0"
LOCK="$ROOT/packaging/requirements.lock"  # the exact versions (packaging/dev/lock.sh refreshes it)
pin() { grep -o "\"$1==[^\"]*\"" pyproject.toml | tr -d '"'; }  # e.g. torch==2.14.1, from pyproject.toml

mkdir -p "$BUILD" dist
SIZES="$BUILD/sizes.txt"
log() { echo "build.sh: $*"; }
human() { numfmt --to=iec --suffix=B --format='%.1f' "$1"; }

# ---- 1. build environment ------------------------------------------------------------------------------------
if [ -z "$VENV" ]; then
    VENV="$BUILD/venv"
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating the build environment $VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        if [ "$FLAVOUR" = cpu ]; then
            log "installing $(pin torch) $(pin torchvision) $(pin torchaudio) from the PyTorch CPU index"
            "$VENV/bin/python" -m pip install -q "$(pin torch)" "$(pin torchvision)" "$(pin torchaudio)" \
                -c "$LOCK" --index-url https://download.pytorch.org/whl/cpu
        fi
        "$VENV/bin/python" -m pip install -q "$ROOT[packaging]" -c "$LOCK"
    fi
fi
PY="$VENV/bin/python"
if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    log "installing PyInstaller into $VENV"
    "$PY" -m pip install -q pyinstaller -c "$LOCK"
fi

# ---- 2. icons and the app folder -----------------------------------------------------------------------------
"$PY" packaging/pyinstaller/make_icons.py build/icons
if [ "$RUN_PYINSTALLER" = 1 ]; then
    log "PyInstaller ($FLAVOUR): $APP"
    started=$SECONDS
    VIDI_FLAVOUR="$FLAVOUR" VIDI_ICON_DIR="$ROOT/build/icons" "${NICE[@]}" "$PY" -m PyInstaller --noconfirm \
        --log-level WARN --distpath "$BUILD/dist" --workpath "$BUILD/work" packaging/pyinstaller/vidi.spec
    PYI_SECONDS=$((SECONDS - started))
    log "PyInstaller took ${PYI_SECONDS} s"
else
    PYI_SECONDS="(skipped)"
fi
[ -x "$APP/vidi" ] || { echo "build.sh: $APP/vidi is missing; run without --skip-pyinstaller" >&2; exit 1; }

if [ "$SELF_TEST" = 1 ]; then
    log "self-test of the built app"
    env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen "$APP/vidi" --self-test
fi

APP_BYTES=$(du -sb "$APP" | cut -f1)
{
    echo "Vidi $VERSION, Linux $ARCH, flavour $FLAVOUR, built $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "pyinstaller_seconds: $PYI_SECONDS"
    echo "app_folder: $(human "$APP_BYTES") ($APP_BYTES bytes, $(find "$APP" -type f | wc -l) files)"
} > "$SIZES"

# Copies of the app folder for packaging are hard links: no extra disk space.
stage_app() { rm -rf "$2"; mkdir -p "$(dirname "$2")"; cp -al "$1" "$2"; }

# ---- 3. .tar.gz --------------------------------------------------------------------------------------------
if [ "$MAKE_TAR" = 1 ]; then
    STAGE="$BUILD/stage/$NAME"
    stage_app "$APP" "$STAGE"
    cp packaging/linux/vidi.desktop packaging/linux/install-desktop-entry.sh "$STAGE/"
    mkdir -p "$STAGE/icons" && cp build/icons/vidi-*.png "$STAGE/icons/"
    cp packaging/linux/README-tarball.txt "$STAGE/README.txt"
    TARBALL="dist/$NAME.tar.gz"
    log "writing $TARBALL"
    started=$SECONDS
    if command -v pigz >/dev/null; then compress=(pigz -6); else compress=(gzip -6); fi
    tar -C "$BUILD/stage" --owner=0 --group=0 -cf - "$NAME" | "${NICE[@]}" "${compress[@]}" > "$TARBALL.part"
    mv "$TARBALL.part" "$TARBALL"
    rm -rf "$BUILD/stage"
    echo "tar_gz: $(human "$(stat -c %s "$TARBALL")") ($TARBALL, $((SECONDS - started)) s)" >> "$SIZES"
fi

# ---- 4. .deb -----------------------------------------------------------------------------------------------
if [ "$MAKE_DEB" = 1 ]; then
    DEB_ROOT="$BUILD/deb"
    rm -rf "$DEB_ROOT"
    stage_app "$APP" "$DEB_ROOT/opt/vidi"
    mkdir -p "$DEB_ROOT/usr/bin" "$DEB_ROOT/usr/share/applications" "$DEB_ROOT/DEBIAN"
    ln -s /opt/vidi/vidi "$DEB_ROOT/usr/bin/vidi"
    install -m 644 packaging/linux/vidi.desktop "$DEB_ROOT/usr/share/applications/vidi.desktop"
    for png in build/icons/vidi-*.png; do
        size=$(basename "$png" .png); size=${size#vidi-}
        install -D -m 644 "$png" "$DEB_ROOT/usr/share/icons/hicolor/${size}x${size}/apps/vidi.png"
    done
    FLAVOUR_TEXT=$([ "$FLAVOUR" = cuda ] && echo "NVIDIA CUDA build" || echo "CPU-only build")
    sed -e "s|@PACKAGE@|$PACKAGE|" -e "s|@VERSION@|$VERSION|" -e "s|@DEPENDS@|$DEB_DEPENDS|" \
        -e "s|@CONFLICTS@|$OTHER_PACKAGE|g" -e "s|@FLAVOUR_TEXT@|$FLAVOUR_TEXT|" \
        -e "s|@INSTALLED_SIZE_KB@|$(du -sk --exclude=DEBIAN "$DEB_ROOT" | cut -f1)|" \
        -e "s|^Architecture: .*|Architecture: $DEB_ARCH|" \
        packaging/linux/control.in > "$DEB_ROOT/DEBIAN/control"
    DEB="dist/${PACKAGE}_${VERSION}_${DEB_ARCH}.deb"
    log "writing $DEB ($DEB_COMPRESSION)"
    started=$SECONDS
    level=$([ "$DEB_COMPRESSION" = zstd ] && echo 9 || echo 6)
    "${NICE[@]}" dpkg-deb --root-owner-group -Z"$DEB_COMPRESSION" -z"$level" --build "$DEB_ROOT" "$DEB" >/dev/null
    rm -rf "$DEB_ROOT"
    echo "deb: $(human "$(stat -c %s "$DEB")") ($DEB, $DEB_COMPRESSION, $((SECONDS - started)) s)" >> "$SIZES"
fi

log "done:"
sed 's/^/  /' "$SIZES"
