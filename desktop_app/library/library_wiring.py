"""Wires the library into the main window: the Library tab beside the chat and the transcript, its controller,
thumbnails of the moments found, questions going first, and opening a moment (the video at that moment, the
segment selected, the chat shown: ready to ask about). Kept here so main_window.py only composes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog

from desktop_app.index.index_wiring import index_db_path
from desktop_app.library.library_controller import LibraryController
from desktop_app.library.library_view import LibraryView
from desktop_app.settings import Key

THUMBNAIL_KEY = "library"
"""The first item of the ThumbnailService keys this tab asks frames with (the chat uses integers)."""


def create_library(window) -> LibraryController:
    controller = LibraryController(lambda: index_db_path(window), lambda: library_caption_model(window), window,
                                   text_embedder=getattr(window, "text_embedder", None))
    view = LibraryView(window)
    window.library_view = view
    window.side_tabs.addTab(view, "Library")
    opener = MomentOpener(window)
    window.library_opener = opener
    window.moved_video_offer = MovedVideoOffer(window, controller)
    thumbnails = _Thumbnails(window, view)

    view.add_folder_requested.connect(lambda: choose_library_folder(window, controller))
    view.remove_folder_requested.connect(controller.remove_folder)
    view.index_requested.connect(controller.start_indexing)
    view.stop_requested.connect(controller.stop_indexing)
    view.search_requested.connect(controller.search)
    view.moment_activated.connect(opener.open)
    controller.folders_changed.connect(view.set_folders)
    controller.summary_changed.connect(view.set_summary)
    controller.to_index_changed.connect(view.set_to_index_count)
    controller.results_changed.connect(view.set_results)
    controller.results_changed.connect(thumbnails.request)
    controller.progress_changed.connect(view.set_progress)
    controller.running_changed.connect(view.set_running)
    controller.looking_changed.connect(view.set_looking)
    controller.message.connect(lambda text, is_error: window.statusBar().showMessage(text, 12000 if is_error
                                                                                     else 8000))
    # questions go first: the queue pauses while one is answered
    window.controller.busy_changed.connect(lambda busy, _waiting: controller.pause_for_question(busy))
    QTimer.singleShot(0, controller.refresh)  # the cheap scan at start
    return controller


def library_caption_model(window) -> str | None:
    """The model that captions (and titles) the library's videos in the queue's child: the chosen model when it runs
    on a server (a vLLM box indexes the library while this machine stays free); else none, since a local one would
    load a second copy of the chat model beside the window's (memory), and search needs the transcript, the scenes
    and the keyframe embeddings only."""
    from core_model.backends.remote_endpoint import is_remote_spec

    model = str(window.settings.value(Key.MODEL) or "")
    return model if is_remote_spec(model) else None


def choose_library_folder(window, controller: LibraryController, folder: str | None = None) -> bool:
    """Ask for a folder (``folder`` given: no dialog) and add it to the library."""
    if folder is None:
        start = str(window.settings.value(Key.LAST_FOLDER)) or str(Path.home())
        folder = QFileDialog.getExistingDirectory(window, "Add a folder of videos to the library", start)
        if not folder:
            return False
    return controller.add_folder(folder)


class MomentOpener(QObject):
    """Opens a video at a moment: the segment is selected once the video is probed and loaded, and the player
    seeks to its start once it can show frames (at once when it is the open video already)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self._pending: tuple[str, int, int] | None = None
        window.thumbnails.probed.connect(lambda _path, _info: self._select())  # after the window's own handler
        # the player seeks to 0 right after it says it is loaded: the moment's seek comes after that
        window.player.media_loaded.connect(lambda _path: QTimer.singleShot(0, self._seek))

    def open(self, path: str, start_s: float, end_s: float) -> None:
        path = str(Path(path).resolve())
        self._pending = (path, round(start_s * 1000), round(end_s * 1000))
        if self.window.player.path == path and self.window.player.duration_ms() > 0:
            self._select()
            self._seek()
        else:
            self.window.open_video(path)

    def _select(self) -> None:
        window, pending = self.window, self._pending
        if pending is None or window.player.path != pending[0] or window.timeline.duration_ms() <= 0:
            return
        path, start_ms, end_ms = pending
        window.timeline.set_selection_ms(start_ms, end_ms)
        window.side_tabs.setCurrentWidget(window.chat)
        window.statusBar().showMessage(f"{Path(path).name}: the moment is selected; ask about it.", 8000)

    def _seek(self) -> None:
        window, pending = self.window, self._pending
        if pending is None or window.player.path != pending[0]:
            return
        self._pending = None
        window.video.seek_to_ms(pending[1])


class _Thumbnails(QObject):
    """A thumbnail per result (the frame at the moment's start), made off the GUI thread by the ThumbnailService;
    answers to an earlier search are dropped."""

    def __init__(self, window, view: LibraryView) -> None:
        super().__init__(window)
        self.window, self.view = window, view
        self.generation = 0
        window.thumbnails.frames_ready.connect(self._on_frames)

    def request(self, _query: str, moments: list) -> None:
        self.generation += 1
        for row, moment in enumerate(moments[:30]):
            self.window.thumbnails.request_frames((THUMBNAIL_KEY, self.generation, row), str(moment.video),
                                                  [float(moment.start_s)])

    def _on_frames(self, key, images: list, _times_s: list) -> None:
        if not (isinstance(key, tuple) and len(key) == 3 and key[0] == THUMBNAIL_KEY):
            return
        if key[1] == self.generation and images:
            self.view.set_thumbnail(key[2], images[0])


class MovedVideoOffer(QObject):
    """A question fails because the open video is gone ("file not found"): when the library knows a file with the same
    content elsewhere (renamed or moved: the scan follows a video by its fingerprint), say where it is now and offer to
    open it there. The library is scanned again first when it does not know yet (the watcher's rescan may be pending).
    """

    def __init__(self, window, controller: LibraryController) -> None:
        super().__init__(window)
        self.window, self.controller = window, controller
        self._missing: str | None = None  # the gone video, while a rescan may still find it
        self._offered: set[str] = set()
        window.controller.state_changed.connect(self._on_state)
        controller.scanned.connect(self._on_scanned)

    def _on_state(self, _key: int, state, detail: str) -> None:
        from desktop_app.chat.exchange import AnswerState

        gone = self.window.player.path
        if state != AnswerState.FAILED or "file not found" not in detail or not gone or Path(gone).exists():
            return
        if not self._offer(gone):
            self._missing = gone
            self.controller.refresh()

    def _on_scanned(self) -> None:
        gone, self._missing = self._missing, None
        if gone is not None:
            self._offer(gone)

    def _offer(self, gone: str) -> bool:
        """True when the video's new place is known (and was offered, once per place)."""
        fingerprint = self.window.index.fingerprint
        if not fingerprint:
            return False
        try:
            from core_model.library.library_store import LibraryStore

            with LibraryStore(index_db_path(self.window)) as library:
                places = [f.path for f in library.files() if f.fingerprint == fingerprint]
        except Exception:  # noqa: BLE001  (a damaged library: the failure's own line stands)
            return False
        found = next((place for place in places if place != gone and Path(place).is_file()), None)
        if found is None:
            return False
        if found not in self._offered:
            self._offered.add(found)
            self.window.chat.show_action_notice(
                f"“{Path(gone).name}” was renamed or moved: the same video is now {found}.",
                "Open it there", lambda: self.window.open_video(found))
        return True
