"""The window's terminal carries Vidi's own lines only: Qt Multimedia's (FFmpeg's stream dump of each video opened,
"No HW decoder found", a missing PipeWire) are kept off it unless VIDI_VERBOSE=1. The real app, in its own process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import core_model

REPO_ROOT = Path(core_model.__file__).resolve().parents[1]
FFMPEG_DUMP = "Input #0"


def _run_app(video: Path, tmp_path: Path, verbose: bool, seconds: float | None = None) -> tuple[str, float]:
    """Start `vidi VIDEO`, read its stderr until FFmpeg's dump shows (verbose) or ``seconds`` pass; then end it."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO_ROOT), HF_HUB_OFFLINE="1",
               VIDI_DATA_DIR=str(tmp_path / f"data-{verbose}"), XDG_CONFIG_HOME=str(tmp_path / f"config-{verbose}"))
    env.pop("QT_LOGGING_RULES", None)
    env.pop("VIDI_VERBOSE", None)
    if verbose:
        env["VIDI_VERBOSE"] = "1"
    process = subprocess.Popen([sys.executable, "-m", "desktop_app.app", str(video)], cwd=REPO_ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    started = time.monotonic()
    deadline = started + (seconds if seconds is not None else 60.0)
    while time.monotonic() < deadline and process.poll() is None:
        if verbose and any(FFMPEG_DUMP in line for line in lines):
            break
        time.sleep(0.2)
    waited_s = time.monotonic() - started
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    reader.join(5)
    return "".join(lines), waited_s


def test_qt_multimedia_lines_stay_off_the_terminal_unless_verbose(gui_video, tmp_path):
    verbose, opened_after_s = _run_app(gui_video, tmp_path, verbose=True)
    assert FFMPEG_DUMP in verbose and "qt.multimedia" in verbose  # they are there to be hidden
    quiet, _ = _run_app(gui_video, tmp_path, verbose=False, seconds=opened_after_s + 3.0)
    assert FFMPEG_DUMP not in quiet and "qt.multimedia" not in quiet, quiet
