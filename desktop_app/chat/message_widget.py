"""One exchange in the chat: the question (with its segment, frames and attachments) and the streamed answer.

The answer is Markdown rendered by QTextBrowser; timestamps in it are ``vidi-seek:`` links (see timefmt) that emit
``seek_requested(ms)``. Re-rendering is throttled so a fast stream never stalls the GUI.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.chat.exchange import AnswerState, Exchange
from desktop_app.chat.source_chips import SourceChips
from desktop_app.resources import icon
from desktop_app.timefmt import format_time_s, linkify_timestamps, time_from_seek_url

RENDER_INTERVAL_MS = 50
THUMB_HEIGHT_PX = 54
STATE_ICON_PX = 14
STATE_ICONS = {
    AnswerState.QUEUED: "waiting",
    AnswerState.LOADING: "waiting",
    AnswerState.ANSWERING: "answering",
    AnswerState.STOPPED: "stop",
    AnswerState.FAILED: "warning",
}
"""Drawn from resources/icons, not emoji: many Linux desktops have no emoji font and show an empty box instead."""


def _thumb_label(pixmap: QPixmap, tip: str, parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setPixmap(pixmap)
    label.setToolTip(tip)
    label.setObjectName("thumb")
    return label


class MarkdownView(QTextBrowser):
    """A QTextBrowser that is as tall as its text (the chat scroll area scrolls, not each message)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextBrowser { background: transparent; }")
        self.document().setDocumentMargin(2)
        self.document().documentLayout().documentSizeChanged.connect(lambda _s: self._fit_height())

    def _fit_height(self) -> None:
        self.document().setTextWidth(self.viewport().width())
        height = int(self.document().size().height()) + 4
        if self.height() != height:
            self.setFixedHeight(max(height, 22))

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_height()


class QuestionView(QFrame):
    """The user's question: text, then what it was about (segment chip, frames the model saw, attachments)."""

    def __init__(self, exchange: Exchange, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("question")
        self.text_label = QLabel(exchange.question, self)
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.about_label = QLabel(self)
        self.about_label.setObjectName("about")
        self.about_label.setWordWrap(True)  # a narrow chat wraps the line instead of cutting it
        self.frames_strip = QScrollArea(self)  # a row of thumbnails that scrolls instead of widening the chat
        self.frames_strip.setFrameShape(QFrame.Shape.NoFrame)
        self.frames_strip.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.frames_strip.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.frames_strip.setWidgetResizable(True)
        self.frames_strip.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }")
        strip_content = QWidget()
        self.frames_row = QHBoxLayout(strip_content)
        self.frames_row.setContentsMargins(0, 0, 0, 0)
        self.frames_row.setSpacing(3)
        self.frames_row.addStretch(1)
        self.frames_strip.setWidget(strip_content)
        self.frames_strip.setFixedHeight(THUMB_HEIGHT_PX + 14)
        self.frames_strip.setVisible(False)
        self.num_frame_thumbs = 0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        layout.addWidget(self.text_label)
        layout.addWidget(self.about_label)
        layout.addWidget(self.frames_strip)
        self.show_about(exchange)
        self._add_attachments(exchange)

    def show_about(self, exchange: Exchange) -> None:
        parts = []
        if exchange.whole_video:
            parts.append("Whole video")
        elif exchange.segment_ms is not None:
            start_s, end_s = exchange.segment_ms[0] / 1000, exchange.segment_ms[1] / 1000
            parts.append(f"Segment {format_time_s(start_s)} – {format_time_s(end_s)} ({end_s - start_s:.1f} s)")
        if exchange.heard_audio is not None and (exchange.segment_ms is not None or exchange.whole_video):
            parts.append("with audio" if exchange.heard_audio else "no audio")  # what the model heard, from its run
        if exchange.image_paths:
            parts.append(f"{len(exchange.image_paths)} image{'s' if len(exchange.image_paths) > 1 else ''}")
        if exchange.audio_path:
            parts.append("voice clip")
        if exchange.frame_times_s:
            seen = f"{len(exchange.frame_times_s)} frame{'s' if len(exchange.frame_times_s) != 1 else ''} seen"
            if exchange.earlier_frames:
                seen += f" (and {exchange.earlier_frames} of earlier questions)"
            parts.append(seen)
        self.about_label.setText(" · ".join(parts))
        self.about_label.setVisible(bool(parts))

    def _add_attachments(self, exchange: Exchange) -> None:
        for path in exchange.image_paths:
            image = QImage(path)
            if image.isNull():
                continue
            pixmap = QPixmap.fromImage(image.scaledToHeight(THUMB_HEIGHT_PX, Qt.TransformationMode.SmoothTransformation))
            self.frames_row.insertWidget(self.frames_row.count() - 1, _thumb_label(pixmap, Path(path).name, self))
            self.frames_strip.setVisible(True)

    def set_frames(self, images: list[QImage], times_s: list[float]) -> None:
        """Show the frames the model saw (small thumbnails, each with its time), replacing any shown before."""
        while self.num_frame_thumbs:
            item = self.frames_row.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
            self.num_frame_thumbs -= 1
        for index, image in enumerate(images):
            pixmap = QPixmap.fromImage(image.scaledToHeight(THUMB_HEIGHT_PX - 14, Qt.TransformationMode.SmoothTransformation))
            tip = f"frame at {format_time_s(times_s[index])}" if index < len(times_s) else "frame"
            self.frames_row.insertWidget(self.num_frame_thumbs, _thumb_label(pixmap, tip, self))
            self.num_frame_thumbs += 1
        self.frames_strip.setVisible(self.frames_row.count() > 1)


