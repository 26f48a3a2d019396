"""The chat pane: the chat picker (new / delete / export), the list of exchanges, notices, and the composer."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.chat.composer import Composer
from desktop_app.chat.exchange import AnswerState, Exchange
from desktop_app.chat.message_widget import ExchangeWidget
from desktop_app.resources import icon


class ChatPane(QWidget):
    seek_requested = Signal(int)  # position_ms, from a timestamp link
    source_selected = Signal(int, int)  # start_ms, end_ms, from a whole-video answer's source chip
    new_chat_requested = Signal()
    delete_chat_requested = Signal()
    export_chat_requested = Signal()
    chat_selected = Signal(int)  # chat id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._widgets: dict[int, ExchangeWidget] = {}
        self._duration_s: float | None = None
        self._init_header()
        self._init_messages()
        self.composer = Composer(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(self._header)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.composer)
        self.setMinimumWidth(320)

    def _init_header(self) -> None:
        self.chat_combo = QComboBox(self)
        self.chat_combo.setToolTip("Chats about this video")
        self.chat_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.chat_combo.setMinimumContentsLength(12)
        self.chat_combo.activated.connect(self._on_chat_activated)
        self.new_button = self._tool("new-chat", "New chat (Ctrl+N)", self.new_chat_requested)
        self.export_button = self._tool("export", "Export this chat to Markdown (Ctrl+E)", self.export_chat_requested)
        self.delete_button = self._tool("delete", "Delete this chat", self.delete_chat_requested)
        self._header = QHBoxLayout()
        self._header.setContentsMargins(6, 6, 6, 2)
        self._header.addWidget(self.chat_combo, 1)
        for button in (self.new_button, self.export_button, self.delete_button):
            self._header.addWidget(button)

    def _tool(self, icon_name: str, tip: str, signal) -> QToolButton:
        button = QToolButton(self)
        button.setIcon(icon(icon_name))
        button.setIconSize(QSize(18, 18))
        button.setAutoRaise(True)
        button.setToolTip(tip)
        button.clicked.connect(signal)
        return button

    def _init_messages(self) -> None:
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._list = QWidget()
        self._list.setObjectName("messageList")
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(8, 8, 8, 8)
        self._list_layout.setSpacing(10)
        self.empty_label = QLabel(
            "<p style='font-size:13pt'>Ask about what is seen and heard.</p>"
            "<p>Open a video, drag on the timeline to pick a segment (or press I and O), then type a question."
            "<br>Drop or paste images to ask about them.</p>",
            self._list,
        )
        self.empty_label.setObjectName("emptyLabel")
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._list_layout.addWidget(self.empty_label)
        self._list_layout.addStretch(1)
        self.scroll.setWidget(self._list)
        self.scroll.verticalScrollBar().rangeChanged.connect(self._on_scroll_range_changed)
        self._stick_to_bottom = True
        self.scroll.verticalScrollBar().valueChanged.connect(self._on_scrolled)

    # ---- chats --------------------------------------------------------------------------------------------
    def set_chats(self, chats: list[tuple[int, str]], current_id: int | None) -> None:
        self.chat_combo.blockSignals(True)
        self.chat_combo.clear()
        for chat_id, title in chats:
            self.chat_combo.addItem(title, chat_id)
        if current_id is not None:
            index = self.chat_combo.findData(current_id)
            self.chat_combo.setCurrentIndex(max(0, index))
        self.chat_combo.blockSignals(False)
        has_chat = current_id is not None
        self.export_button.setEnabled(has_chat)
        self.delete_button.setEnabled(has_chat)

    def _on_chat_activated(self, index: int) -> None:
        chat_id = self.chat_combo.itemData(index)
        if chat_id is not None:
            self.chat_selected.emit(int(chat_id))

    # ---- exchanges ----------------------------------------------------------------------------------------
    def set_duration_s(self, duration_s: float | None) -> None:
        self._duration_s = duration_s

    def clear_messages(self) -> None:
        for widget in self._widgets.values():
            widget.deleteLater()
        self._widgets.clear()
        for notice in self._list.findChildren(QLabel, "notice"):
            notice.deleteLater()
        for notice in self._list.findChildren(QFrame, "action-notice"):
            notice.deleteLater()
        self.empty_label.setVisible(True)

    def add_exchange(self, exchange: Exchange) -> ExchangeWidget:
        widget = ExchangeWidget(exchange, self._duration_s, self._list)
        widget.seek_requested.connect(self.seek_requested)
        widget.source_selected.connect(self.source_selected)
        self._widgets[exchange.key] = widget
        self._list_layout.insertWidget(self._list_layout.count() - 1, widget)
        self.empty_label.setVisible(False)
        self._stick_to_bottom = True
        return widget

    def exchange_widget(self, key: int) -> ExchangeWidget | None:
        return self._widgets.get(key)

    def exchange_widgets(self) -> list[ExchangeWidget]:
        return list(self._widgets.values())

    def append_piece(self, key: int, piece: str) -> None:
        widget = self._widgets.get(key)
        if widget is not None:
            widget.append(piece)

    def set_state(self, key: int, state: AnswerState, detail: str = "") -> None:
        widget = self._widgets.get(key)
        if widget is not None:
            widget.set_state(state, detail)

    def set_frames(self, key: int, images: list[QImage], times_s: list[float]) -> None:
        widget = self._widgets.get(key)
        if widget is not None:
            widget.set_frames(images, times_s)

    def set_evidence(self, key: int, exchange: Exchange) -> None:
        widget = self._widgets.get(key)
        if widget is not None:
            widget.set_evidence(exchange)

    def set_sources(self, key: int, exchange: Exchange) -> None:
        widget = self._widgets.get(key)
        if widget is not None:
            widget.set_sources(exchange.sources)

    def show_notice(self, text: str, error: bool = True) -> QLabel:
        """A line in the chat that is not an answer: a file that cannot be opened, a failed export..."""
        label = QLabel(("⚠ " if error else "ℹ ") + text, self._list)
        label.setObjectName("notice")
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setProperty("error", error)
        label.setStyleSheet(
            "QLabel { color: #d9534f; padding: 6px; border: 1px solid #d9534f; border-radius: 6px; }" if error
            else "QLabel { padding: 6px; }"
        )
        self._list_layout.insertWidget(self._list_layout.count() - 1, label)
        self.empty_label.setVisible(False)
        self._stick_to_bottom = True
        return label

    def show_action_notice(self, text: str, action_text: str, on_action, more_actions=()) -> QFrame:
        """An information line with a button ("Get Gemma 4 E2B…"); ``.label`` and ``.button`` may be updated later.
        ``more_actions``: further (text, callable) buttons, in ``.buttons`` after the first."""
        box = QFrame(self._list)
        box.setObjectName("action-notice")
        box.setStyleSheet("QFrame#action-notice { border: 1px solid palette(mid); border-radius: 6px; }")
        box.label = QLabel("ℹ " + text, box)
        box.label.setObjectName("notice")
        box.label.setWordWrap(True)
        box.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.button = QPushButton(action_text, box)
        box.button.setDefault(False)
        box.button.setAutoDefault(False)
        box.button.clicked.connect(on_action)
        box.buttons = [box.button]
        for extra_text, extra_action in more_actions:
            extra = QPushButton(extra_text, box)
            extra.setAutoDefault(False)
            extra.clicked.connect(extra_action)
            box.buttons.append(extra)
        row = QHBoxLayout(box)
        row.setContentsMargins(8, 6, 8, 6)
        row.addWidget(box.label, 1)
        column = QVBoxLayout()  # the buttons stacked: the notice stays readable in a narrow chat
        column.setSpacing(4)
        for button in box.buttons:
            column.addWidget(button)
        row.addLayout(column)
        self._list_layout.insertWidget(self._list_layout.count() - 1, box)
        self.empty_label.setVisible(False)
        self._stick_to_bottom = True
        return box

    def notices(self) -> list[str]:
        return [label.text() for label in self._list.findChildren(QLabel, "notice")]

    # ---- scrolling ----------------------------------------------------------------------------------------
    def _on_scrolled(self, value: int) -> None:
        bar = self.scroll.verticalScrollBar()
        self._stick_to_bottom = value >= bar.maximum() - 24

    def _on_scroll_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._stick_to_bottom:
            QTimer.singleShot(0, lambda: self.scroll.verticalScrollBar().setValue(maximum))
