"""IndexController: the open video's index for the window. Reads it from the database (SQLite reads, no model),
starts and stops its build in a child process (workers/index_job.py), and reports through signals: the state
line, the transcript, the chapters and the build's progress.

The window owns one; it never blocks the GUI thread for more than a database read of one video's rows.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal

from core_model.errors import VidiError, user_message
from desktop_app.index.index_text import index_state_details, index_state_text, outcome_text, progress_text
from desktop_app.workers.index_job import IndexJob

log = logging.getLogger(__name__)


class IndexController(QObject):
    state_changed = Signal(str, str)  # the status line ("Indexed: transcript, scenes"), its tooltip
    video_opened = Signal(str)  # path: a different video's index is shown from now on
    transcript_changed = Signal(list, bool)  # [Cue] of the open video, whether its transcript is built
    chapters_changed = Signal(list)  # [Chapter] of the open video
    progress_changed = Signal(str, int)  # text, percent of the part being built
    running_changed = Signal(bool)
    message = Signal(str, bool)  # a line for the status bar, is_error

    def __init__(self, db_path: Callable[[], Path], chapter_model: Callable[[], str | None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db_path, self._chapter_model = db_path, chapter_model
        self.video: str | None = None
        self.fingerprint: str | None = None
        self.parts: dict = {}
        self.cues: list = []
        self.chapters: list = []
        self.read_error = ""
        self._part_in_progress: str | None = None
        self.job = IndexJob(self)
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(self._on_failed)
        self.job.running_changed.connect(self.running_changed)

    def is_running(self) -> bool:
        return self.job.is_running()

    def has_index(self) -> bool:
        """The open video has some of its index built (what a whole-video question is planned from)."""
        return any(state.state != "missing" for state in self.parts.values())

    # ---- the open video -----------------------------------------------------------------------------------
    def open_video(self, path: str) -> None:
        """Show ``path``'s index (re-opening an indexed video costs a database read, no model work)."""
        from core_model.store.fingerprint import fingerprint_file

        self.video = str(path)
        self.video_opened.emit(self.video)
        try:
            self.fingerprint = fingerprint_file(path)
        except OSError as exc:
            self.fingerprint = None
            log.warning("cannot fingerprint %s: %s", path, exc)
        self.reload()

    def reload(self) -> None:
        """Read the open video's index again and emit it."""
        self.parts, self.cues, self.chapters = {}, [], []
        self.read_error = ""  # why the index cannot be read (a damaged database): nothing to offer building then
        if self.fingerprint is not None:
            try:
                from core_model.store.index_store import IndexStore

                with IndexStore(self._db_path()) as store:
                    self.parts = store.parts(self.fingerprint)
                    self.cues = store.cues(self.fingerprint)
                    self.chapters = store.chapters(self.fingerprint)
            except Exception as exc:  # noqa: BLE001  (a damaged database: the video still plays)
                log.warning("reading the index failed: %s", user_message(exc), exc_info=not isinstance(exc, VidiError))
                self.read_error = user_message(exc)
                self.state_changed.emit("Index unavailable", self.read_error)
                self.transcript_changed.emit([], False)
                self.chapters_changed.emit([])
                return
        built = self.has_index()
        notices = any(state.notice for state in self.parts.values())
        self.state_changed.emit(index_state_text(self.parts),
                                index_state_details(self.parts if built or notices else None))
        transcript = self.parts.get("transcript")
        self.transcript_changed.emit(list(self.cues), transcript is not None and transcript.done)
        self.chapters_changed.emit(list(self.chapters))

    # ---- building -----------------------------------------------------------------------------------------
    def start(self) -> bool:
        """Build (or complete) the open video's index; False, with a message saying why, when it cannot start."""
        if self.video is None:
            self.message.emit("Open a video to index it.", True)
            return False
        if self.job.is_running():
            same = self.job.video == self.video
            self.message.emit("This video is being indexed." if same else
                              f"{Path(self.job.video or '').name} is being indexed: stop it first.", not same)
            return False
        self._part_in_progress = None
        self.job.start(self.video, str(self._db_path()), chapter_model=self._chapter_model())
        self.progress_changed.emit(f"Indexing {Path(self.video).name}: starting…", 0)
        return True

    def stop(self) -> None:
        if self.job.is_running():
            self.job.stop()
            self.progress_changed.emit("Stopping: the step under way is being saved…", -1)

    def shutdown(self) -> None:
        """The window closes: the build stops (what it built is kept) or is killed after a short grace."""
        self.job.shutdown()

    def _on_progress(self, progress) -> None:
        if progress.part != self._part_in_progress:
            # a part ended: show what it built now (the transcript while the scenes are being found)
            self._part_in_progress = progress.part
            if self.job.video == self.video:
                self.reload()
        text = progress_text(progress)
        if self.job.video != self.video:  # the build goes on for a video that is no longer the open one
            text = f"{Path(self.job.video or '').name}: {text}"
        self.progress_changed.emit(text, round(progress.fraction * 100))

    def _on_finished(self, outcome) -> None:
        self.reload()
        self.message.emit(outcome_text(outcome), False)

    def _on_failed(self, message: str) -> None:
        self.reload()
        self.message.emit(f"Indexing failed: {message}", True)