class AnswerView(QFrame):
    """The streamed answer, its state line and a copy button."""

    seek_requested = Signal(int)  # position_ms

    def __init__(self, exchange: Exchange, duration_s: float | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("answer")
        self._text = exchange.answer
        self._duration_s = duration_s
        self._render_pending = False
        self.browser = MarkdownView(self)
        self.browser.anchorClicked.connect(self._on_anchor_clicked)
        self.state_icon = QLabel(self)
        self.state_icon.setFixedSize(STATE_ICON_PX, STATE_ICON_PX)
        self.state_label = QLabel(self)
        self.state_label.setObjectName("answerState")
        self.state_label.setWordWrap(True)
        self.copy_button = QToolButton(self)
        self.copy_button.setIcon(icon("copy"))
        self.copy_button.setIconSize(QSize(16, 16))
        self.copy_button.setAutoRaise(True)
        self.copy_button.setToolTip("Copy the answer")
        self.copy_button.clicked.connect(self.copy_to_clipboard)
        footer = QHBoxLayout()
        footer.setSpacing(5)
        footer.addWidget(self.state_icon, 0, Qt.AlignmentFlag.AlignTop)
        footer.addWidget(self.state_label, 1)
        footer.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        layout.addWidget(self.browser)
        layout.addLayout(footer)
        self._render()
        self.set_state(exchange.state, exchange.detail)

    @property
    def text(self) -> str:
        return self._text

    def append(self, piece: str) -> None:
        self._text += piece
        if not self._render_pending:
            self._render_pending = True
            QTimer.singleShot(RENDER_INTERVAL_MS, self._render)

    def set_text(self, text: str) -> None:
        self._text = text
        self._render()

    def flush(self) -> None:
        self._render()

    def _render(self) -> None:
        self._render_pending = False
        self.browser.setMarkdown(linkify_timestamps(self._text, self._duration_s))
        self.browser.setVisible(bool(self._text.strip()))
        self.copy_button.setEnabled(bool(self._text.strip()))

    def set_state(self, state: AnswerState, detail: str = "") -> None:
        self.state = state
        text = {
            AnswerState.QUEUED: "Waiting" + (f" — {detail}" if detail else "…"),
            AnswerState.LOADING: "Loading the model" + (f" — {detail}" if detail else "…"),
            AnswerState.ANSWERING: "Answering…",
            AnswerState.DONE: detail,
            AnswerState.STOPPED: "Stopped" + (f" — {detail}" if detail else ""),
            AnswerState.FAILED: detail or "The model could not answer.",
        }[state]
        icon_name = STATE_ICONS.get(state)
        self.state_icon.setPixmap(icon(icon_name).pixmap(STATE_ICON_PX, STATE_ICON_PX) if icon_name else QPixmap())
        self.state_icon.setVisible(icon_name is not None)
        self.state_label.setText(text)
        self.state_label.setVisible(bool(text))
        self.state_label.setProperty("failed", state == AnswerState.FAILED)
        self.state_label.setStyleSheet("color: #d9534f;" if state == AnswerState.FAILED else "")
        if state.is_final:
            self.flush()

    def copy_to_clipboard(self) -> None:
        QGuiApplication.clipboard().setText(self._text)

    def _on_anchor_clicked(self, url: QUrl) -> None:
        time_s = time_from_seek_url(url.toString())
        if time_s is not None:
            self.seek_requested.emit(round(time_s * 1000))
        elif url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)


class ExchangeWidget(QWidget):
    """A question and its answer, stacked."""

    seek_requested = Signal(int)
    source_selected = Signal(int, int)  # start_ms, end_ms: a source chip was clicked

    def __init__(self, exchange: Exchange, duration_s: float | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.exchange = exchange
        self.question_view = QuestionView(exchange, self)
        self.answer_view = AnswerView(exchange, duration_s, self)
        self.answer_view.seek_requested.connect(self.seek_requested)
        self.source_chips = SourceChips(self)
        self.source_chips.source_clicked.connect(self.source_selected)
        self.source_chips.set_sources(exchange.sources)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.question_view)
        layout.addWidget(self.answer_view)
        layout.addWidget(self.source_chips)

    def append(self, piece: str) -> None:
        self.answer_view.append(piece)  # the controller keeps exchange.answer; the view keeps its own copy

    def set_state(self, state: AnswerState, detail: str = "") -> None:
        self.exchange.state, self.exchange.detail = state, detail
        self.answer_view.set_state(state, detail)

    def set_frames(self, images: list[QImage], times_s: list[float]) -> None:
        """Thumbnails of (some of) the frames the model saw; the counts come from ``set_evidence``, not from these."""
        self.question_view.set_frames(images, times_s)

    def set_sources(self, sources: list[tuple[int, int, str]]) -> None:
        """A whole-video answer's moments (ms, ms, why), known once its question is planned: chips under it."""
        self.exchange.sources = list(sources)
        self.source_chips.set_sources(self.exchange.sources)

    def set_evidence(self, exchange: Exchange) -> None:
        """What the model saw and heard for this question (its run): frame count and audio in the header."""
        self.exchange.frame_times_s = list(exchange.frame_times_s)
        self.exchange.earlier_frames, self.exchange.heard_audio = exchange.earlier_frames, exchange.heard_audio
        self.question_view.show_about(self.exchange)
