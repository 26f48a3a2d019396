"""The real window on Xvfb (xcb, a native video surface), where offscreen tests cannot see: the first frame of a newly
opened file on screen before play, and every label whole at 900x600. Skipped where Xvfb is not installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.desktop_app.conftest import _make_video

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def x_display():
    """A private Xvfb server (it picks a free display number itself); yields ":N"."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1440x900x24", "-nolisten", "tcp"],
                              pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    try:
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(5)


def _is(rgb, colour: str) -> bool:
    r, g, b = rgb
    return {"red": r > 180 and g < 80 and b < 80, "blue": b > 180 and r < 80 and g < 80}[colour]


def test_the_real_window_shows_the_new_first_frame_and_fits_at_900x600(x_display, tmp_path):
    red = _make_video(tmp_path / "red.mp4", duration_s=2.0, sound=False, picture="color=c=red")
    blue = _make_video(tmp_path / "blue.mp4", duration_s=2.0, picture="color=c=blue")
    env = dict(os.environ, DISPLAY=x_display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "tests.desktop_app.real_window_check", str(red), str(blue),
                             str(tmp_path / "out")], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert _is(report["red_first_frame_rgb"], "red"), report
    assert _is(report["blue_after_switch_rgb"], "blue"), report  # was black until play
    assert not report["playing"]
    assert report["size"] == [900, 600]
    assert report["cut"] == [], report["cut"]
    assert report["message_fits"]
    assert _is(report["blue_after_resize_rgb"], "blue"), report  # the paused picture is redrawn at the new size
    assert report["device_label"] == "CPU · bfloat16"
