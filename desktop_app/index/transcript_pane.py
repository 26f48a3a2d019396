"""The transcript beside the chat: its lines with their times, the line being said highlighted as the video
plays, a click on a line seeks there, a box finds lines by their words, and a button exports SRT / VTT.

Intents out: ``seek_requested(position_ms)``, ``export_requested()``; state in: ``set_cues``, ``set_position_ms``.
Only a click seeks: following playback moves the highlight without a signal, so the two never chase each other.
"""

from __future__ import annotations

from bisect import bisect_right

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton,
                               QVBoxLayout, QWidget)

from desktop_app.timefmt import format_clock_s

NO_TRANSCRIPT = "No transcript yet. Index this video (Index ▸ Index this video, Ctrl+I) to read what is said."
NOTHING_SAID = "Nothing is said in this video: it has no subtitles and no speech was heard."


class TranscriptPane(QWidget):
    seek_requested = Signal(int)  # position_ms
    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._cues: list = []
        self._starts_ms: list[int] = []
        self._current_row = -1
        self.find_box = QLineEdit(self)
        self.find_box.setPlaceholderText("Find in transcript")
        self.find_box.setClearButtonEnabled(True)
        self.export_button = QPushButton("Export…", self)
        self.export_button.setToolTip("Save the transcript as subtitles (SRT or WebVTT)")
        self.count_label = QLabel("", self)
        self.empty_label = QLabel(NO_TRANSCRIPT, self)
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.lines = QListWidget(self)
        self.lines.setWordWrap(True)
        self.lines.setUniformItemSizes(False)
        self.lines.setAlternatingRowColors(True)
        top = QHBoxLayout()
        top.addWidget(self.find_box, 1)
        top.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.count_label)
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.empty_label, 1)
        self.find_box.textChanged.connect(self._apply_filter)
        self.lines.itemClicked.connect(self._on_item_clicked)
        self.export_button.clicked.connect(self.export_requested)
        self.set_cues([])

    # ---- state in -----------------------------------------------------------------------------------------
    def set_cues(self, cues: list, transcript_done: bool = False) -> None:
        """Show ``cues`` (Cue records, in time order); keeps the find text. ``transcript_done``: the transcript is
        built, so no cues means nothing is said (rather than "not indexed yet")."""
        self._cues = list(cues)
        self._starts_ms = [round(c.start_s * 1000) for c in self._cues]
        self._current_row = -1
        self.lines.clear()
        for cue in self._cues:
            item = QListWidgetItem(f"{format_clock_s(cue.start_s)}   {cue.text}")
            item.setData(Qt.ItemDataRole.UserRole, round(cue.start_s * 1000))
            item.setToolTip(f"{format_clock_s(cue.start_s)} – {format_clock_s(cue.end_s)}: click to go there")
            self.lines.addItem(item)
        has_cues = bool(self._cues)
        self.empty_label.setText(NOTHING_SAID if transcript_done else NO_TRANSCRIPT)
        self.lines.setVisible(has_cues)
        self.empty_label.setVisible(not has_cues)
        self.export_button.setEnabled(has_cues)
        self.find_box.setEnabled(has_cues)
        self._apply_filter(self.find_box.text())

    def cues(self) -> list:
        return list(self._cues)

    def set_position_ms(self, position_ms: int) -> None:
        """Highlight the line being said at ``position_ms`` (the last one started) and keep it in view."""
        row = bisect_right(self._starts_ms, int(position_ms)) - 1
        if row == self._current_row:
            return
        if 0 <= self._current_row < self.lines.count():
            self._set_bold(self._current_row, False)
        self._current_row = row
        if row < 0:
            return
        self._set_bold(row, True)
        item = self.lines.item(row)
        if not item.isHidden():
            self.lines.scrollToItem(item)

    def current_row(self) -> int:
        """The row of the line being said (-1 before the first)."""
        return self._current_row

    def visible_rows(self) -> list[int]:
        return [row for row in range(self.lines.count()) if not self.lines.item(row).isHidden()]

    # ---- internals ----------------------------------------------------------------------------------------
    def _set_bold(self, row: int, bold: bool) -> None:
        item = self.lines.item(row)
        font = QFont(item.font())
        font.setBold(bold)
        item.setFont(font)
        item.setSelected(bold)

    def _apply_filter(self, text: str) -> None:
        words = text.casefold().split()
        shown = 0
        for row, cue in enumerate(self._cues):
            match = all(word in cue.text.casefold() for word in words)
            self.lines.item(row).setHidden(not match)
            shown += match
        if not self._cues:
            self.count_label.setText("")
        elif words:
            self.count_label.setText(f"{shown} of {len(self._cues)} lines match" if shown else "No line matches")
        else:
            self.count_label.setText(f"{len(self._cues)} lines")

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        self.seek_requested.emit(int(item.data(Qt.ItemDataRole.UserRole)))
