"""Chapter markers painted on the timeline's thumbnail strip: a line where each chapter starts and its title,
elided to the chapter's width, on a dark band at the top of the strip (readable over any thumbnail)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen

TITLE_BAND_H = 15
MIN_TITLE_PX = 18
"""A chapter narrower than this shows its line only (its title is in the tooltip)."""


@dataclass(frozen=True)
class ChapterMark:
    start_ms: int
    end_ms: int
    title: str


def chapter_at_ms(chapters: Sequence[ChapterMark], time_ms: int) -> ChapterMark | None:
    return next((c for c in chapters if c.start_ms <= time_ms < c.end_ms), None)


def paint_chapters(painter: QPainter, strip: QRectF, chapters: Sequence[ChapterMark],
                   x_for_ms: Callable[[int], float]) -> None:
    if not chapters:
        return
    painter.save()
    font = painter.font()
    font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
    painter.setFont(font)
    metrics = QFontMetricsF(font)
    band = QRectF(strip.left(), strip.top(), strip.width(), TITLE_BAND_H)
    painter.fillRect(band, QColor(0, 0, 0, 150))
    for chapter in chapters:
        x0, x1 = x_for_ms(chapter.start_ms), x_for_ms(chapter.end_ms)
        if chapter.start_ms > 0:
            painter.setPen(QPen(QColor(0, 0, 0, 160), 3))
            painter.drawLine(QPointF(x0, strip.top()), QPointF(x0, strip.bottom()))
            painter.setPen(QPen(QColor(255, 255, 255, 230), 1.5))
            painter.drawLine(QPointF(x0, strip.top()), QPointF(x0, strip.bottom()))
        width = x1 - x0 - 6
        if width >= MIN_TITLE_PX:
            painter.setPen(QColor(255, 255, 255))
            title = metrics.elidedText(chapter.title, Qt.TextElideMode.ElideRight, width)
            painter.drawText(QRectF(x0 + 4, band.top(), width, band.height()),
                             int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), title)
    painter.restore()
