"""The Library tab: the folders, the indexing queue's state, a search box and the moments found.

Reports intents only (``add_folder_requested``, ``moment_activated(path, start_s, end_s)``, ...); the wiring
(library_wiring.py) connects them to the LibraryController and the window.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.library.library_filters import LibraryFilterBar
from desktop_app.timefmt import format_range_s

MOMENT_ROLE = Qt.ItemDataRole.UserRole
THUMB_SIZE = QSize(96, 54)


def nothing_found_text(query: str, to_index_count: int, filters) -> str:
    """Why a search may have found nothing: videos not indexed yet, filters that leave videos out (said only when
    so: "videos still to index" was said with every video indexed)."""
    reasons = [f"Nothing found for “{query}”."]
    if to_index_count:
        reasons.append(f"{to_index_count} video{' is' if to_index_count == 1 else 's are'} still to index and not "
                       "searched yet.")
    if any(value is not None for value in (filters.folder, filters.has_speech, filters.modified_from,
                                           filters.min_duration_s, filters.max_duration_s)):
        reasons.append("The filters leave some videos out.")
    return " ".join(reasons)


class LibraryView(QWidget):
    add_folder_requested = Signal()
    remove_folder_requested = Signal(str)  # the folder's path
    index_requested = Signal()
    stop_requested = Signal()
    search_requested = Signal(str, object)  # query, core_model.library.search.SearchFilters
    moment_activated = Signal(str, float, float)  # video path, start_s, end_s

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._to_index_count = 0
        self._init_widgets()
        self._init_layout()
        self._init_signals()
        self.set_running(False)

    def _init_widgets(self) -> None:
        self.folder_list = QListWidget(self)
        self.folder_list.setMaximumHeight(90)
        self.add_button = QPushButton("Add folder…", self)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.setEnabled(False)
        self.summary_label = QLabel("No videos yet: add a folder.", self)
        self.index_button = QPushButton("Index new videos", self)
        self.stop_button = QPushButton("Stop", self)
        self.progress_bar = QProgressBar(self)
        self.progress_label = QLabel("", self)
        self.progress_label.setWordWrap(True)
        self.search_box = QLineEdit(self)
        self.search_box.setPlaceholderText("Find a moment in all your videos…")
        self.search_box.setClearButtonEnabled(True)
        self.filter_bar = LibraryFilterBar(self)
        self.folder_filter = self.filter_bar.folder_filter
        self.speech_filter = self.filter_bar.speech_filter
        self.date_filter = self.filter_bar.date_filter
        self.length_filter = self.filter_bar.length_filter
        self.results = QListWidget(self)
        self.results.setIconSize(THUMB_SIZE)
        self.results.setWordWrap(True)
        self.results.setAlternatingRowColors(True)
        self.empty_label = QLabel("", self)
        self._count_text, self._looking = "", False  # the results' count line; a search by look under way
        self.empty_label.setWordWrap(True)

    def _init_layout(self) -> None:
        folder_buttons = QHBoxLayout()
        folder_buttons.addWidget(self.add_button)
        folder_buttons.addWidget(self.remove_button)
        folder_buttons.addStretch(1)
        queue = QHBoxLayout()
        queue.addWidget(self.summary_label, 1)
        queue.addWidget(self.index_button)
        queue.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Folders", self))
        layout.addWidget(self.folder_list)
        layout.addLayout(folder_buttons)
        layout.addLayout(queue)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.search_box)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.results, 1)

    def _init_signals(self) -> None:
        self.add_button.clicked.connect(self.add_folder_requested)
        self.remove_button.clicked.connect(self._remove_selected)
        self.folder_list.currentRowChanged.connect(lambda row: self.remove_button.setEnabled(row >= 0))
        self.index_button.clicked.connect(self.index_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        self.search_box.returnPressed.connect(self._search)
        self.filter_bar.changed.connect(self._search)
        self.results.itemClicked.connect(self._activate)
        self.results.itemActivated.connect(self._activate)

    # ---- state from the controller ------------------------------------------------------------------------
    def set_folders(self, folders: list[str]) -> None:
        self.folder_list.clear()
        self.folder_list.addItems(folders)
        self.remove_button.setEnabled(False)
        self.filter_bar.set_folders(folders)

    def set_summary(self, text: str) -> None:
        self.summary_label.setText(text)

    def set_to_index_count(self, count: int) -> None:
        """How many library videos are still to index: a search that finds nothing says they were not searched."""
        self._to_index_count = count

    def set_running(self, running: bool) -> None:
        self.index_button.setVisible(not running)
        self.stop_button.setVisible(running)
        self.progress_bar.setVisible(running)

    def set_progress(self, text: str, percent: int) -> None:
        self.progress_label.setText(text)
        if percent < 0:
            self.progress_bar.setRange(0, 0)  # busy, no share known
        else:
            self.progress_bar.setRange(0, 100)
            self.progress_bar.setValue(percent)

    def set_results(self, query: str, moments: list) -> None:
        """One row per moment: its thumbnail (filled in later by ``set_thumbnail``), the video, the time range,
        the matching words."""
        self.results.clear()
        for moment in moments:
            item = QListWidgetItem(f"{Path(moment.video).name}   {format_range_s(moment.start_s, moment.end_s)}\n"
                                   f"{moment.text or '(seen in the picture)'}")
            item.setToolTip(str(moment.video))
            item.setData(MOMENT_ROLE, (str(moment.video), float(moment.start_s), float(moment.end_s)))
            item.setSizeHint(QSize(0, THUMB_SIZE.height() + 10))
            self.results.addItem(item)
        if not query:
            self._count_text = ""
        elif not moments:
            self._count_text = nothing_found_text(query, self._to_index_count, self.filters())
        else:
            self._count_text = f"{len(moments)} moment{'' if len(moments) == 1 else 's'} for “{query}”:"
        self._show_count()

    def set_looking(self, looking: bool) -> None:
        """A search by look is under way: the results shown (by words) may still change."""
        self._looking = looking
        self._show_count()

    def _show_count(self) -> None:
        looking = self._looking and self._count_text
        self.empty_label.setText(self._count_text + ("  Looking at the pictures too…" if looking else ""))

    def set_thumbnail(self, row: int, image: QImage) -> None:
        item = self.results.item(row)
        if item is not None and not image.isNull():
            pixmap = QPixmap.fromImage(image).scaled(THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                                                     Qt.TransformationMode.SmoothTransformation)
            item.setIcon(QIcon(pixmap))

    def moments(self) -> list[tuple[str, float, float]]:
        return [self.results.item(row).data(MOMENT_ROLE) for row in range(self.results.count())]

    def filters(self):
        """The search's filters (a core_model.library.search.SearchFilters): folder, speech, date, length."""
        return self.filter_bar.filters()

    # ---- intents ------------------------------------------------------------------------------------------
    def _search(self) -> None:
        self.search_requested.emit(self.search_box.text(), self.filters())

    def _remove_selected(self) -> None:
        item = self.folder_list.currentItem()
        if item is not None:
            self.remove_folder_requested.emit(item.text())

    def _activate(self, item: QListWidgetItem) -> None:
        path, start_s, end_s = item.data(MOMENT_ROLE)
        self.moment_activated.emit(path, start_s, end_s)
