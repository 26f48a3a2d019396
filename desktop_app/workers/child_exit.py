"""How a child process ended, in words: the window's children (the model, the text embedder) name the signal that
killed one, since "killed by SIGKILL" usually means the system ran out of memory."""

from __future__ import annotations

import signal


def killing_signal(exitcode: int | None) -> str | None:
    """The name of the signal that ended a process with ``exitcode`` ("SIGKILL"); None when it exited itself."""
    if exitcode is None or exitcode >= 0:
        return None
    try:
        return signal.Signals(-exitcode).name
    except ValueError:
        return f"signal {-exitcode}"
