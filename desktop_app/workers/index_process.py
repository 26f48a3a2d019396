"""Builds a video's index in a child process ("spawn"), so the window never imports torch nor freezes.

Why a process: the index may load Whisper or a chat model (torch, seconds of GIL-held imports, gigabytes), and a
crash in native code must not take the window down; closing Vidi can always end the child at once.

Protocol (one ``multiprocessing`` Pipe, child -> parent): ``("progress", IndexProgress)`` while it works, then
exactly one final message: ``("done", IndexOutcome)`` or ``("error", core_model.errors.to_wire)``. The parent
stops a build by setting ``stop_event``: the runner checks it between steps and returns with what it built kept
(``IndexOutcome.stopped``); building again resumes there. No Qt is imported here: the child must not load Qt.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass, field

INDEX_PARTS: tuple[str, ...] = ("transcript", "scenes", "captions", "embeddings", "chapters")
"""The parts the window builds, in order (those core_model.index.runner builds today)."""


@dataclass(frozen=True)
class IndexOutcome:
    """What one build did: parts finished now, parts skipped (with the notice saying why), whether it stopped."""

    built: tuple[str, ...] = ()
    skipped: dict[str, str] = field(default_factory=dict)
    stopped: bool = False


def index_child_main(conn, stop_event, video: str, db_path: str, chapter_model: str | None,
                     asr_model: str | None) -> None:
    """The child: build (or complete) ``video``'s index in the database at ``db_path``, reporting over ``conn``.

    Library noise (transformers' advice, "Loading weights" bars) stays off the terminal, as in the model process,
    unless ``$VIDI_VERBOSE`` is 1."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the window's to handle
    from core_model.errors import to_wire

    try:
        with quiet_libraries():
            outcome = _build(conn, stop_event, video, db_path, chapter_model, asr_model)
    except BaseException as exc:  # noqa: BLE001  (reported to the window as one line)
        _send(conn, ("error", to_wire(exc)))
    else:
        _send(conn, ("done", outcome))


def _build(conn, stop_event, video, db_path, chapter_model, asr_model) -> IndexOutcome:
    from core_model.errors import VidiError, user_message
    from core_model.index.runner import build_index
    from core_model.store.fingerprint import fingerprint_file
    from core_model.store.index_store import IndexStore

    with IndexStore(db_path) as store:
        try:
            report = build_index(video, INDEX_PARTS, progress=lambda p: _send(conn, ("progress", p)),
                                 should_stop=stop_event.is_set, store=store, asr_model=asr_model,
                                 chapter_model=chapter_model or None)
        except VidiError as exc:
            # The chapter model could not be loaded (not downloaded, no memory): the transcript and the scenes
            # are built and usable all the same, so the build is reported with chapters skipped, not failed.
            fingerprint = fingerprint_file(video)
            parts = store.parts(fingerprint)
            if not (parts["transcript"].done and parts["scenes"].done) or parts["chapters"].done:
                raise
            notice = user_message(exc)
            store.set_part(fingerprint, "chapters", "missing", notice=notice)  # kept: the state's tooltip says why
            return IndexOutcome(skipped={"chapters": notice})
        return IndexOutcome(tuple(report.built), dict(report.skipped), report.stopped)


def quiet_libraries():
    """The CLI's quieting of library output for a child of the window (``$VIDI_VERBOSE=1`` lets it through)."""
    import os

    from core_model.cli.quiet import library_output

    return library_output(os.environ.get("VIDI_VERBOSE") == "1", command="index")


def _send(conn, message) -> None:
    try:
        conn.send(message)
    except (OSError, ValueError, BrokenPipeError):
        pass  # the window is gone: nothing is waiting for this
