"""The PySide6 6.12 / Python 3.11 reference-count fix keeps long sessions alive."""

from __future__ import annotations

import subprocess
import sys

import pytest

from desktop_app import qt_compat

_MANY_VOID_CALLS = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
{prelude}
from PySide6.QtCore import QCoreApplication, QObject, Signal
app = QCoreApplication([])
class Emitter(QObject):
    fired = Signal(str)
emitter = Emitter()
emitter.fired.connect(lambda text: None)
for index in range(200_000):
    emitter.setObjectName("x")   # a void method: returns None
    emitter.fired.emit("piece")  # returns True
print("survived")
"""


@pytest.mark.skipif(not qt_compat.needs_fix(), reason="this PySide6/Python pair has no such bug")
def test_many_qt_calls_do_not_abort_the_interpreter():
    fixed = subprocess.run([sys.executable, "-c", _MANY_VOID_CALLS.format(prelude="import desktop_app")],
                           capture_output=True, text=True, timeout=120)
    assert fixed.returncode == 0 and "survived" in fixed.stdout, fixed.stderr[-1000:]
    unfixed = subprocess.run([sys.executable, "-c", _MANY_VOID_CALLS.format(prelude="")],
                             capture_output=True, text=True, timeout=120)
    assert unfixed.returncode != 0  # the bug is real: without the fix the interpreter aborts
