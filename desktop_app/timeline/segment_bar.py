"""The row under the timeline: the selected segment's start, end and length (m:ss.f), mark in/out, whole video."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from desktop_app.resources import icon
from desktop_app.timefmt import format_time_s


class SegmentBar(QWidget):
    mark_in_requested = Signal()
    mark_out_requested = Signal()
    whole_video_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mark_in_button = self._button("mark-in", "Set the segment start at the playhead (I)", "Start")
        self.mark_out_button = self._button("mark-out", "Set the segment end at the playhead (O)", "End")
        self.whole_button = self._button("whole", "Ask about the whole video (W)", "Whole video")
        self.whole_button.setCheckable(True)
        self.label = QLabel(self)
        self.label.setObjectName("segmentLabel")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(self.label, 1)
        for button in (self.mark_in_button, self.mark_out_button, self.whole_button):
            layout.addWidget(button)
        self.mark_in_button.clicked.connect(self.mark_in_requested)
        self.mark_out_button.clicked.connect(self.mark_out_requested)
        self.whole_button.clicked.connect(self.whole_video_requested)
        self.show_segment(None, 0)

    def _button(self, icon_name: str, tip: str, text: str) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icon(icon_name))
        button.setIconSize(QSize(18, 18))
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        from PySide6.QtCore import Qt

        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        return button

    def show_segment(self, selection_ms: tuple[int, int] | None, duration_ms: int) -> None:
        if selection_ms is None:
            self.whole_button.setChecked(True)
            if duration_ms > 0:
                self.label.setText(f"<b>Whole video</b> · 0:00.0 – {format_time_s(duration_ms / 1000)}"
                                   f" ({duration_ms / 1000:.1f} s)")
            else:
                self.label.setText("<i>Open a video (Ctrl+O) or drop one here</i>")
            return
        self.whole_button.setChecked(False)
        start_s, end_s = selection_ms[0] / 1000, selection_ms[1] / 1000
        self.label.setText(
            f"<b>Segment</b> {format_time_s(start_s)} – {format_time_s(end_s)}"
            f" · length {format_time_s(end_s - start_s)}"
        )
