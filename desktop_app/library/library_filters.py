"""The Library tab's filters: which videos a search looks in (folder, speech, date, length), as a SearchFilters.

    bar = LibraryFilterBar()
    bar.changed.connect(search_again)           # any filter the user changed
    bar.filters()                               # SearchFilters(folder=None, modified_from=date(2026, 11, 26), ...)

Dates are the file's modification date (what a file manager shows; the scan keeps it): a few presets counted back
from today, or a range of days picked on a calendar ("Custom range…" shows the two date fields). Lengths are
buckets, as video sites offer them: a person looks for "the short clip" or "the long talk", not for 7:30.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import QComboBox, QDateEdit, QGridLayout, QHBoxLayout, QLabel, QWidget

CUSTOM_DATES = "custom"
DATE_PRESETS: tuple[tuple[str, int | str | None], ...] = (
    ("Any time", None), ("Past week", 7), ("Past month", 31), ("Past year", 366), ("Custom range…", CUSTOM_DATES))
"""Label, and how many days back from today the range starts (today included)."""
LENGTHS: tuple[tuple[str, tuple[float | None, float | None]], ...] = (
    ("Any length", (None, None)), ("Under 1 min", (None, 60.0)), ("1–10 min", (60.0, 600.0)),
    ("Over 10 min", (600.0, None)))
"""Label, and (min_duration_s, max_duration_s)."""
CUSTOM_RANGE_DAYS = 31
"""A custom range starts as the past month: the person then moves the end they care about."""
DATE_FORMAT = "d MMM yyyy"


class LibraryFilterBar(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None, today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self._today = today
        self._init_widgets()
        self._init_layout()
        self._init_signals()
        self._show_custom_dates(False)

    def _init_widgets(self) -> None:
        self.folder_filter = QComboBox(self)
        self.folder_filter.addItem("All folders", None)
        self.folder_filter.setToolTip("Search the videos of one folder only")
        self.speech_filter = QComboBox(self)
        for label, value in (("With or without speech", None), ("With speech", True), ("Without speech", False)):
            self.speech_filter.addItem(label, value)
        self.date_filter = QComboBox(self)
        for label, value in DATE_PRESETS:
            self.date_filter.addItem(label, value)
        self.date_filter.setToolTip("When the video file was last changed (as your file manager shows it)")
        self.length_filter = QComboBox(self)
        for label, value in LENGTHS:
            self.length_filter.addItem(label, value)
        self.length_filter.setToolTip("How long the video is")
        today = _qdate(self._today())
        self.date_from = self._date_edit(today.addDays(-CUSTOM_RANGE_DAYS), "The first day of the range")
        self.date_to = self._date_edit(today, "The last day of the range (included)")
        self.from_label = QLabel("From", self)
        self.to_label = QLabel("to", self)

    def _date_edit(self, day: QDate, tip: str) -> QDateEdit:
        edit = QDateEdit(day, self)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat(DATE_FORMAT)
        edit.setToolTip(tip)
        return edit

    def _init_layout(self) -> None:
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(self.folder_filter, 0, 0)
        grid.addWidget(self.speech_filter, 0, 1)
        grid.addWidget(self.date_filter, 1, 0)
        grid.addWidget(self.length_filter, 1, 1)
        custom = QHBoxLayout()
        custom.addWidget(self.from_label)
        custom.addWidget(self.date_from, 1)
        custom.addWidget(self.to_label)
        custom.addWidget(self.date_to, 1)
        grid.addLayout(custom, 2, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

    def _init_signals(self) -> None:
        for combo in (self.folder_filter, self.speech_filter, self.length_filter):
            combo.activated.connect(lambda _index: self.changed.emit())
        self.date_filter.activated.connect(self._on_date_preset)
        # the two ends stay in order: the calendar of each offers only the days the other allows
        self.date_from.dateChanged.connect(self._on_custom_date)
        self.date_to.dateChanged.connect(self._on_custom_date)
        self.date_to.setMinimumDate(self.date_from.date())
        self.date_from.setMaximumDate(self.date_to.date())

    def _on_date_preset(self, _index: int) -> None:
        self._show_custom_dates(self.date_filter.currentData() == CUSTOM_DATES)
        self.changed.emit()

    def _on_custom_date(self, _day: QDate) -> None:
        self.date_to.setMinimumDate(self.date_from.date())
        self.date_from.setMaximumDate(self.date_to.date())
        if self.date_filter.currentData() == CUSTOM_DATES:
            self.changed.emit()

    def _show_custom_dates(self, shown: bool) -> None:
        for widget in (self.from_label, self.date_from, self.to_label, self.date_to):
            widget.setVisible(shown)

    # ---- state --------------------------------------------------------------------------------------------
    def set_folders(self, folders: list[str]) -> None:
        """The library's folders, offered as filters; the one chosen stays chosen while it is still there."""
        chosen = self.folder_filter.currentData()
        self.folder_filter.clear()
        self.folder_filter.addItem("All folders", None)
        for folder in folders:
            self.folder_filter.addItem(Path(folder).name or folder, folder)
            self.folder_filter.setItemData(self.folder_filter.count() - 1, folder, Qt.ItemDataRole.ToolTipRole)
        self.folder_filter.setCurrentIndex(max(0, self.folder_filter.findData(chosen)))

    def filters(self):
        from core_model.library.search import SearchFilters

        modified_from, modified_to = self._dates()
        min_duration_s, max_duration_s = self.length_filter.currentData()
        return SearchFilters(folder=self.folder_filter.currentData(), modified_from=modified_from,
                             modified_to=modified_to, min_duration_s=min_duration_s, max_duration_s=max_duration_s,
                             has_speech=self.speech_filter.currentData())

    def _dates(self) -> tuple[date | None, date | None]:
        preset = self.date_filter.currentData()
        if preset is None:
            return None, None
        if preset == CUSTOM_DATES:
            return self.date_from.date().toPython(), self.date_to.date().toPython()
        return self._today() - timedelta(days=int(preset) - 1), None


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)
