"""Fault injection at named phases of an answer, so tests can reach every phase through the real child process.

A backend calls ``failpoint(phase)`` as it enters each phase of an answer ("decoding", "processor", "encoders",
"generation"). Normally that does nothing. With ``$VIDI_FAILPOINTS`` set (tests only), a phase can be slowed down,
made to raise, or made to kill the process, which is how the contract tests show that Stop works in every phase,
that an exception in any phase leaves the backend usable, and that a killed model process is reported::

    VIDI_FAILPOINTS="decoding=sleep:2"            # sleep 2 s when decoding starts (cancel lands mid-phase)
    VIDI_FAILPOINTS="processor=raise:ValueError"  # raise ValueError("failpoint processor") there
    VIDI_FAILPOINTS="generation=kill"             # SIGKILL this process there
    VIDI_FAILPOINTS="processor=raise:MemoryError,decoding=sleep:0.5"
    VIDI_FAILPOINTS="@/tmp/points.txt"           # read that file at each phase (a test rewrites it between
                                                 # questions to steer a child process that is already running)

The sleep polls ``should_stop`` so a cancel ends it at once, as real decoding would.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Callable

FAILPOINTS_ENV = "VIDI_FAILPOINTS"
PHASES = ("decoding", "processor", "encoders", "generation")


def _parse(text: str) -> dict[str, str]:
    points = {}
    for item in text.split(","):
        phase, _, action = item.strip().partition("=")
        if phase and action:
            points[phase.strip()] = action.strip()
    return points


def failpoint(phase: str, should_stop: Callable[[], bool] = lambda: False) -> None:
    """Run the action set for ``phase`` in ``$VIDI_FAILPOINTS``, if any (see the module docstring)."""
    text = os.environ.get(FAILPOINTS_ENV)
    if not text:
        return
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            return
    action = _parse(text).get(phase)
    if action is None:
        return
    kind, _, argument = action.partition(":")
    if kind == "sleep":
        deadline = time.monotonic() + float(argument or 1.0)
        while time.monotonic() < deadline and not should_stop():
            time.sleep(0.01)
    elif kind == "raise":
        import builtins

        exc_type = getattr(builtins, argument or "RuntimeError", RuntimeError)
        raise exc_type(f"failpoint {phase}")
    elif kind == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
