"""The index's corner of the status bar: the open video's state ("Indexed: transcript, scenes" / "Not indexed")
and an Index button; while a build runs, in their place, its progress (part, percent, ETA) and a Stop button."""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget


class IndexStatus(QWidget):
    def __init__(self, index_action: QAction, stop_action: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state_label = QLabel("Not indexed", self)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 100)
        self.progress_bar.setFixedWidth(130)
        self.progress_bar.setTextVisible(True)
        self.progress_label = QLabel("", self)
        self.index_button = _button("Index", "Index this video: transcript, scenes, chapters (Ctrl+I)",
                                    index_action, self)
        self.stop_button = _button("Stop", "Stop indexing: what is built is kept, and indexing again goes on "
                                   "where it stopped", stop_action, self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.setSpacing(6)
        for widget in (self.state_label, self.progress_label, self.progress_bar, self.index_button,
                       self.stop_button):
            layout.addWidget(widget)
        self.set_running(False)

    def set_state(self, text: str, details: str) -> None:
        self.state_label.setText(text)
        self.state_label.setToolTip(details)

    def set_running(self, running: bool) -> None:
        """While a build runs its progress line says what is being built: the state line makes room for it
        (a 900 px wide window has no room for both)."""
        self.state_label.setVisible(not running)
        self.progress_bar.setVisible(running)
        self.progress_label.setVisible(running)
        self.stop_button.setVisible(running)
        self.index_button.setVisible(not running)
        if not running:
            self.progress_bar.setValue(0)
            self.progress_label.clear()

    def set_progress(self, text: str, percent: int) -> None:
        """``percent`` -1: busy without a known fraction (stopping)."""
        if percent < 0:
            self.progress_bar.setRange(0, 0)
        else:
            self.progress_bar.setRange(0, 100)
            self.progress_bar.setValue(max(0, min(100, percent)))
        self.progress_label.setText(text)
        self.progress_bar.setToolTip(text)


def _button(text: str, tip: str, action: QAction, parent: QWidget) -> QToolButton:
    """A short-labelled button for ``action`` (a default action would take the action's long menu text)."""
    button = QToolButton(parent)
    button.setText(text)
    button.setToolTip(tip)
    button.clicked.connect(action.trigger)
    return button
