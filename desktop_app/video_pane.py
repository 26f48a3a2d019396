"""The left side of the window: the player, the timeline under it and the segment bar, kept in step.

Owns the segment logic the user drives from here (drag on the timeline, I/O at the playhead, whole video) and
reports the result as ``selection_changed(start_ms, end_ms)`` / ``selection_cleared()``.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop_app.player.video_player import VideoPlayer
from desktop_app.timeline.segment_bar import SegmentBar
from desktop_app.timeline.timeline_widget import TimelineWidget


class VideoPane(QWidget):
    selection_changed = Signal(int, int)  # start_ms, end_ms
    selection_cleared = Signal()  # the whole video

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = VideoPlayer(self)
        self.timeline = TimelineWidget(self)
        self.segment_bar = SegmentBar(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        layout.setSpacing(4)
        layout.addWidget(self.player, 1)
        layout.addWidget(self.timeline)
        layout.addWidget(self.segment_bar)
        self._init_signals()

    def _init_signals(self) -> None:
        p, t = self.player, self.timeline
        p.duration_ms_changed.connect(lambda ms: t.set_duration_ms(ms) if ms > 0 else None)
        p.position_ms_changed.connect(t.set_position_ms)
        t.seek_requested.connect(p.set_position_ms)
        t.selection_changed.connect(self._on_selection_changed)
        t.selection_cleared.connect(self._on_selection_cleared)
        self.segment_bar.mark_in_requested.connect(self.mark_in)
        self.segment_bar.mark_out_requested.connect(self.mark_out)
        self.segment_bar.whole_video_requested.connect(self.select_whole_video)

    def load(self, path: str, duration_ms: int, frame_rate: float) -> None:
        self.timeline.reset()
        self.timeline.set_duration_ms(duration_ms)
        self.player.load(path, frame_rate=frame_rate)
        self.segment_bar.show_segment(None, duration_ms)

    def set_thumbnails(self, path: str, images: list[QImage]) -> None:
        if path == self.player.path:
            self.timeline.set_thumbnails(images)

    def mark_in(self) -> None:
        """Start the segment at the playhead (its end stays, or becomes the end of the video)."""
        if self.timeline.duration_ms() <= 0:
            return
        position = self.player.position_ms()
        selection = self.timeline.selection_ms()
        end = selection[1] if selection else self.timeline.duration_ms()
        if end <= position:
            end = self.timeline.duration_ms()
        self.timeline.set_selection_ms(position, end)

    def mark_out(self) -> None:
        """End the segment at the playhead (its start stays, or becomes the start of the video)."""
        if self.timeline.duration_ms() <= 0:
            return
        position = self.player.position_ms()
        selection = self.timeline.selection_ms()
        start = selection[0] if selection else 0
        if start >= position:
            start = 0
        self.timeline.set_selection_ms(start, position)

    def select_whole_video(self) -> None:
        self.timeline.clear_selection()

    def show_moment(self, start_ms: int, end_ms: int) -> None:
        """Select [start_ms, end_ms] as the segment and put the playhead at its start (a source of an answer)."""
        self.timeline.set_selection_ms(start_ms, end_ms)
        self.seek_to_ms(start_ms)

    def seek_to_ms(self, position_ms: int) -> None:
        self.player.set_position_ms(position_ms)
        self.timeline.set_position_ms(position_ms)

    def _on_selection_changed(self, start_ms: int, end_ms: int) -> None:
        self.segment_bar.show_segment((start_ms, end_ms), self.timeline.duration_ms())
        self.selection_changed.emit(start_ms, end_ms)

    def _on_selection_cleared(self) -> None:
        self.segment_bar.show_segment(None, self.timeline.duration_ms())
        self.selection_cleared.emit()
