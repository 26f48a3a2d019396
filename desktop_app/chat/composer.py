"""Where the user writes a question: text box, attachments, include-audio toggle, mic, send and stop.

Enter sends, Shift+Enter adds a line. Pasting an image (or image files) attaches it. Emits
``question_submitted(text, image_paths, audio_path, with_segment)``; it never talks to a model. The box is emptied
by ``clear_question()`` once the question was accepted, so a refused question (no model, a medium the model does
not take) stays where the user wrote it.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.chat.attachment_strip import AttachmentStrip
from desktop_app.resources import icon

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".m4a", ".opus")


def split_dropped_paths(paths: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(images, audio clips, anything else: videos to open) by file name."""
    images = [p for p in paths if p.lower().endswith(IMAGE_SUFFIXES)]
    audio = [p for p in paths if p.lower().endswith(AUDIO_SUFFIXES)]
    return images, audio, [p for p in paths if p not in images and p not in audio]


class _QuestionEdit(QPlainTextEdit):
    submit_requested = Signal()
    images_pasted = Signal(list)  # list[str] image files
    image_data_pasted = Signal(QImage)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.submit_requested.emit()
            return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source) -> bool:  # noqa: N802
        return source.hasImage() or source.hasUrls() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source) -> None:  # noqa: N802
        if source.hasImage():
            image = source.imageData()
            if isinstance(image, QImage) and not image.isNull():
                self.image_data_pasted.emit(image)
                return
        if source.hasUrls():
            paths = [u.toLocalFile() for u in source.urls() if u.isLocalFile()]
            images = [p for p in paths if p.lower().endswith(IMAGE_SUFFIXES)]
            if images:
                self.images_pasted.emit(images)
                return
        super().insertFromMimeData(source)


