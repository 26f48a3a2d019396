#!/usr/bin/env bash
# Builds Vidi.app and a .dmg on macOS (Apple silicon, macOS 14 or later: torch 2.14 and PySide6 6.12 ship macOS wheels
# only for arm64 and macOS 14+). One flavour: torch's macOS wheel runs on the CPU and the Apple GPU (MPS); no CUDA.
#
#   packaging/macos/build_dmg.sh [--venv DIR] [--skip-pyinstaller]
#
# Environment:
#   VIDI_CODESIGN_IDENTITY   "Developer ID Application: NAME (TEAMID)" to sign with the hardened runtime and
#                            packaging/macos/vidi.entitlements; unset: ad-hoc signature (runs on the build Mac only
#                            after Gatekeeper's "Open anyway").
#   VIDI_NOTARY_PROFILE      a `xcrun notarytool store-credentials` profile: the .dmg is notarized and stapled.
#
# Results: build/macos/dist/Vidi.app and dist/vidi-VERSION-macos-arm64.dmg (Vidi.app + a link to /Applications).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=""
RUN_PYINSTALLER=1
while [ $# -gt 0 ]; do
    case "$1" in
        --venv) VENV="$2"; shift 2 ;;
        --skip-pyinstaller) RUN_PYINSTALLER=0; shift ;;
        -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "build_dmg.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[ "$(uname -s)" = Darwin ] || { echo "build_dmg.sh: run this on macOS" >&2; exit 2; }

VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' core_model/__init__.py)
BUILD=build/macos
APP="$BUILD/dist/Vidi.app"
DMG="dist/vidi-$VERSION-macos-$(uname -m).dmg"
mkdir -p "$BUILD" dist

# ---- build environment: PyPI's macOS torch (CPU + MPS); decord has no macOS arm64 wheel (PyAV decodes instead) ----
if [ -z "$VENV" ]; then
    VENV="$BUILD/venv"
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV"
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" - <<'PY' > "$BUILD/requirements.txt"
import tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
print("\n".join(d for d in deps if not d.lower().startswith("decord")))
PY
        "$VENV/bin/python" -m pip install -q -r "$BUILD/requirements.txt" pyinstaller -c "$ROOT/packaging/requirements.lock"
        "$VENV/bin/python" -m pip install -q --no-deps "$ROOT" -c "$ROOT/packaging/requirements.lock"
    fi
fi
PY="$VENV/bin/python"
"$PY" -c "import PyInstaller" 2>/dev/null || "$PY" -m pip install -q pyinstaller -c "$ROOT/packaging/requirements.lock"

# ---- Vidi.app ------------------------------------------------------------------------------------------------
"$PY" packaging/pyinstaller/make_icons.py build/icons
if [ "$RUN_PYINSTALLER" = 1 ]; then
    started=$SECONDS
    VIDI_FLAVOUR=cpu VIDI_ICON_DIR="$ROOT/build/icons" "$PY" -m PyInstaller --noconfirm --log-level WARN \
        --distpath "$BUILD/dist" --workpath "$BUILD/work" packaging/pyinstaller/vidi.spec
    echo "build_dmg.sh: PyInstaller took $((SECONDS - started)) s"
fi
"$APP/Contents/MacOS/vidi" --self-test
if [ -n "${VIDI_CODESIGN_IDENTITY:-}" ]; then
    codesign --verify --deep --strict --verbose=2 "$APP"
fi

# ---- .dmg: the app and a link to /Applications, compressed with LZMA (ULMO, macOS 10.15+) ----------------------
STAGE="$BUILD/dmg"
rm -rf "$STAGE" "$DMG"
mkdir -p "$STAGE"
ditto "$APP" "$STAGE/Vidi.app"
ln -s /Applications "$STAGE/Applications"
hdiutil create -volname "Vidi $VERSION" -srcfolder "$STAGE" -fs APFS -format ULMO -ov "$DMG"
rm -rf "$STAGE"
if [ -n "${VIDI_CODESIGN_IDENTITY:-}" ]; then
    codesign --sign "$VIDI_CODESIGN_IDENTITY" --timestamp "$DMG"
fi
if [ -n "${VIDI_NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$DMG" --keychain-profile "$VIDI_NOTARY_PROFILE" --wait
    xcrun stapler staple "$DMG"
fi
echo "build_dmg.sh: app $(du -sh "$APP" | cut -f1), dmg $(du -h "$DMG" | cut -f1): $DMG"
