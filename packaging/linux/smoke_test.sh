#!/usr/bin/env bash
# Smoke test of a built Linux Vidi (the PyInstaller folder that packaging/linux/build.sh makes), as a user would run it:
#   1. `vidi --self-test --model TINY`: Qt, multimedia, torch, media pipeline, model code, and an answer from the
#      real backend, offscreen;
#   2. `vidi ask VIDEO ... --json`: the frozen CLI answers about a segment;
#   3. the GUI on Xvfb: `vidi VIDEO --model TINY` opens its window; xdotool presses Ctrl+K, types a question and
#      Enter; the answer is read back from the app's chat database; a screenshot of the screen is saved; Ctrl+Q
#      quits, and the process must exit by itself with code 0.
# The video is made with ffmpeg, the model is the tiny random-weight Qwen2-VL of tests/fixtures/tiny_vlm.py (built
# with the dev environment .venv, which also reads the database and takes the screenshot). Nothing is downloaded.
#
#   packaging/linux/smoke_test.sh [APP_DIR]      (default: build/linux-cuda/dist/vidi, else build/linux-cpu/dist/vidi)
#   VIDI_EXE=.venv/bin/vidi packaging/linux/smoke_test.sh     the same checks on the development install
#
# Needs: Xvfb, xdotool, ffmpeg (Debian: xvfb xdotool ffmpeg) and .venv (packaging/dev/setup.sh). Output in
# build/smoke/ (screenshot.png, logs). Exit code 0 when every step passed.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
APP="${1:-}"
if [ -n "${VIDI_EXE:-}" ]; then  # e.g. VIDI_EXE=.venv/bin/vidi: the same checks on the dev install
    APP=$(dirname "$VIDI_EXE")
elif [ -z "$APP" ]; then
    for candidate in build/linux-cuda/dist/vidi build/linux-cpu/dist/vidi; do
        [ -x "$candidate/vidi" ] && { APP=$candidate; break; }
    done
fi
[ -n "$APP" ] && [ -x "$APP/vidi" ] || { echo "smoke: no built app (run packaging/linux/build.sh)" >&2; exit 2; }
APP=$(cd "$APP" && pwd)
VIDI="${VIDI_EXE:+$(cd "$(dirname "$VIDI_EXE")" && pwd)/$(basename "$VIDI_EXE")}"
VIDI="${VIDI:-$APP/vidi}"
PY="$ROOT/.venv/bin/python"
for tool in Xvfb xdotool ffmpeg "$PY"; do
    command -v "$tool" >/dev/null || { echo "smoke: $tool is missing" >&2; exit 2; }
done

WORK="$ROOT/build/smoke"
rm -rf "$WORK"
mkdir -p "$WORK/home" "$WORK/data"
say() { echo "smoke: $*"; }
fail() { echo "smoke: FAILED: $*" >&2; exit 1; }
QUESTION="What happens in this video?"

# A fresh user: no settings, no chats, no model cache of the developer's.
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/.config" XDG_DATA_HOME="$WORK/home/.local/share"
export XDG_CACHE_HOME="$WORK/home/.cache" VIDI_DATA_DIR="$WORK/data" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

say "app: $VIDI"
ffmpeg -v error -y -f lavfi -i "testsrc2=size=320x240:rate=25:duration=6" -f lavfi -i "sine=frequency=440:duration=6" \
    -c:v libx264 -pix_fmt yuv420p -g 25 -c:a aac -shortest "$WORK/clip.mp4"
(cd "$ROOT" && "$PY" -c "import sys; from tests.fixtures.tiny_vlm import build_tiny_vlm; build_tiny_vlm(sys.argv[1])" \
    "$WORK/tiny-vlm") >/dev/null 2>&1 || fail "building the tiny model"
say "made $WORK/clip.mp4 (6 s, 320x240, H.264 + AAC) and the tiny model $WORK/tiny-vlm"

# ---- 1. self-test with the model -------------------------------------------------------------------------------
if [ "${SMOKE_GUI_ONLY:-0}" != 1 ]; then  # SMOKE_GUI_ONLY=1: step 3 alone
say "1. vidi --self-test --model tiny-vlm --device cpu"
started=$SECONDS
env -u DISPLAY -u WAYLAND_DISPLAY QT_QPA_PLATFORM=offscreen \
    "$VIDI" --self-test --model "$WORK/tiny-vlm" --device cpu 2>"$WORK/self-test.err" | tee "$WORK/self-test.out" \
    || fail "self-test (stderr in $WORK/self-test.err)"
say "   self-test passed in $((SECONDS - started)) s"

# ---- 2. the command line ------------------------------------------------------------------------------------
say "2. vidi ask clip.mp4 --start 0:01 --end 0:04 --model tiny-vlm --frames 4 --json"
started=$SECONDS
"$VIDI" ask "$WORK/clip.mp4" "$QUESTION" --start 0:01 --end 0:04 --model "$WORK/tiny-vlm" --device cpu \
    --frames 4 --max-new-tokens 12 --json >"$WORK/ask.json" 2>"$WORK/ask.err" || fail "vidi ask (see $WORK/ask.err)"
"$PY" - "$WORK/ask.json" <<'PY' || fail "vidi ask printed no answer"
import json, sys
result = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
answer = result.get("answer", "")
assert answer.strip(), result
print(f"smoke:    answer {answer!r}; keys: {', '.join(sorted(result))}")
PY
say "   vidi ask took $((SECONDS - started)) s"
fi

