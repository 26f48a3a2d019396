"""Images (and a voice clip) attached to the next question, as small removable thumbnails."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from desktop_app.resources import icon

THUMB_PX = 48


class _Chip(QWidget):
    remove_requested = Signal(str)

    def __init__(self, path: str, pixmap: QPixmap | None, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        label = QLabel(self)
        if pixmap is not None:
            label.setPixmap(pixmap)
        else:
            label.setText(text)
        label.setToolTip(path)
        remove = QToolButton(self)
        remove.setIcon(icon("close"))
        remove.setIconSize(QSize(10, 10))
        remove.setAutoRaise(True)
        remove.setToolTip("Remove this attachment")
        remove.clicked.connect(lambda: self.remove_requested.emit(self.path))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(label)
        column = QVBoxLayout()
        column.addWidget(remove)
        column.addStretch(1)
        layout.addLayout(column)


class AttachmentStrip(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images: list[str] = []
        self._audio: str | None = None
        self._chips: dict[str, _Chip] = {}
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._layout.addStretch(1)
        self.setVisible(False)

    def image_paths(self) -> list[str]:
        return list(self._images)

    def audio_path(self) -> str | None:
        return self._audio

    def add_image(self, path: str) -> bool:
        """Attach an image; False (and nothing attached) when Qt cannot read it as an image."""
        path = str(path)
        if path in self._images:
            return True
        image = QImage(path)
        if image.isNull():
            return False
        pixmap = QPixmap.fromImage(image.scaled(THUMB_PX, THUMB_PX, Qt.AspectRatioMode.KeepAspectRatio,
                                                Qt.TransformationMode.SmoothTransformation))
        self._images.append(path)
        self._add_chip(path, pixmap, Path(path).name)
        return True

    def set_audio(self, path: str | None) -> None:
        if self._audio is not None:
            self.remove(self._audio)
        self._audio = path
        if path is not None:
            self._add_chip(path, None, "🎤 voice clip")

    def _add_chip(self, path: str, pixmap: QPixmap | None, text: str) -> None:
        chip = _Chip(path, pixmap, text, self)
        chip.remove_requested.connect(self.remove)
        self._chips[path] = chip
        self._layout.insertWidget(self._layout.count() - 1, chip)
        self.setVisible(True)
        self.changed.emit()

    def remove(self, path: str) -> None:
        chip = self._chips.pop(path, None)
        if chip is not None:
            chip.deleteLater()
        if path in self._images:
            self._images.remove(path)
        if path == self._audio:
            self._audio = None
        self.setVisible(bool(self._chips))
        self.changed.emit()

    def clear(self) -> None:
        for path in list(self._chips):
            self.remove(path)
