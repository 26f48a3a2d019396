"""Wires the index into the main window: its controller, the transcript tab, the status-bar corner, the Index
menu's actions and the chapter markers. Kept here so main_window.py only composes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from core_model.errors import user_message
from desktop_app.index.index_controller import IndexController
from desktop_app.index.index_status import IndexStatus
from desktop_app.index.transcript_export import EXPORT_FILTERS, export_transcript
from desktop_app.index.transcript_pane import TranscriptPane
from desktop_app.settings import Key

DB_FILE_NAME = "vidi.sqlite3"


def index_db_path(window) -> Path:
    """The index lives in the chats' database (the same file the CLI's ``vidi index`` writes)."""
    store = getattr(window, "store", None)
    path = getattr(store, "path", None)
    return Path(path) if path is not None else Path(window.data_folder) / DB_FILE_NAME


def create_index_controller(window) -> IndexController:
    def chapter_model() -> str | None:
        return str(window.settings.value(Key.MODEL) or "") or None  # the chosen model titles the chapters

    return IndexController(lambda: index_db_path(window), chapter_model, window)


def wire_index(window, transcript: TranscriptPane, status: IndexStatus, index: IndexController) -> None:
    a = window.actions_
    a.index_video.triggered.connect(index.start)
    a.stop_index.triggered.connect(index.stop)
    a.show_transcript.triggered.connect(lambda: window.side_tabs.setCurrentWidget(transcript))
    a.export_transcript.triggered.connect(lambda: choose_export_file(window, transcript))
    a.stop_index.setEnabled(False)
    index.state_changed.connect(status.set_state)
    index.progress_changed.connect(status.set_progress)
    index.running_changed.connect(status.set_running)
    index.running_changed.connect(a.stop_index.setEnabled)
    index.transcript_changed.connect(transcript.set_cues)
    index.transcript_changed.connect(lambda cues, _done: a.export_transcript.setEnabled(bool(cues)))
    index.video_opened.connect(lambda _path: transcript.find_box.clear())  # a search is about one video
    index.chapters_changed.connect(window.timeline.set_chapters)
    index.message.connect(lambda text, is_error: window.statusBar().showMessage(text, 12000 if is_error else 8000))
    transcript.seek_requested.connect(window.video.seek_to_ms)
    transcript.export_requested.connect(lambda: choose_export_file(window, transcript))
    window.player.position_ms_changed.connect(transcript.set_position_ms)
    a.export_transcript.setEnabled(False)
    offer_index_for_whole_video_questions(window, index)
    index.state_changed.connect(lambda _text, _details: warm_search_by_look(window, index))


def warm_search_by_look(window, index: IndexController) -> None:
    """The open video's keyframes have embeddings: load their SigLIP in the text embedder's child now (seconds),
    while the person watches, so a whole-video question finds moments by look without that wait. The child gives
    the memory back after its idle time."""
    embedder = getattr(window, "text_embedder", None)
    part = index.parts.get("embeddings")
    if embedder is None or part is None or part.state == "missing" or not part.source:
        return
    if Path(part.source).is_dir():
        embedder.warm(part.source)


def offer_index_for_whole_video_questions(window, index: IndexController) -> None:
    """A question about the whole of a long video that has no index is answered from frames spread over all of it;
    say so once per video, and offer to index it, so that later whole-video questions re-watch the moments that
    matter (the index is never built without the user asking: it can take minutes)."""
    from core_model.index.whole_video import ONE_PASS_MAX_S

    offered: set[str] = set()

    def on_question(exchange) -> None:
        video = index.video
        if (not exchange.whole_video or video is None or video in offered or index.is_running()
                or index.has_index() or index.read_error or window.controller.duration_ms <= ONE_PASS_MAX_S * 1000):
            return
        offered.add(video)
        box = window.chat.show_action_notice(
            "This video has no index yet, so the answer looks at frames spread over all of it. Index it, and "
            "questions about the whole video will find and re-watch the moments that matter.",
            "Index this video", lambda: index.start())
        follow_offer_button(box.button, index, video)

    window.controller.exchange_added.connect(on_question)


def follow_offer_button(button, index: IndexController, video: str) -> None:
    """The offer's button says what became of the index it offered (it stayed "Index this video", clickable, after
    the index was built): "Indexing…" while it builds, "Indexed" once built; a stopped build offers it again."""
    from shiboken6 import isValid

    def update(running: bool) -> None:
        if not isValid(button):  # the chat was cleared (another video opened): nothing left to follow
            index.running_changed.disconnect(update)
            return
        if index.video != video:
            return
        built = not running and index.has_index()
        button.setEnabled(not running and not built)
        button.setText("Indexing…" if running else "Indexed" if built else "Index this video")

    index.running_changed.connect(update)


def choose_export_file(window, transcript: TranscriptPane, path: str | None = None) -> Path | None:
    """Ask where to save the transcript (``path`` given: no dialog) and write it; one status line either way."""
    cues = transcript.cues()
    if not cues:
        window.statusBar().showMessage("There is no transcript to export yet: index this video first.", 8000)
        return None
    if path is None:
        video = Path(window.player.path) if window.player.path else Path("transcript")
        suggested = str(Path(str(window.settings.value(Key.LAST_FOLDER)) or ".") / f"{video.stem}.srt")
        path, _ = QFileDialog.getSaveFileName(window, "Export the transcript", suggested, EXPORT_FILTERS)
        if not path:
            return None
    try:
        written = export_transcript(cues, path)
    except Exception as exc:  # noqa: BLE001  (a UsageError line: a wrong suffix, a read-only folder)
        window.statusBar().showMessage(f"Export failed: {user_message(exc)}", 12000)
        return None
    window.statusBar().showMessage(f"Transcript exported to {written}", 8000)
    return written