# ---- 3. the GUI on Xvfb ------------------------------------------------------------------------------------
say "3. GUI: vidi clip.mp4 --model tiny-vlm --device cpu on Xvfb"
mkdir -p "$XDG_CONFIG_HOME/Vidi"
cat > "$XDG_CONFIG_HOME/Vidi/Vidi.conf" <<EOF
[model]
device=cpu
load-in-4bit=false
frames-per-segment=4
max-new-tokens=16
EOF
# Xvfb picks a free display itself (-displayfd): other Xvfb servers may run on this machine.
exec 9>"$WORK/xvfb.display"
Xvfb -displayfd 9 -screen 0 1400x900x24 -nolisten tcp >"$WORK/xvfb.log" 2>&1 &
XVFB_PID=$!
exec 9>&-
APP_PID=""
cleanup() {
    [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null || true
    kill "$XVFB_PID" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 100); do [ -s "$WORK/xvfb.display" ] && break; sleep 0.1; done
DISPLAY_NUM=$(head -1 "$WORK/xvfb.display")
[ -n "$DISPLAY_NUM" ] || fail "Xvfb did not start (see $WORK/xvfb.log)"
export DISPLAY=":$DISPLAY_NUM"
unset QT_QPA_PLATFORM WAYLAND_DISPLAY
export PYTHONFAULTHANDLER=1  # a hung or crashed app leaves its threads' Python stacks in gui.err

db_value() {  # db_value SQL: one number from the app's chat database, read-only (0 while it does not exist)
    "$PY" -c "import sqlite3, sys; print(sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True).execute(sys.argv[2]).fetchone()[0])" \
        "$VIDI_DATA_DIR/vidi.sqlite3" "$1" 2>/dev/null || echo 0
}
LAST_TURN=$(db_value "SELECT COALESCE(MAX(id), 0) FROM turns")
started=$SECONDS
"$VIDI" "$WORK/clip.mp4" --model "$WORK/tiny-vlm" --device cpu >"$WORK/gui.out" 2>"$WORK/gui.err" &
APP_PID=$!
find_window() { xdotool search --onlyvisible --pid "$APP_PID" --name 'Vidi' 2>/dev/null | head -1 || true; }
WID=""
for _ in $(seq 120); do WID=$(find_window); [ -n "$WID" ] && break; sleep 0.5; done
[ -n "$WID" ] || fail "no Vidi window within 60 s"
say "   window $WID '$(xdotool getwindowname "$WID")' on screen $((SECONDS - started)) s after start"
turns() { db_value "SELECT COUNT(*) FROM turns"; }
TURNS_BEFORE=$(turns)
for attempt in 1 2 3; do
    sleep 3  # the video opens and probes; Qt settles its windows
    WID=$(find_window)
    [ -n "$WID" ] || fail "the Vidi window went away (app stderr in $WORK/gui.err)"
    xdotool windowfocus --sync "$WID" 2>/dev/null || true
    xdotool key ctrl+k
    xdotool type --delay 20 "$QUESTION"
    xdotool key Return
    for _ in $(seq 20); do [ "$(turns)" -gt "$TURNS_BEFORE" ] && break 2; sleep 0.5; done
    say "   (the question did not arrive, attempt $attempt; typing again)"
    xdotool key ctrl+k ctrl+a BackSpace
done
[ "$(turns)" -gt "$TURNS_BEFORE" ] || fail "the typed question never reached the app"
say "   asked: $QUESTION"

ANSWER=$("$PY" - "$VIDI_DATA_DIR/vidi.sqlite3" "$LAST_TURN" <<'PY'
import sqlite3, sys, time
deadline = time.monotonic() + 180
while time.monotonic() < deadline:
    try:
        db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=1)
        row = db.execute("SELECT status, text, segment_start_s, segment_end_s FROM turns WHERE role='assistant' "
                         "AND status != 'pending' AND id > ? ORDER BY id DESC LIMIT 1", (int(sys.argv[2]),)).fetchone()
        db.close()
    except sqlite3.Error:
        row = None
    if row:
        status, text, start, end = row
        print(f"[{status}] segment {start}-{end} s: {text!r}")
        sys.exit(0 if status == "complete" and text.strip() else 1)
    time.sleep(0.5)
print("no answer in the chat database within 180 s")
sys.exit(1)
PY
) || { kill -ABRT "$APP_PID" 2>/dev/null; sleep 2; fail "GUI answer: $ANSWER (app stderr, with its threads' stacks, in $WORK/gui.err)"; }
say "   answered: $ANSWER"

QT_QPA_PLATFORM=xcb "$PY" - "$WORK/screenshot.png" <<'PY' || say "   (screenshot failed)"
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication([])
image = app.primaryScreen().grabWindow(0).toImage()
image.save(sys.argv[1])
print(f"smoke:    screenshot {sys.argv[1]} ({image.width()}x{image.height()})")
PY

WID=$(find_window)
[ -n "$WID" ] && xdotool windowfocus --sync "$WID" 2>/dev/null || true
xdotool key ctrl+q
quit_started=$SECONDS
for _ in $(seq 100); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$APP_PID" 2>/dev/null; then fail "the app did not exit within 10 s of Ctrl+Q"; fi
set +e; wait "$APP_PID"; CODE=$?; set -e
APP_PID=""
[ "$CODE" = 0 ] || fail "the app exited with code $CODE (stderr in $WORK/gui.err)"
say "   Ctrl+Q: exited with code 0 after $((SECONDS - quit_started)) s"
say "smoke test passed"
