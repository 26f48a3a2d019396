"""The main window: video (player, timeline, segment bar) on the left, chat on the right, menus and status bar.

Composition and wiring only: widgets report intents, the SessionController turns them into requests, the
ThumbnailService probes files and makes thumbnails off the GUI thread. Nothing here touches a model.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMenu, QSplitter, QTabWidget

from core_model.backends.base import Capabilities, GenerationOptions
from desktop_app.actions import WindowActions
from desktop_app.audio_recorder import Recorder, RecorderError
from desktop_app.chat.chat_pane import ChatPane
from desktop_app.chat.composer import split_dropped_paths
from desktop_app.index.index_status import IndexStatus
from desktop_app.index.index_wiring import create_index_controller, wire_index
from desktop_app.index.transcript_pane import TranscriptPane
from desktop_app.library.library_wiring import create_library
from desktop_app.model_choice import ModelChoice
from desktop_app.player.video_player import STEP_MS
from desktop_app.resources import icon
from desktop_app.session_controller import SessionController
from desktop_app.settings import Key, Settings
from desktop_app.status_text import device_text
from desktop_app.theme import apply_theme, follow_system_theme
from desktop_app.timeline.thumbnail_worker import ThumbnailService
from desktop_app.video_pane import VideoPane
from desktop_app.workers.chat_request import ModelSpec

log = logging.getLogger(__name__)

NUM_STRIP_TILES = 24


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, controller: SessionController, thumbnails: ThumbnailService,
                 recorder: Recorder, data_folder: Path, version: str = "", text_embedder=None) -> None:
        super().__init__()
        self.settings, self.controller, self.thumbnails, self.recorder = settings, controller, thumbnails, recorder
        self.text_embedder = text_embedder  # SigLIP for searches by look (workers/text_embedder_process), or None
        follow_system_theme(lambda: str(self.settings.value(Key.THEME)))
        self.data_folder = data_folder
        self.version = version
        self.store = None
        self._store_problem = ""  # why chats are not kept (attach_store), shown again in each video's chat
        self._notice_shown = ""  # the backend's notice last shown in the status bar ("Running on the CPU: ...")
        self._pending_open: str | None = None
        self._closed = False
        self.setWindowTitle("Vidi")
        self.setWindowIcon(icon("app"))
        self.setAcceptDrops(True)
        self.setMinimumSize(900, 560)
        self.actions_ = WindowActions(self)
        self._init_layout()
        self._init_menus()
        self._init_status_bar()
        self._init_signals()
        self.index = create_index_controller(self)
        wire_index(self, self.transcript, self.index_status, self.index)
        self.library = create_library(self)  # the Library tab: folders, indexing queue, search
        self.model_choice = ModelChoice(self)
        self.apply_settings()
        self._restore_geometry()

    # ---- construction -------------------------------------------------------------------------------------
    def _init_layout(self) -> None:
        self.video = VideoPane(self)
        self.player, self.timeline, self.segment_bar = self.video.player, self.video.timeline, self.video.segment_bar
        self.chat = ChatPane(self)
        self.chat.composer.set_paste_folder(self.data_folder / "attachments")
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.video)
        self.transcript = TranscriptPane(self)
        self.side_tabs = QTabWidget(self)  # the transcript beside the chat
        self.side_tabs.addTab(self.chat, "Chat")
        self.side_tabs.addTab(self.transcript, "Transcript")
        self.splitter.addWidget(self.side_tabs)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)
        self.resize(1280, 780)
        self.splitter.setSizes([760, 520])

    def _init_menus(self) -> None:
        a = self.actions_
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(a.open)
        self.recent_menu = QMenu("Open &recent", self)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        for action in (a.export_chat, a.settings, a.models):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(a.quit)
        play_menu = bar.addMenu("&Playback")
        for action in (a.play_pause, a.back, a.forward, a.frame_back, a.frame_forward, a.mute):
            play_menu.addAction(action)
        play_menu.addSeparator()
        for action in (a.mark_in, a.mark_out, a.whole_video):
            play_menu.addAction(action)
        chat_menu = bar.addMenu("&Chat")
        for action in (a.new_chat, a.delete_chat, a.stop, a.attach, a.record, a.focus_question, a.load_model):
            chat_menu.addAction(action)
        index_menu = bar.addMenu("&Index")
        for action in (a.index_video, a.stop_index, a.show_transcript, a.export_transcript):
            index_menu.addAction(action)
        view_menu = bar.addMenu("&View")
        theme_menu = view_menu.addMenu("&Theme")
        for action in (a.theme_system, a.theme_light, a.theme_dark):
            theme_menu.addAction(action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(a.shortcuts)
        help_menu.addAction(a.about)
        self._update_recent_menu()

    def _init_status_bar(self) -> None:
        self.model_label = QLabel("No model chosen", self)
        self.device_label = QLabel("", self)
        self.index_status = IndexStatus(self.actions_.index_video, self.actions_.stop_index, self)
        self.statusBar().addPermanentWidget(self.index_status)
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(self.device_label)

    def _init_signals(self) -> None:
        a, p, c, ctl = self.actions_, self.player, self.chat, self.controller
        a.open.triggered.connect(self.choose_video)
        a.export_chat.triggered.connect(self.export_chat)
        a.settings.triggered.connect(self.open_settings)
        a.models.triggered.connect(lambda: self.open_models())
        a.quit.triggered.connect(self.close)
        a.play_pause.triggered.connect(p.toggle_play)
        a.back.triggered.connect(lambda: p.step_ms(-STEP_MS))
        a.forward.triggered.connect(lambda: p.step_ms(STEP_MS))
        a.frame_back.triggered.connect(lambda: p.step_frames(-1))
        a.frame_forward.triggered.connect(lambda: p.step_frames(1))
        a.mute.triggered.connect(p.toggle_mute)
        a.mark_in.triggered.connect(self.video.mark_in)
        a.mark_out.triggered.connect(self.video.mark_out)
        a.whole_video.triggered.connect(self.video.select_whole_video)
        a.new_chat.triggered.connect(ctl.new_chat)
        a.delete_chat.triggered.connect(ctl.delete_chat)
        a.stop.triggered.connect(ctl.stop)
        a.attach.triggered.connect(self.choose_images)
        a.record.triggered.connect(self.toggle_recording)
        a.load_model.triggered.connect(ctl.load_model)
        a.focus_question.triggered.connect(lambda: c.composer.edit.setFocus())
        a.theme_system.triggered.connect(lambda: self.set_theme("system"))
        a.theme_light.triggered.connect(lambda: self.set_theme("light"))
        a.theme_dark.triggered.connect(lambda: self.set_theme("dark"))
        a.shortcuts.triggered.connect(self.show_shortcuts)
        a.about.triggered.connect(self.show_about)
        # video
        p.media_failed.connect(lambda m: self.statusBar().showMessage(f"Player: {m}", 8000))
        self.video.selection_changed.connect(ctl.set_selection_ms)
        self.video.selection_cleared.connect(ctl.clear_selection)
        # chat
        c.seek_requested.connect(self.video.seek_to_ms)
        c.source_selected.connect(self.video.show_moment)
        c.new_chat_requested.connect(ctl.new_chat)
        c.delete_chat_requested.connect(ctl.delete_chat)
        c.export_chat_requested.connect(self.export_chat)
        c.chat_selected.connect(ctl.select_chat)
        comp = c.composer
        comp.question_submitted.connect(self._on_question_submitted)
        comp.stop_requested.connect(ctl.stop)
        comp.attach_requested.connect(self.choose_images)
        comp.record_toggled.connect(self.toggle_recording)
        comp.include_audio_toggled.connect(self._on_include_audio_toggled)
        comp.attachment_failed.connect(lambda m: c.show_notice(m))
        # controller -> widgets
        ctl.exchange_added.connect(c.add_exchange)
        ctl.piece_added.connect(c.append_piece)
        ctl.state_changed.connect(c.set_state)
        ctl.history_loaded.connect(self._on_history_loaded)
        ctl.chats_changed.connect(c.set_chats)
        ctl.notice.connect(c.show_notice)
        ctl.busy_changed.connect(comp.set_busy)
        ctl.asked_segments_changed.connect(self.timeline.set_asked_segments)
        ctl.model_status_changed.connect(self.model_label.setText)
        ctl.backend_info_changed.connect(self._on_backend_info_changed)
        ctl.evidence_ready.connect(c.set_evidence)
        ctl.sources_found.connect(c.set_sources)
        ctl.question_returned.connect(self._on_question_returned)
        ctl.capabilities_changed.connect(self._on_capabilities_changed)
        ctl.frames_wanted.connect(self.thumbnails.request_frames)
        # media work
        self.thumbnails.probed.connect(self._on_probed)
        self.thumbnails.probe_failed.connect(self._on_probe_failed)
        self.thumbnails.strip_ready.connect(self.video.set_thumbnails)
        self.thumbnails.frames_ready.connect(c.set_frames)

    def attach_store(self, store, problem: str = "") -> None:
        """Give the chats' store (None: chats are not kept) to the window and its controller. ``problem``: why
        there is none (a damaged database...), shown in the chat now and again in each video's chat, which opening
        a video clears (the video given on the command line opens right after and wiped it)."""
        self.store = self.controller.store = store
        self._store_problem = problem if store is None else ""
        if self._store_problem:
            self.chat.show_notice(self._store_problem)

    # ---- settings -----------------------------------------------------------------------------------------
    def apply_settings(self) -> None:
        s = self.settings
        model = str(s.value(Key.MODEL))
        spec = ModelSpec(model, device=str(s.value(Key.DEVICE)), load_in_4bit=bool(s.value(Key.LOAD_IN_4BIT))) if model else None
        options = GenerationOptions(num_frames=int(s.value(Key.NUM_FRAMES)), max_new_tokens=int(s.value(Key.MAX_NEW_TOKENS)))
        self.controller.set_model(spec, options)
        include_audio = bool(s.value(Key.INCLUDE_AUDIO))
        self.chat.composer.set_include_audio(include_audio)
        self.controller.set_include_audio(include_audio)
        self.player.set_volume_percent(int(s.value(Key.VOLUME)))
        self.player.set_muted(bool(s.value(Key.MUTED)))
        from desktop_app.remote_models import remote_host

        host = remote_host(str(s.value(Key.MODEL) or ""))  # before it loads: where a remote model's questions go
        self.device_label.setText(f"Remote: {host}" if host else "")
        self.set_theme(str(s.value(Key.THEME)), save=False)

    def set_theme(self, theme: str, save: bool = True) -> None:
        from PySide6.QtWidgets import QApplication

        apply_theme(QApplication.instance(), theme)
        for name in ("system", "light", "dark"):
            getattr(self.actions_, f"theme_{name}").setChecked(name == theme)
        if save:
            self.settings.set_value(Key.THEME, theme)

    def open_settings(self) -> None:
        self.model_choice.open_settings()  # the model chooser, the recommendation: desktop_app/model_choice.py

    def open_models(self, select: str | None = None) -> None:
        self.model_choice.open_models(select)

    # ---- videos -------------------------------------------------------------------------------------------
    def choose_video(self) -> None:
        folder = str(self.settings.value(Key.LAST_FOLDER)) or str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open a video", folder,
                                              "Videos (*.mp4 *.mkv *.mov *.webm *.avi *.m4v);;All files (*)")
        if path:
            self.open_video(path)

    def open_video(self, path: str) -> None:
        """Probe ``path`` off the GUI thread; the player loads it when the probe says it is a video."""
        self._pending_open = str(Path(path).expanduser().resolve())
        self.statusBar().showMessage(f"Opening {Path(path).name}…")
        self.thumbnails.request_probe(self._pending_open)

    def _on_probed(self, path: str, info) -> None:
        if path != self._pending_open:
            return
        self._pending_open = None
        self.video.load(path, round(info.duration_s * 1000), info.fps)
        self.chat.set_duration_s(info.duration_s)
        self.chat.composer.set_video_open(True)
        self.controller.open_video(path, info.duration_s, has_sound=bool(info.has_audio))
        self.index.open_video(path)
        self._update_audio_toggle()
        self.thumbnails.request_strip(path, NUM_STRIP_TILES)
        self.setWindowTitle(f"{Path(path).name} — Vidi")
        self.settings.set_value(Key.LAST_FOLDER, str(Path(path).parent))
        self.settings.add_recent_file(path)
        self._update_recent_menu()
        audio = "with sound" if info.has_audio else "no sound"
        self.statusBar().showMessage(f"{Path(path).name}: {info.width}×{info.height}, {info.fps:.3g} fps, {audio}", 6000)

    def _on_probe_failed(self, path: str, message: str) -> None:
        if path != self._pending_open:
            return
        self._pending_open = None
        self.statusBar().clearMessage()
        self.chat.show_notice(f"Cannot open '{Path(path).name}': {message}")

    def _update_recent_menu(self) -> None:
        self.recent_menu.clear()
        for path in self.settings.recent_files():
            action = self.recent_menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_video(p))
        self.recent_menu.setEnabled(bool(self.settings.recent_files()))
        if self.settings.recent_files():
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear the list", self._clear_recent)

    def _clear_recent(self) -> None:
        self.settings.clear_recent_files()
        self._update_recent_menu()

    # ---- chat ---------------------------------------------------------------------------------------------
    def _on_question_submitted(self, text: str, images: list, audio_path, with_segment: bool) -> None:
        if self.controller.ask(text, images, audio_path, with_segment) is not None:
            self.chat.composer.clear_question()  # refused: it stays in the box, a notice says why

    def _on_question_returned(self, text: str, images: list, audio_path) -> None:
        if self.chat.composer.restore_question(text, images, audio_path):
            self.statusBar().showMessage("Your question is back in the box: send it again when ready.", 8000)

    def _on_backend_info_changed(self, info) -> None:
        """The device and precision the model really runs with (its describe()), and its notice."""
        self.device_label.setText(device_text(info))
        self.device_label.setToolTip(info.notice if info is not None else "")
        notice = info.notice if info is not None else ""
        if notice and notice != self._notice_shown:  # once per model, not after every answer (the tooltip keeps it)
            self.statusBar().showMessage(notice, 10000)
        self._notice_shown = notice

    def _on_include_audio_toggled(self, checked: bool) -> None:
        self.controller.set_include_audio(checked)
        self.settings.set_value(Key.INCLUDE_AUDIO, checked)

    def _on_history_loaded(self, exchanges: list) -> None:
        self.chat.clear_messages()
        if self._store_problem:
            self.chat.show_notice(self._store_problem)
        for exchange in exchanges:
            self.chat.add_exchange(exchange)

    def _on_capabilities_changed(self, caps: Capabilities | None) -> None:
        self._update_audio_toggle()
        self._update_mic()

    def _update_audio_toggle(self) -> None:
        composer, caps = self.chat.composer, self.controller.capabilities
        if caps is not None and not caps.audio:
            composer.set_audio_supported(False, "This model does not take audio: only the pictures are sent.")
        elif self.controller.has_sound is False:
            composer.set_audio_supported(False, "This video has no sound: only the pictures are sent.")
        else:
            composer.set_audio_supported(True)

    def choose_images(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Attach images", str(self.settings.value(Key.LAST_FOLDER)),
                                                "Images (*.png *.jpg *.jpeg *.webp *.bmp *.gif)")
        self.chat.composer.add_images(paths)

    def export_chat(self) -> None:
        markdown = self.controller.export_markdown()
        if markdown is None:
            self.chat.show_notice("There is no chat to export yet.", error=False)
            return
        name = (Path(self.player.path).stem if self.player.path else "chat") + "-chat.md"
        path, _ = QFileDialog.getSaveFileName(self, "Export chat", str(Path(str(self.settings.value(Key.LAST_FOLDER))) / name),
                                              "Markdown (*.md)")
        if path:
            Path(path).write_text(markdown, encoding="utf-8")
            self.statusBar().showMessage(f"Chat exported to {path}", 6000)

    # ---- microphone ---------------------------------------------------------------------------------------
    def _update_mic(self) -> None:
        available, reason = self.recorder.availability()
        caps = self.controller.capabilities
        if available and caps is not None and not caps.audio:
            available, reason = False, "This model does not take audio, so a voice question cannot be sent."
        self.chat.composer.set_mic_available(available, reason)
        self.actions_.record.setEnabled(available)

    def toggle_recording(self) -> None:
        composer = self.chat.composer
        try:
            if self.recorder.is_recording():
                path = self.recorder.stop(self.data_folder / "recordings")
                composer.set_recording(False)
                composer.set_audio_clip(str(path))
            else:
                self.recorder.start()
                composer.set_recording(True)
        except (RecorderError, OSError) as exc:
            composer.set_recording(False)
            self.chat.show_notice(str(exc))

    # ---- drag and drop ------------------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        mime = event.mimeData()
        if mime.hasImage() and not mime.hasUrls():
            self.chat.composer.add_image_data(mime.imageData())
        self.handle_dropped_paths([u.toLocalFile() for u in mime.urls() if u.isLocalFile()])
        event.acceptProposedAction()

    def handle_dropped_paths(self, paths: list[str]) -> None:
        """Images are attached, an audio file becomes the voice clip, anything else is opened as a video."""
        images, audio, others = split_dropped_paths(paths)
        self.chat.composer.add_images(images)
        if audio:
            self.chat.composer.set_audio_clip(audio[0])
        if others:
            self.open_video(others[0])

    # ---- help ---------------------------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        from desktop_app.dialogs.help_dialogs import ShortcutsDialog

        ShortcutsDialog(self.actions_.shortcut_rows(), self).exec()

    def show_about(self) -> None:
        from desktop_app.dialogs.help_dialogs import show_about

        show_about(self, self.version)

    # ---- start and close ----------------------------------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        QTimer.singleShot(0, self._update_mic)  # PortAudio is asked after the window is on screen
        QTimer.singleShot(300, self.thumbnails.warm_up)  # decoders load while the user looks for a video

    def _restore_geometry(self) -> None:
        geometry = self.settings.value(Key.WINDOW_GEOMETRY)
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = self.settings.value(Key.WINDOW_STATE)
        if isinstance(state, QByteArray):
            self.splitter.restoreState(state)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> bool:
        """Stop answers, end the worker threads (at most ~2 s in all), save the window. True if all threads ended."""
        if self._closed:
            return True
        self._closed = True
        self.settings.set_value(Key.WINDOW_GEOMETRY, self.saveGeometry())
        self.settings.set_value(Key.WINDOW_STATE, self.splitter.saveState())
        self.settings.set_value(Key.VOLUME, self.player.volume_percent())
        self.settings.set_value(Key.MUTED, self.player.is_muted())
        if self.recorder.is_recording():
            try:
                self.recorder.stop(self.data_folder / "recordings")
            except Exception:  # noqa: BLE001
                log.warning("stopping the recording failed", exc_info=True)
        self.player.unload()
        self.index.shutdown()  # a build under way keeps what it built; its process ends here
        self.library.shutdown()  # so does the library's queue
        self.controller.shutdown()
        worker_done = self.controller.client.shutdown(1800)
        if self.text_embedder is not None:
            self.text_embedder.close(0.5)
        thumbs_done = self.thumbnails.shutdown(200 if not worker_done else 1000)
        self.settings.sync()
        return worker_done and thumbs_done