class Composer(QWidget):
    question_submitted = Signal(str, list, object, bool)  # text, image paths, audio clip path or None, with segment
    stop_requested = Signal()
    attach_requested = Signal()
    record_toggled = Signal()
    include_audio_toggled = Signal(bool)
    attachment_failed = Signal(str)  # message

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._paste_folder: Path | None = None
        self.submit_guard = None
        """A callable that says whether a question may be sent now (False: it stays in the box); None: always."""
        self._init_widgets()
        self._init_layout()
        self._init_signals()
        self.set_busy(False)
        self.set_video_open(False)

    def _init_widgets(self) -> None:
        self.attachments = AttachmentStrip(self)
        self.edit = _QuestionEdit(self)
        self.edit.setPlaceholderText("Ask about the selected segment or an attached image…  (Enter to send)")
        self.edit.setFixedHeight(64)
        self.attach_button = self._tool("attach", "Attach images (you can also drop or paste them)")
        self.mic_button = self._tool("mic", "Record a short voice question")
        self.mic_button.setCheckable(True)
        self.segment_check = QCheckBox("Segment", self)
        self.segment_check.setChecked(True)
        self.segment_check.setToolTip("Ask about the selected video segment (untick to ask about the images alone)")
        self.audio_check = QCheckBox("Include audio", self)
        self.audio_check.setToolTip("Send the segment's own sound with the question")
        self.queue_label = QLabel(self)
        self.queue_label.setObjectName("queueLabel")
        self.send_button = QPushButton(icon("send"), "Send", self)
        self.send_button.setToolTip("Send the question (Enter)")
        self.stop_button = QPushButton(icon("stop"), "Stop", self)
        self.stop_button.setToolTip("Stop the answer now (Esc)")

    def _tool(self, icon_name: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icon(icon_name))
        button.setIconSize(QSize(20, 20))
        button.setAutoRaise(True)
        button.setToolTip(tip)
        return button

    def _init_layout(self) -> None:
        # Toggles above the box, Send and Stop beside it: the chat may be ~320 px wide (a 900x600 window) and one
        # row with everything cut the check boxes' labels there.
        toggles = QHBoxLayout()
        toggles.setContentsMargins(0, 0, 0, 0)
        toggles.setSpacing(4)
        for widget in (self.attach_button, self.mic_button, self.segment_check, self.audio_check):
            toggles.addWidget(widget)
        toggles.addStretch(1)
        toggles.addWidget(self.queue_label)
        buttons = QVBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.setSpacing(4)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        question_row = QHBoxLayout()
        question_row.setContentsMargins(0, 0, 0, 0)
        question_row.setSpacing(6)
        question_row.addWidget(self.edit, 1)
        question_row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.attachments)
        layout.addLayout(toggles)
        layout.addLayout(question_row)

    def _init_signals(self) -> None:
        self.edit.submit_requested.connect(self.submit)
        self.edit.images_pasted.connect(self.add_images)
        self.edit.image_data_pasted.connect(self.add_image_data)
        self.send_button.clicked.connect(self.submit)
        self.stop_button.clicked.connect(self.stop_requested)
        self.attach_button.clicked.connect(self.attach_requested)
        self.mic_button.clicked.connect(lambda _c: self.record_toggled.emit())
        self.audio_check.toggled.connect(self.include_audio_toggled)

    # ---- public API ---------------------------------------------------------------------------------------
    def set_paste_folder(self, folder: Path) -> None:
        """Where pasted image data is saved (as PNG) so it can be attached by path."""
        self._paste_folder = folder

    def text(self) -> str:
        return self.edit.toPlainText()

    def set_text(self, text: str) -> None:
        self.edit.setPlainText(text)

    def add_images(self, paths: list[str]) -> None:
        for path in paths:
            if not self.attachments.add_image(path):
                self.attachment_failed.emit(f"'{Path(path).name}' is not an image Vidi can read.")

    def add_image_data(self, image: QImage) -> None:
        folder = self._paste_folder or Path.home()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"pasted-{time.strftime('%Y%m%d-%H%M%S')}-{int(time.time() * 1000) % 1000:03d}.png"
        if image.save(str(path), "PNG"):
            self.add_images([str(path)])
        else:
            self.attachment_failed.emit("The pasted image could not be saved.")

    def set_audio_clip(self, path: str | None) -> None:
        self.attachments.set_audio(path)

    def with_segment(self) -> bool:
        return self.segment_check.isChecked() and self.segment_check.isEnabled()

    def set_video_open(self, is_open: bool) -> None:
        self.segment_check.setEnabled(is_open)
        self.segment_check.setChecked(True)

    def include_audio(self) -> bool:
        return self.audio_check.isChecked() and self.audio_check.isEnabled()

    def set_include_audio(self, checked: bool) -> None:
        self.audio_check.setChecked(checked)

    def set_audio_supported(self, supported: bool, reason: str = "") -> None:
        self.audio_check.setEnabled(supported)
        self.audio_check.setToolTip(
            "Send the segment's own sound with the question" if supported else reason
        )

    def set_mic_available(self, available: bool, reason: str = "") -> None:
        self.mic_button.setEnabled(available)
        self.mic_button.setToolTip("Record a short voice question (click again to stop)" if available else reason)
        self.mic_button.setStatusTip(self.mic_button.toolTip())
        self.mic_button.setAccessibleDescription(self.mic_button.toolTip())

    def set_recording(self, recording: bool) -> None:
        self.mic_button.setChecked(recording)
        self.mic_button.setIcon(icon("mic-recording" if recording else "mic"))

    def set_busy(self, busy: bool, num_waiting: int = 0) -> None:
        """``busy``: an answer is being made (Stop enabled); ``num_waiting``: questions queued behind it."""
        self.stop_button.setEnabled(busy)
        self.queue_label.setText(f"{num_waiting} waiting" if num_waiting else "")

    def submit(self) -> None:
        text = self.text().strip()
        images = self.attachments.image_paths()
        audio = self.attachments.audio_path()
        if not text and not images and not audio:
            return
        if self.submit_guard is not None and not self.submit_guard():
            return  # e.g. no model chosen yet: the question and its attachments stay here, nothing is lost
        self.question_submitted.emit(text, images, audio, self.with_segment())

    def clear_question(self) -> None:
        """The question was accepted: empty the box and its attachments."""
        self.edit.clear()
        self.attachments.clear()

    def restore_question(self, text: str, image_paths: list[str], audio_path: str | None) -> bool:
        """Put a refused question back, unless the user has started another one. True when it was put back."""
        if self.text().strip() or self.attachments.image_paths() or self.attachments.audio_path():
            return False
        self.set_text(text)
        self.add_images(list(image_paths))
        if audio_path:
            self.set_audio_clip(audio_path)
        return True
