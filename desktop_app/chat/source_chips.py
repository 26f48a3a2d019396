"""The sources of a whole-video answer as chips under it: one per moment the answer drew on ("1:36–1:51"), what
was found there in its tooltip. A click asks for that moment: ``source_clicked(start_ms, end_ms)`` (the window
seeks the player there and selects it as the segment, so a follow-up question is about exactly that moment)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QToolButton, QWidget

from core_model.timefmt import format_clock_s

CHIP_STYLE = ("QToolButton#sourceChip { border: 1px solid palette(mid); border-radius: 9px; padding: 1px 8px; }"
              "QToolButton#sourceChip:hover { background: palette(midlight); }")


class SourceChips(QScrollArea):
    """A row of chips that scrolls sideways rather than widening a narrow chat. Hidden while there are none."""

    source_clicked = Signal(int, int)  # start_ms, end_ms

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sourceChips")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setWidgetResizable(True)
        self.setStyleSheet("QScrollArea, QScrollArea > QWidget > QWidget { background: transparent; }" + CHIP_STYLE)
        content = QWidget()
        self._row = QHBoxLayout(content)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(4)
        self._label = QLabel("Sources:", content)
        self._row.addWidget(self._label)
        self._row.addStretch(1)
        self.setWidget(content)
        self.chips: list[QToolButton] = []
        self.setVisible(False)

    def set_sources(self, sources: list[tuple[int, int, str]]) -> None:
        """Show ``sources`` [(start_ms, end_ms, why)], in the order given (best first), replacing any shown."""
        for chip in self.chips:
            self._row.removeWidget(chip)
            chip.deleteLater()
        self.chips = []
        for start_ms, end_ms, why in sources:
            chip = QToolButton(self.widget())
            chip.setObjectName("sourceChip")
            chip.setText(f"{format_clock_s(start_ms / 1000)}–{format_clock_s(end_ms / 1000)}")
            chip.setToolTip(why)
            chip.setCursor(Qt.CursorShape.PointingHandCursor)
            chip.clicked.connect(lambda _checked=False, a=start_ms, b=end_ms: self.source_clicked.emit(a, b))
            self._row.insertWidget(self._row.count() - 1, chip)
            self.chips.append(chip)
        self.setFixedHeight(self.widget().sizeHint().height() + 6)
        self.setVisible(bool(self.chips))
