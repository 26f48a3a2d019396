"""The built Linux app, as a user runs it: packaging/linux/smoke_test.sh (self-test with a tiny model, `vidi ask`,
and the GUI on Xvfb answering a question typed with xdotool, then quitting cleanly).

Slow: it needs an app folder built by packaging/linux/build.sh (about 15 minutes and 10 GB on this machine). It uses
build/linux-{cuda,cpu}/dist/vidi when one exists; with VIDI_BUILD_INSTALLER=1 it builds one first (from .venv, no
.tar.gz/.deb); otherwise it is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_built_linux_app_answers_and_quits_cleanly():
    for tool in ("Xvfb", "xdotool", "ffmpeg"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is needed")
    apps = [ROOT / f"build/linux-{flavour}/dist/vidi" for flavour in ("cuda", "cpu")]
    app = next((path for path in apps if (path / "vidi").is_file()), None)
    if app is None:
        if os.environ.get("VIDI_BUILD_INSTALLER") != "1":
            pytest.skip("no built app: run packaging/linux/build.sh, or set VIDI_BUILD_INSTALLER=1")
        subprocess.run(["bash", "packaging/linux/build.sh", "--venv", ".venv", "--no-tar", "--no-deb"], cwd=ROOT,
                       check=True)
        app = apps[0]
    result = subprocess.run(["bash", "packaging/linux/smoke_test.sh", str(app)], cwd=ROOT, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "smoke test passed" in result.stdout
