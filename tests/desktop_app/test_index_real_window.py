"""The window's index on a real X server (Xvfb, xcb): indexed through the Index action, the transcript tab with the
line being said, chapter titles on the timeline, the build's progress with an ETA, and nothing cut at 900x600.
Skipped where Xvfb is not installed. Screenshots stay in the test's tmp folder (out/index-*.png)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.desktop_app.test_real_window import ROOT, x_display  # noqa: F401  (the Xvfb fixture)


def test_the_real_window_shows_the_index_and_its_build(x_display, tmp_path):  # noqa: F811
    env = dict(os.environ, DISPLAY=x_display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "tests.desktop_app.index_window_check", str(tmp_path / "out")],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["after_build"] == "Indexed: transcript, scenes", report
    assert report["state"] == "Indexed: transcript, scenes, chapters"
    assert report["current_line"] == "0:42   Grandma gives her speech about our first visit here."
    assert report["size"] == [900, 600]
    assert report["matches"] == "2 of 12 lines match"
    assert report["cut"] == [] and report["cut_while_building"] == [], report
    assert report["progress"].startswith("Indexing scenes (2/5)") and "ETA" in report["progress"]
    assert report["after_stop"].startswith("Indexed: transcript")  # and the scenes found before the stop, if any
    assert report["cut_after_stop"] == [], report["cut_after_stop"]
    for name in ("index-1440x900.png", "index-900x600.png", "index-building-900x600.png"):
        assert (tmp_path / "out" / name).stat().st_size > 10_000
