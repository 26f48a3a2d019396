"""Indexes the library's new videos in a child process ("spawn"), so the window never imports torch nor freezes.

Same protocol as workers/index_process.py (one Pipe, child -> parent): ``("progress", QueueProgress)`` while it
works, then exactly one ``("done", IndexOutcome)`` (``built``: the videos indexed, ``skipped``: the videos that
failed, each with its note; ``stopped``) or ``("error", core_model.errors.to_wire)``. Setting ``stop_event``
pauses the queue after the step under way; starting again goes on there. No Qt is imported here.
"""

from __future__ import annotations

import signal

from desktop_app.workers.index_process import IndexOutcome, _send, quiet_libraries


def library_child_main(conn, stop_event, db_path: str, chapter_model: str | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the window's to handle
    from core_model.errors import to_wire

    try:
        with quiet_libraries():  # no transformers advice nor "Loading weights" bars on the terminal, per video
            outcome = _index(conn, stop_event, db_path, chapter_model)
    except BaseException as exc:  # noqa: BLE001  (reported to the window as one line)
        _send(conn, ("error", to_wire(exc)))
    else:
        _send(conn, ("done", outcome))


def _index(conn, stop_event, db_path: str, chapter_model: str | None) -> IndexOutcome:
    from core_model.library.library_store import LibraryStore
    from core_model.library.queue import index_library
    from core_model.library.scan import scan_library
    from core_model.store.index_store import IndexStore

    with LibraryStore(db_path) as library, IndexStore(db_path) as index:
        scan_library(library)
        report = index_library(library, index, progress=lambda p: _send(conn, ("progress", p)),
                               should_stop=stop_event.is_set, chapter_model=chapter_model or None)
    return IndexOutcome(built=tuple(str(p) for p in report.indexed),
                        skipped={str(p): note for p, note in report.failed.items()}, stopped=report.stopped)
