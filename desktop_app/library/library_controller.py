"""The window's library: folders, the scan, search, and the indexing queue (a child process), as Qt signals.

The scan runs on a thread of its own: it reads only files whose size or mtime changed, but a folder of a thousand new
videos is a thousand 2-MiB reads. A search by words is one FTS5 query on the GUI thread (tens of milliseconds at 200k
lines, bench/library_bench.py), shown at once; the same search by words and look (the query through SigLIP, in the
text embedder's child process: seconds for its first load) then runs on a thread and replaces it, fused by rank.
Indexing runs in a child process
(workers/library_job.py) and pauses while a question is asked, so questions go first; it goes on afterwards.
A watcher on the folders rescans (debounced) when files appear, vanish or are renamed while the app runs.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from core_model.errors import VidiError, user_message
from desktop_app.workers.library_job import LibraryJob

log = logging.getLogger(__name__)

RESCAN_DELAY_MS = 1500
"""A copy into a folder changes it many times: rescan once it has been quiet this long."""


class LibraryController(QObject):
    folders_changed = Signal(list)  # [str] the folders' paths
    summary_changed = Signal(str)  # "12 videos: 10 indexed, 1 to index, 1 failed"
    to_index_changed = Signal(int)  # how many library videos are still to index (not searched yet)
    results_changed = Signal(str, list)  # query, [LibraryMoment]
    progress_changed = Signal(str, int)  # text, overall percent (-1: unknown)
    running_changed = Signal(bool)
    message = Signal(str, bool)  # a line for the status bar, is_error
    scanned = Signal()  # a scan ended and its outcome was emitted
    looking_changed = Signal(bool)  # the search by look of the last query is under way
    _scan_done = Signal(object)  # from the scan thread: (folders, files, ScanReport) or the error's message
    _looked = Signal(int, object)  # from the look thread: generation, [LibraryMoment] (None: failed)

    def __init__(self, db_path: Callable[[], Path], chapter_model: Callable[[], str | None],
                 parent: QObject | None = None, text_embedder=None) -> None:
        """``text_embedder``: a TextEmbedding for search by look (the window's child process); None: words only."""
        super().__init__(parent)
        self._db_path = db_path
        self._chapter_model = chapter_model
        self.text_embedder = text_embedder
        self._generation = 0  # of searches: a look search's results are shown only for the latest query
        self._look_thread: threading.Thread | None = None
        self._look_next: tuple | None = None  # (generation, query, filters, limit) waiting for the thread
        self._shown: list = []  # the results last emitted
        self._looked.connect(self._on_looked)
        self.job = LibraryJob(self)
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_finished)
        self.job.failed.connect(self._on_failed)
        self.job.running_changed.connect(self.running_changed)
        self._resume_after_question = False
        self._question_busy = False
        self._scan_thread: threading.Thread | None = None
        self._scan_again = False
        self._scan_done.connect(self._on_scanned)
        self.query = ""
        self.filters = None
        self.watcher = QFileSystemWatcher(self)
        self._rescan = QTimer(self)
        self._rescan.setSingleShot(True)
        self._rescan.setInterval(RESCAN_DELAY_MS)
        self._rescan.timeout.connect(self.refresh)
        self.watcher.directoryChanged.connect(lambda _path: self._rescan.start())

    def is_running(self) -> bool:
        return self.job.is_running()

    # ---- folders ------------------------------------------------------------------------------------------
    def add_folder(self, folder: str) -> bool:
        return self._change(lambda library: library.add_folder(folder), f"Added {folder} to the library.")

    def remove_folder(self, folder: str) -> bool:
        return self._change(lambda library: library.remove_folder(folder), f"Removed {folder} from the library.")

    def _change(self, action, done_text: str) -> bool:
        try:
            with self._library() as library:
                action(library)
        except Exception as exc:  # noqa: BLE001  (a UsageError or StoreError line; the window goes on)
            self.message.emit(user_message(exc), True)
            return False
        self.message.emit(done_text, False)
        self.refresh()
        return True

    def refresh(self) -> None:
        """Scan the folders (cheap) on the scan thread; then the folders, the summary and the last search's
        results are emitted again. A refresh asked during a scan runs once that scan ends."""
        if self._scan_thread is not None:
            self._scan_again = True
            return
        self._scan_thread = threading.Thread(target=self._scan, name="vidi-library-scan", daemon=True)
        self._scan_thread.start()

    def is_scanning(self) -> bool:
        return self._scan_thread is not None

    def _scan(self) -> None:
        """On the scan thread: its own connection (SQLite connections stay on their thread)."""
        from core_model.library.scan import scan_library

        try:
            with self._library() as library:
                report = scan_library(library)
                outcome: object = ([f.path for f in library.folders()], library.files(), report)
        except Exception as exc:  # noqa: BLE001
            log.warning("the library scan failed: %s", user_message(exc), exc_info=not isinstance(exc, VidiError))
            outcome = user_message(exc)
        self._scan_done.emit(outcome)

    def _on_scanned(self, outcome) -> None:
        if self._scan_thread is not None:
            self._scan_thread.join()
        self._scan_thread = None
        if isinstance(outcome, str):
            self.message.emit(f"The library could not be read: {outcome}", True)
        else:
            folders, files, report = outcome
            self._watch(folders)
            self.folders_changed.emit(folders)
            counts = {state: sum(f.state == state for f in files) for state in ("indexed", "new", "failed")}
            self.to_index_changed.emit(counts["new"])
            noun = "video" if len(files) == 1 else "videos"
            self.summary_changed.emit(f"{len(files)} {noun}: {counts['indexed']} indexed, {counts['new']} to index, "
                                      f"{counts['failed']} failed" if files else "No videos yet: add a folder.")
            if report.missing_folders:
                self.message.emit(f"Missing folder (unplugged?): {report.missing_folders[0]}", True)
            if self.query:
                self.search(self.query, self.filters)
        self.scanned.emit()
        if self._scan_again:
            self._scan_again = False
            self.refresh()

    def _watch(self, folders: list[str]) -> None:
        watched = set(self.watcher.directories())
        wanted = set()
        for folder in folders:
            root = Path(folder)
            if root.is_dir():
                wanted.add(str(root))
                wanted.update(str(p) for p in root.rglob("*") if p.is_dir() and not p.name.startswith("."))
        if watched - wanted:
            self.watcher.removePaths(sorted(watched - wanted))
        if wanted - watched:
            self.watcher.addPaths(sorted(wanted - watched))

    # ---- search -------------------------------------------------------------------------------------------
    def search(self, query: str, filters=None, limit: int = 50) -> list:
        """The moments for ``query`` by its words, emitted at once and returned (``filters``: a SearchFilters,
        default none; kept for the next refresh); then, with a text embedder, by words and look, emitted again."""
        from core_model.library.search import SearchFilters, search

        self.filters = filters if filters is not None else SearchFilters()
        self.query = query.strip()
        self._generation += 1
        if not self.query:
            self._look_next = None
            self._shown = []
            self.results_changed.emit("", [])
            return []
        try:
            with self._library() as library:
                results = search(library, self.query, limit=limit, filters=self.filters)
        except Exception as exc:  # noqa: BLE001
            self.message.emit(user_message(exc), True)
            results = []
        self._shown = results
        self.results_changed.emit(self.query, results)
        if self.text_embedder is not None:
            self._look_next = (self._generation, self.query, self.filters, limit)
            self._start_look()
        return results

    def _start_look(self) -> None:
        if self._look_thread is not None or self._look_next is None:
            return  # one at a time: the latest waiting query runs when the current one ends
        job, self._look_next = self._look_next, None
        self._look_thread = threading.Thread(target=self._look, args=job, name="vidi-library-look", daemon=True)
        self._look_thread.start()
        self.looking_changed.emit(True)

    def _look(self, generation: int, query: str, filters, limit: int) -> None:
        """On the look thread: words and look fused (the query embedded in the child, dropped once stale)."""
        from core_model.library.image_search import KeyframeImageSearch
        from core_model.library.search import search
        from core_model.store.index_store import IndexStore

        embedder = self.text_embedder
        embed = getattr(embedder, "embed", None)
        stale = lambda: generation != self._generation  # noqa: E731
        embed_texts = embedder if embed is None else (lambda folder, texts: embed(folder, texts, should_stop=stale))
        try:
            with self._library() as library, IndexStore(self._db_path()) as index:
                moments = search(library, query, limit=limit, filters=filters,
                                 image_search=KeyframeImageSearch(index, embed_texts=embed_texts))
        except Exception:  # noqa: BLE001  (the words' results stay shown)
            log.warning("the library search by look failed", exc_info=True)
            moments = None
        self._looked.emit(generation, moments)

    def _on_looked(self, generation: int, moments) -> None:
        if self._look_thread is not None:
            self._look_thread.join()
        self._look_thread = None
        if generation == self._generation and moments is not None and moments != self._shown:
            self._shown = moments
            self.results_changed.emit(self.query, moments)
        self._start_look()
        if self._look_thread is None:
            self.looking_changed.emit(False)

    def is_looking(self) -> bool:
        return self._look_thread is not None

    # ---- indexing -----------------------------------------------------------------------------------------
    def start_indexing(self) -> bool:
        if self.job.is_running():
            return False
        self._resume_after_question = False
        self.job.start_queue(str(self._db_path()), chapter_model=self._chapter_model())
        self.progress_changed.emit("Indexing the library: starting…", -1)
        return True

    def stop_indexing(self) -> None:
        self._resume_after_question = False
        if self.job.is_running():
            self.job.stop()
            self.progress_changed.emit("Stopping: the step under way is being saved…", -1)

    def pause_for_question(self, busy: bool) -> None:
        """A question is being answered (``busy``): the queue pauses; it goes on when the answer has ended."""
        self._question_busy = busy
        if busy and self.job.is_running():
            self._resume_after_question = True
            self.job.stop()
            self.progress_changed.emit("Library indexing pauses while the question is answered…", -1)
        elif not busy and self._resume_after_question and not self.job.is_running():
            self.start_indexing()

    def shutdown(self) -> None:
        self._rescan.stop()
        self._generation += 1  # a search by look under way gives up (its wait for the child ends within 50 ms)
        self._look_next = None
        self.job.shutdown()
        if self._scan_thread is not None:
            self._scan_thread.join(2.0)  # a scan commits file by file: stopping between two is safe
        if self._look_thread is not None:
            self._look_thread.join(1.0)

    def _on_progress(self, progress) -> None:
        name = progress.video.name
        if progress.done:
            step = "done"
        else:
            step = "starting" if progress.index is None else f"{progress.index.part} {progress.index.fraction:.0%}"
        self.progress_changed.emit(f"Indexing {progress.number}/{progress.count}: {name} ({step})",
                                   round(progress.fraction * 100))

    def _on_finished(self, outcome) -> None:
        paused = self._resume_after_question
        failed = f", {len(outcome.skipped)} skipped (see the list)" if outcome.skipped else ""
        if outcome.stopped:
            text = "Library indexing paused while the question is answered." if paused else \
                "Library indexing stopped: start it again to go on."
        else:
            text = f"Library indexed: {len(outcome.built)} new video{'' if len(outcome.built) == 1 else 's'}{failed}."
        self.progress_changed.emit(text, -1 if outcome.stopped else 100)
        self.message.emit(text, False)
        self.refresh()
        if paused and not self._question_busy:
            self.start_indexing()  # the answer ended before the queue had stopped

    def _on_failed(self, message: str) -> None:
        self.progress_changed.emit(f"Library indexing failed: {message}", -1)
        self.message.emit(f"Library indexing failed: {message}", True)
        self.refresh()

    def _library(self):
        from core_model.library.library_store import LibraryStore

        return LibraryStore(self._db_path())
