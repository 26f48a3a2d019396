"""The window's side of an index build: starts the child process (workers/index_process.py), relays its messages
as Qt signals on the GUI thread, stops it on request and ends it when the window closes.

The pipe is polled by a GUI-thread timer rather than read by a thread: messages are small and few (a progress
report at most every 0.2 s), and no thread means nothing to join at close.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle

from PySide6.QtCore import QObject, QTimer, Signal

from core_model.errors import from_wire, user_message
from desktop_app.workers.index_process import IndexOutcome, index_child_main

log = logging.getLogger(__name__)

POLL_MS = 50
STOP_GRACE_S = 1.5
"""At close, how long a stopping build may take to commit its last step before it is killed."""


class IndexJob(QObject):
    """At most one build at a time. ``progress(IndexProgress)``, then one of ``finished(IndexOutcome)`` or
    ``failed(message)``; ``running_changed(bool)`` around it."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(str)
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._context = multiprocessing.get_context("spawn")
        self._process = None
        self._conn = None
        self._stop_event = None
        self.video: str | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def is_running(self) -> bool:
        return self._process is not None

    def start(self, video: str, db_path: str, chapter_model: str | None = None, asr_model: str | None = None) -> bool:
        """Start building ``video``'s index; False when a build is already running."""
        if self._process is not None:
            return False
        parent_conn, child_conn = self._context.Pipe(duplex=False)
        self._stop_event = self._context.Event()
        self._process = self._context.Process(
            target=index_child_main, name="vidi-index", daemon=True,
            args=(child_conn, self._stop_event, str(video), str(db_path), chapter_model, asr_model),
        )
        self._process.start()
        child_conn.close()
        self._conn, self.video = parent_conn, str(video)
        self._timer.start()
        self.running_changed.emit(True)
        return True

    def stop(self) -> None:
        """Ask the build to stop after its current step; what it built is kept (``finished`` says stopped)."""
        if self._stop_event is not None:
            self._stop_event.set()

    def shutdown(self, grace_s: float = STOP_GRACE_S) -> None:
        """The window closes: stop the build, give it ``grace_s`` to commit, then kill it. Emits nothing."""
        process = self._process
        if process is None:
            return
        self._timer.stop()
        self.stop()
        process.join(grace_s)
        if process.is_alive():
            process.kill()
            process.join(1.0)
        self._clear()

    # ---- messages -----------------------------------------------------------------------------------------
    def _poll(self) -> None:
        conn, process = self._conn, self._process
        if conn is None or process is None:
            return
        try:
            while conn.poll():
                kind, payload = conn.recv()
                if kind == "progress":
                    self.progress.emit(payload)
                elif kind == "done":
                    self._end(lambda: self.finished.emit(payload if isinstance(payload, IndexOutcome)
                                                         else IndexOutcome()))
                    return
                elif kind == "error":
                    message = user_message(from_wire(payload))
                    self._end(lambda: self.failed.emit(message))
                    return
        except (EOFError, OSError, pickle.UnpicklingError):
            pass  # the child is gone (perhaps in the middle of a message): said below
        if not process.is_alive():
            code = process.exitcode
            log.warning("the index process ended without a result (exit code %s)", code)
            self._end(lambda: self.failed.emit(
                f"The indexing process ended unexpectedly (exit code {code}); what it built is kept: "
                "index again to go on."))

    def _end(self, emit) -> None:
        process = self._process
        self._timer.stop()
        if process is not None:
            process.join(2.0)
        self._clear()
        emit()
        self.running_changed.emit(False)

    def _clear(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = self._stop_event = None
