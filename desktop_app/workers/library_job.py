"""The window's side of the library's indexing queue: the child process of workers/library_process.py, driven as
IndexJob drives one video's build (same messages, polling, stop and shutdown)."""

from __future__ import annotations

from desktop_app.workers.index_job import IndexJob
from desktop_app.workers.library_process import library_child_main


class LibraryJob(IndexJob):
    """At most one queue at a time: ``progress(QueueProgress)``, then ``finished(IndexOutcome)`` or
    ``failed(message)``; ``running_changed(bool)`` around it."""

    def start_queue(self, db_path: str, chapter_model: str | None = None) -> bool:
        """Index the library's new videos; False when the queue already runs."""
        if self._process is not None:
            return False
        parent_conn, child_conn = self._context.Pipe(duplex=False)
        self._stop_event = self._context.Event()
        self._process = self._context.Process(target=library_child_main, name="vidi-library", daemon=True,
                                              args=(child_conn, self._stop_event, str(db_path), chapter_model))
        self._process.start()
        child_conn.close()
        self._conn, self.video = parent_conn, None
        self._timer.start()
        self.running_changed.emit(True)
        return True
