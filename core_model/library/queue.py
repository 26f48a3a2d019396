"""The library's indexing queue: what is new is indexed one video at a time, resumable, a bad file skipped.

    report = index_library(library, index_store, progress=print, should_stop=paused.is_set)
    report.indexed      # [Path('/videos/lake.mp4'), ...]
    report.failed       # {Path('/videos/broken.mp4'): "cannot open broken.mp4: Invalid data found ..."}

Each video is built by core_model.index.runner.build_index, which commits as it goes: a queue killed at any moment
starts again at the video it was on, where that video's last commit was, and the videos before it cost nothing (they
are marked indexed). A video that cannot be read is marked failed with a one-line note and the queue goes on with
the next; the database failing stops it (nothing after would be saved either). ``should_stop()`` is checked between
steps: it pauses the queue (the GUI sets it while a question is asked, so questions go first). A model asked for
by name (``chapter_model``, e.g. ``remote+http://gpu-box:8000/v1#MODEL``) that cannot be loaded stops the queue
with ``model_error``: the video it was on stays to index, so running again once the model loads completes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from core_model.errors import StoreError, user_message
from core_model.index.progress import IndexProgress
from core_model.index.runner import BUILDABLE_PARTS, build_index
from core_model.library.library_store import LibraryFile, LibraryStore
from core_model.store.index_store import IndexStore

LIBRARY_PARTS: tuple[str, ...] = tuple(p for p in BUILDABLE_PARTS if p != "chapters")
"""What a library video gets by default: what search needs (transcript and captions for the words, keyframe
embeddings for the look; a part whose model is not here is skipped with a note). Chapters only on request."""


@dataclass(frozen=True)
class QueueProgress:
    """Where the queue is: the ``number``-th of ``count`` videos, and that video's own progress (None between)."""

    video: Path
    number: int
    count: int
    index: IndexProgress | None = None
    done: bool = False
    """This video is finished (indexed, failed or partly skipped): the overall progress counts it whole."""

    @property
    def fraction(self) -> float:
        """Overall progress, 0..1: the videos done plus the part of this one (its parts counted evenly)."""
        if self.done:
            return min(1.0, self.number / self.count) if self.count else 1.0
        within = 0.0
        if self.index is not None and self.index.part_count:
            within = (self.index.part_number - 1 + self.index.fraction) / self.index.part_count
        return min(1.0, (self.number - 1 + within) / self.count) if self.count else 1.0


@dataclass
class QueueReport:
    indexed: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)
    notes: dict[Path, str] = field(default_factory=dict)
    """Parts skipped for an indexed video (e.g. no speech model), one line each."""
    stopped: bool = False
    model_error: str = ""
    """The model asked for (``chapter_model``) could not be loaded, e.g. its server is down: the queue stopped there."""


def index_library(library: LibraryStore, index_store: IndexStore, *, parts: Sequence[str] = LIBRARY_PARTS,
                  progress: Callable[[QueueProgress], None] | None = None,
                  should_stop: Callable[[], bool] | None = None, chapter_model: str | None = None,
                  asr_model: str | None = None, manager=None) -> QueueReport:
    """Index every library video still to index (state "new"), oldest found first. ``chapter_model``: also title
    chapters with that model. Raises StoreError when the database fails; a bad video is only noted."""
    should_stop = should_stop or (lambda: False)
    if chapter_model and "chapters" not in parts:
        parts = (*parts, "chapters")
    queue = library.to_index()
    report = QueueReport()
    for number, video in enumerate(queue, start=1):
        if should_stop():
            report.stopped = True
            break
        path = Path(video.path)
        if progress is not None:
            progress(QueueProgress(path, number, len(queue)))
        on_index = None if progress is None else (
            lambda p, path=path, number=number: progress(QueueProgress(path, number, len(queue), p)))
        try:
            result = build_index(path, parts, progress=on_index, should_stop=should_stop, store=index_store,
                                 asr_model=asr_model, chapter_model=chapter_model, manager=manager)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001  one bad file must not stop the library: note it, go on
            _fail(library, video, path, user_message(exc), report)
            if progress is not None:
                progress(QueueProgress(path, number, len(queue), done=True))
            continue
        library.update_file(video.id, fingerprint=result.fingerprint, duration_s=result.duration_s)
        if result.model_error and chapter_model:
            # the model asked for (a server that is down, a folder that does not load) fails alike for every video:
            # stop, and keep this video to index, rather than mark the whole library indexed without its captions
            report.model_error = result.model_error
            report.stopped = True
            break
        if result.stopped:
            report.stopped = True
            break
        note = "; ".join(f"{part}: {why}" for part, why in result.skipped.items())
        library.update_file(video.id, state="indexed", note=note)
        report.indexed.append(path)
        if note:
            report.notes[path] = note
        if progress is not None:  # parts skipped for want of a model report no progress of their own
            progress(QueueProgress(path, number, len(queue), done=True))
    return report


def _fail(library: LibraryStore, video: LibraryFile, path: Path, note: str, report: QueueReport) -> None:
    library.update_file(video.id, state="failed", note=note)
    report.failed[path] = note
