"""The painted timeline: a thumbnail strip, a time ruler, the playhead, the segment selection, asked segments and
chapter markers with their titles (chapter_marks.py).

Times are int milliseconds. The widget holds its own small state (duration, position, selection, thumbnails,
marks) and reports what the user does through intent signals; it never reads its parent.

Mouse: click seeks; drag on empty strip draws a new selection; drag a handle to resize; drag inside the selection
to move it. Double-click selects nothing (whole video).
"""

from __future__ import annotations

from enum import Enum, auto

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPainterPath, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from desktop_app.timefmt import format_clock_s
from desktop_app.timeline.chapter_marks import ChapterMark, chapter_at_ms, paint_chapters

RULER_H = 16
STRIP_H = 48
MARKS_H = 6
HANDLE_GRAB_PX = 7
DRAG_START_PX = 4
MIN_SELECTION_MS = 100


class _Drag(Enum):
    NONE = auto()
    SEEK_OR_CREATE = auto()
    CREATE = auto()
    START_HANDLE = auto()
    END_HANDLE = auto()
    MOVE = auto()


class TimelineWidget(QWidget):
    _HELP = "Click to seek · drag to select a segment · drag its handles to resize it"
    seek_requested = Signal(int)  # position_ms
    selection_changed = Signal(int, int)  # start_ms, end_ms
    selection_cleared = Signal()  # the whole video is selected

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._duration_ms = 0
        self._position_ms = 0
        self._selection: tuple[int, int] | None = None
        self._thumbnails: list[QImage] = []
        self._asked: list[tuple[int, int]] = []
        self._chapters: list[ChapterMark] = []
        self._drag = _Drag.NONE
        self._press_x = 0.0
        self._press_selection: tuple[int, int] | None = None
        self.setMinimumHeight(RULER_H + STRIP_H + MARKS_H + 6)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setToolTip(self._HELP)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(600, RULER_H + STRIP_H + MARKS_H + 6)

    # ---- state in -----------------------------------------------------------------------------------------
    def set_duration_ms(self, duration_ms: int) -> None:
        self._duration_ms = max(0, int(duration_ms))
        self.update()

    def duration_ms(self) -> int:
        return self._duration_ms

    def set_position_ms(self, position_ms: int) -> None:
        if position_ms != self._position_ms:
            self._position_ms = int(position_ms)
            self.update()

    def position_ms(self) -> int:
        return self._position_ms

    def set_thumbnails(self, images: list[QImage]) -> None:
        self._thumbnails = list(images)
        self.update()

    def set_asked_segments(self, segments_ms: list[tuple[int, int]]) -> None:
        self._asked = [(int(a), int(b)) for a, b in segments_ms]
        self.update()

    def asked_segments(self) -> list[tuple[int, int]]:
        return list(self._asked)

    def set_chapters(self, chapters: list) -> None:
        """Show chapter markers: records with ``start_s``, ``end_s`` and ``title`` (the index's Chapter)."""
        self._chapters = [ChapterMark(round(c.start_s * 1000), round(c.end_s * 1000), c.title) for c in chapters]
        self.update()

    def chapters(self) -> list[ChapterMark]:
        return list(self._chapters)

    def selection_ms(self) -> tuple[int, int] | None:
        return self._selection

    def set_selection_ms(self, start_ms: int, end_ms: int, emit: bool = True) -> None:
        """Select [start_ms, end_ms] (ordered and clamped to the video); emits selection_changed if ``emit``."""
        start_ms, end_ms = sorted((int(start_ms), int(end_ms)))
        if self._duration_ms > 0:
            start_ms = max(0, min(start_ms, self._duration_ms))
            end_ms = max(0, min(end_ms, self._duration_ms))
        if end_ms - start_ms < MIN_SELECTION_MS:
            end_ms = start_ms + MIN_SELECTION_MS
            if self._duration_ms and end_ms > self._duration_ms:
                end_ms, start_ms = self._duration_ms, max(0, self._duration_ms - MIN_SELECTION_MS)
        self._selection = (start_ms, end_ms)
        self.update()
        if emit:
            self.selection_changed.emit(start_ms, end_ms)

    def clear_selection(self, emit: bool = True) -> None:
        self._selection = None
        self.update()
        if emit:
            self.selection_cleared.emit()

    def reset(self) -> None:
        self._duration_ms = self._position_ms = 0
        self._selection = None
        self._thumbnails = []
        self._asked = []
        self._chapters = []
        self.update()

    # ---- geometry -----------------------------------------------------------------------------------------
    def _strip_rect(self) -> QRectF:
        return QRectF(4, RULER_H, max(1, self.width() - 8), STRIP_H)

    def x_for_ms(self, time_ms: int) -> float:
        strip = self._strip_rect()
        if self._duration_ms <= 0:
            return strip.left()
        return strip.left() + strip.width() * max(0, min(time_ms, self._duration_ms)) / self._duration_ms

    def ms_for_x(self, x: float) -> int:
        strip = self._strip_rect()
        if self._duration_ms <= 0:
            return 0
        fraction = (x - strip.left()) / strip.width()
        return round(max(0.0, min(1.0, fraction)) * self._duration_ms)

    # ---- mouse --------------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self._duration_ms <= 0:
            return super().mousePressEvent(event)
        x = event.position().x()
        self._press_x = x
        self._press_selection = self._selection
        self._drag = self._hit(x)
        if self._drag == _Drag.SEEK_OR_CREATE:
            self.seek_requested.emit(self.ms_for_x(x))
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        x = event.position().x()
        if self._drag == _Drag.NONE:
            hit = self._hit(x)
            shape = {
                _Drag.START_HANDLE: Qt.CursorShape.SizeHorCursor,
                _Drag.END_HANDLE: Qt.CursorShape.SizeHorCursor,
                _Drag.MOVE: Qt.CursorShape.OpenHandCursor,
            }.get(hit, Qt.CursorShape.ArrowCursor)
            self.setCursor(shape)
            chapter = chapter_at_ms(self._chapters, self.ms_for_x(x))
            self.setToolTip(f"Chapter: {chapter.title}" if chapter else self._HELP)
            return
        time_ms = self.ms_for_x(x)
        if self._drag == _Drag.SEEK_OR_CREATE and abs(x - self._press_x) >= DRAG_START_PX:
            self._drag = _Drag.CREATE
        if self._drag == _Drag.CREATE:
            self.set_selection_ms(self.ms_for_x(self._press_x), time_ms, emit=False)
        elif self._drag in (_Drag.START_HANDLE, _Drag.END_HANDLE) and self._selection:
            start, end = self._selection
            if self._drag == _Drag.START_HANDLE:
                start = min(time_ms, end - MIN_SELECTION_MS)
            else:
                end = max(time_ms, start + MIN_SELECTION_MS)
            self.set_selection_ms(start, end, emit=False)
        elif self._drag == _Drag.MOVE and self._press_selection:
            start, end = self._press_selection
            delta = time_ms - self.ms_for_x(self._press_x)
            delta = max(-start, min(delta, self._duration_ms - end))
            self.set_selection_ms(start + delta, end + delta, emit=False)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        drag, self._drag = self._drag, _Drag.NONE
        if drag in (_Drag.CREATE, _Drag.START_HANDLE, _Drag.END_HANDLE, _Drag.MOVE) and self._selection:
            if self._selection != self._press_selection:
                self.selection_changed.emit(*self._selection)
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._selection is not None and self._hit(event.position().x()) == _Drag.MOVE:
            self.clear_selection()

    def _hit(self, x: float) -> _Drag:
        if self._selection is not None:
            start_x, end_x = (self.x_for_ms(t) for t in self._selection)
            if abs(x - start_x) <= HANDLE_GRAB_PX and abs(x - start_x) <= abs(x - end_x):
                return _Drag.START_HANDLE
            if abs(x - end_x) <= HANDLE_GRAB_PX:
                return _Drag.END_HANDLE
            if start_x < x < end_x:
                return _Drag.MOVE
        return _Drag.SEEK_OR_CREATE

    # ---- painting -----------------------------------------------------------------------------------------
    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        strip = self._strip_rect()
        self._paint_ruler(painter, palette, strip)
        self._paint_strip(painter, palette, strip)
        paint_chapters(painter, strip, self._chapters, self.x_for_ms)
        self._paint_asked(painter, strip)
        self._paint_selection(painter, palette, strip)
        self._paint_playhead(painter, palette, strip)
        painter.end()

    def _paint_ruler(self, painter: QPainter, palette: QPalette, strip: QRectF) -> None:
        if self._duration_ms <= 0:
            return
        text_color = palette.color(QPalette.ColorRole.PlaceholderText)
        painter.setPen(QPen(text_color, 1))
        font = painter.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        painter.setFont(font)
        duration_s = self._duration_ms / 1000
        min_gap_px = 70
        step_s = next(
            (s for s in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
             if strip.width() * s / duration_s >= min_gap_px),
            3600,
        )
        tick_s = 0.0
        while tick_s <= duration_s + 1e-6:
            x = self.x_for_ms(round(tick_s * 1000))
            painter.drawLine(QPointF(x, RULER_H - 4), QPointF(x, RULER_H))
            label = format_clock_s(tick_s) if step_s >= 1 else f"{tick_s:.1f}"
            if x + 30 < strip.right() or tick_s == 0:
                painter.drawText(QPointF(x + 2, RULER_H - 5), label)
            tick_s += step_s

    def _paint_strip(self, painter: QPainter, palette: QPalette, strip: QRectF) -> None:
        painter.fillRect(strip, palette.color(QPalette.ColorRole.AlternateBase))
        if self._thumbnails:
            tile_w = strip.width() / len(self._thumbnails)
            for index, image in enumerate(self._thumbnails):
                target = QRectF(strip.left() + index * tile_w, strip.top(), tile_w + 0.5, strip.height())
                painter.drawImage(target, image, self._crop_to(image, target))
        painter.setPen(QPen(palette.color(QPalette.ColorRole.Mid), 1))
        painter.drawRect(strip)

    @staticmethod
    def _crop_to(image: QImage, target: QRectF) -> QRectF:
        """The part of ``image`` with ``target``'s aspect ratio, centred (fill without distortion)."""
        w, h = image.width(), image.height()
        if w <= 0 or h <= 0 or target.height() <= 0:
            return QRectF(0, 0, w, h)
        aspect = target.width() / target.height()
        if w / h > aspect:
            crop_w = h * aspect
            return QRectF((w - crop_w) / 2, 0, crop_w, h)
        crop_h = w / aspect
        return QRectF(0, (h - crop_h) / 2, w, crop_h)

    def _paint_asked(self, painter: QPainter, strip: QRectF) -> None:
        color = QColor(255, 176, 32)
        top = strip.bottom() + 2
        for start, end in self._asked:
            x0, x1 = self.x_for_ms(start), self.x_for_ms(end)
            painter.fillRect(QRectF(x0, top, max(2.0, x1 - x0), MARKS_H - 2), color)

    def _paint_selection(self, painter: QPainter, palette: QPalette, strip: QRectF) -> None:
        if self._selection is None or self._duration_ms <= 0:
            return
        x0, x1 = (self.x_for_ms(t) for t in self._selection)
        accent = palette.color(QPalette.ColorRole.Highlight)
        shade = QColor(0, 0, 0, 110)
        painter.fillRect(QRectF(strip.left(), strip.top(), x0 - strip.left(), strip.height()), shade)
        painter.fillRect(QRectF(x1, strip.top(), strip.right() - x1, strip.height()), shade)
        band = QColor(accent)
        band.setAlpha(45)
        painter.fillRect(QRectF(x0, strip.top(), x1 - x0, strip.height()), band)
        painter.setPen(QPen(accent, 2))
        painter.drawLine(QPointF(x0, strip.top()), QPointF(x1, strip.top()))
        painter.drawLine(QPointF(x0, strip.bottom()), QPointF(x1, strip.bottom()))
        for x in (x0, x1):
            handle = QRectF(x - 3.5, strip.top() - 2, 7, strip.height() + 4)
            painter.setBrush(accent)
            painter.drawRoundedRect(handle, 2.5, 2.5)
            painter.setPen(QPen(QColor(255, 255, 255, 200), 1))
            for dy in (-5, 0, 5):
                y = strip.center().y() + dy
                painter.drawLine(QPointF(x - 1.5, y), QPointF(x + 1.5, y))
            painter.setPen(QPen(accent, 2))

    def _paint_playhead(self, painter: QPainter, palette: QPalette, strip: QRectF) -> None:
        if self._duration_ms <= 0:
            return
        x = self.x_for_ms(self._position_ms)
        color = QColor(230, 57, 70)
        painter.setPen(QPen(color, 2))
        painter.drawLine(QPointF(x, RULER_H - 2), QPointF(x, strip.bottom() + MARKS_H))
        head = QPainterPath()
        head.moveTo(x - 5, RULER_H - 8)
        head.lineTo(x + 5, RULER_H - 8)
        head.lineTo(x, RULER_H - 1)
        head.closeSubpath()
        painter.fillPath(head, color)
