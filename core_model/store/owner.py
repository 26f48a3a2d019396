"""Which process writes a pending answer, and whether that process still runs.

A pending answer carries its writer's identity: the host name, the process id and the process's start time (the
start time tells a live writer apart from a new process that got the same pid after the writer died). When the
store is opened, answers still pending whose writer is gone are marked interrupted; answers of a writer that still
runs (the GUI streaming while a ``vidi ask`` opens the store) are left alone.

Liveness is asked of psutil (installed with accelerate, which every transformers backend needs); where it cannot
be imported, or the writer ran on another host (a data folder on a network share), nothing can be known and the
caller falls back to the answer's age.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class ProcessOwner:
    """A process as a pending answer records it. ``started``: its start time as text ("" when unknown)."""

    host: str
    pid: int
    started: str


def _psutil():
    try:
        import psutil
    except ImportError:
        return None
    return psutil


def _start_time(pid: int) -> str | None:
    """The process's start time (seconds since the epoch, as text); None when no such process runs; "" when it
    runs but its start time cannot be read (no psutil, or not ours to see)."""
    psutil = _psutil()
    if psutil is None:
        return ""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:  # dead, only not yet reaped by its parent
            return None
        return f"{process.create_time():.3f}"
    except psutil.NoSuchProcess:
        return None
    except psutil.Error:  # e.g. AccessDenied: it exists, its details are not ours to see
        return ""


@lru_cache(maxsize=1)
def _this_process(pid: int) -> ProcessOwner:
    return ProcessOwner(socket.gethostname(), pid, _start_time(pid) or "")


def this_process() -> ProcessOwner:
    """The owner to record for answers this process writes (recomputed after a fork: the pid is the key)."""
    return _this_process(os.getpid())


def is_alive(owner: ProcessOwner) -> bool | None:
    """True: the writer still runs; False: it is gone; None: cannot tell (another host, no psutil, no record)."""
    if not owner.pid or owner.host != socket.gethostname() or _psutil() is None:
        return None
    started = _start_time(owner.pid)
    if started is None:
        return False
    if started and owner.started and started != owner.started:
        return False  # the pid now belongs to a newer process: the writer is gone
    return True
