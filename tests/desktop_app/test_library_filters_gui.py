"""The Library tab's date and length filters (issue 12: "Filters: folder, date, duration, has speech"): choosing one
changes which videos' moments the results show. Real generated videos of 20 s, 90 s and 11 min with subtitles and
modification times set by os.utime, scanned and indexed into the window's real SQLite database; the window searches
it through its controller."""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt

from core_model.library.library_store import LibraryStore
from core_model.library.queue import index_library
from core_model.library.scan import scan_library
from core_model.store.index_store import IndexStore
from tests.desktop_app.library_window_check import _cut_fields
from tests.desktop_app.test_gui_items import _cut_widgets
from tests.fixtures.index_media import write_scene_video

DAY_S = 86_400
SRT = """1
00:00:02,000 --> 00:00:05,000
We walk the dog along the river
"""
VIDEOS = {  # name: (shots in frames at 1 fps, age in days of the file)
    "short.mp4": ([12, 8], 0),  # 20 s, today
    "medium.mp4": ([60, 30], 20),  # 90 s, 20 days ago
    "long.mp4": ([400, 260], 200),  # 11 min, 200 days ago
}


@pytest.fixture(scope="module")
def dated_videos(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("dated")
    made = {}
    for name, (shots, _age) in VIDEOS.items():
        made[name] = write_scene_video(folder / name, shots, fps=1, width=64, height=48)
    return made


@pytest.fixture
def library_folder(tmp_path, dated_videos) -> Path:
    """The three videos with their subtitles, each file dated its age ago, added, scanned and indexed (words only:
    search needs the transcript) in the database the window opens."""
    root = tmp_path / "videos"
    root.mkdir()
    now_s = time.time()
    for name, (_shots, age_days) in VIDEOS.items():
        video = root / name
        video.write_bytes(dated_videos[name].read_bytes())
        video.with_suffix(".srt").write_text(SRT, encoding="utf-8")
        os.utime(video, (now_s - age_days * DAY_S, now_s - age_days * DAY_S))
    db = tmp_path / "data" / "vidi.sqlite3"
    with LibraryStore(db) as library, IndexStore(db) as index:
        library.add_folder(root)
        scan_library(library)
        report = index_library(library, index, parts=("transcript",))
    assert len(report.indexed) == 3 and not report.failed
    return root


def _shown(view) -> set[str]:
    return {Path(path).name for path, _start_s, _end_s in view.moments()}


def _choose(combo, label: str) -> None:
    """What a click on the item does: the combo box shows it and says it was activated."""
    index = combo.findText(label)
    assert index >= 0, label
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_date_and_length_filters_change_the_videos_found(qtbot, make_window, library_folder):
    window = make_window()
    view = window.library_view
    qtbot.waitUntil(lambda: view.summary_label.text() == "3 videos: 3 indexed, 0 to index, 0 failed", timeout=15000)
    window.side_tabs.setCurrentWidget(view)
    view.search_box.setText("dog river")
    qtbot.keyClick(view.search_box, Qt.Key.Key_Return)
    assert _shown(view) == {"short.mp4", "medium.mp4", "long.mp4"}

    _choose(view.date_filter, "Past week")
    assert _shown(view) == {"short.mp4"}
    _choose(view.date_filter, "Past month")
    assert _shown(view) == {"short.mp4", "medium.mp4"}
    _choose(view.date_filter, "Past year")
    assert _shown(view) == {"short.mp4", "medium.mp4", "long.mp4"}

    assert not view.filter_bar.date_from.isVisibleTo(view)
    _choose(view.date_filter, "Custom range…")  # a range of days on a calendar: 25 to 15 days ago
    assert view.filter_bar.date_from.isVisibleTo(view) and view.filter_bar.date_to.isVisibleTo(view)
    window.resize(900, 600)  # the smallest window: every filter is shown whole
    qtbot.waitUntil(lambda: window.width() == 900)
    qtbot.wait(50)
    assert _cut_widgets(view) == [] and _cut_fields(view) == []
    today = date.today()
    view.filter_bar.date_to.setDate(QDate(today - timedelta(days=15)))
    view.filter_bar.date_from.setDate(QDate(today - timedelta(days=25)))
    assert _shown(view) == {"medium.mp4"}
    view.filter_bar.date_from.setDate(QDate(today - timedelta(days=15)))  # one day, not that video's
    assert _shown(view) == set() and "Nothing found" in view.empty_label.text()
    view.filter_bar.date_from.setDate(QDate(today - timedelta(days=20)))  # the day it was changed, included
    assert _shown(view) == {"medium.mp4"}

    _choose(view.date_filter, "Any time")
    assert not view.filter_bar.date_from.isVisibleTo(view)
    _choose(view.length_filter, "Under 1 min")
    assert _shown(view) == {"short.mp4"}
    _choose(view.length_filter, "1–10 min")
    assert _shown(view) == {"medium.mp4"}
    _choose(view.length_filter, "Over 10 min")
    assert _shown(view) == {"long.mp4"}
    _choose(view.date_filter, "Past month")  # filters add up
    assert _shown(view) == set()
    _choose(view.length_filter, "Any length")
    assert _shown(view) == {"short.mp4", "medium.mp4"}

    filters = window.library.filters  # what the controller searched with last
    assert filters.modified_from == today - timedelta(days=30) and filters.modified_to is None
    assert filters.min_duration_s is None and filters.max_duration_s is None
