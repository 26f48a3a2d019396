"""The window's Library tab (issue 12): add a folder, index it in a child process (paused while a question is
answered), search, a thumbnail per result, and a click that opens the video at the moment with the segment
selected; the watcher notices a new file. Real window, real child process, real SQLite database."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt

from desktop_app.library.library_wiring import choose_library_folder
from tests.fixtures.index_media import write_scene_video
from tests.fixtures.library_media import copy_video, library_videos  # noqa: F401  (fixture)

BUILD_TIMEOUT_MS = 120000  # spawn children import numpy, PyAV and OpenCV: seconds on 2 busy cores


@pytest.fixture
def folder(tmp_path, library_videos):  # noqa: F811
    root = tmp_path / "videos"
    copy_video(library_videos["party.mp4"], root / "party.mp4")
    copy_video(library_videos["lake.mp4"], root / "lake.mp4")
    copy_video(library_videos["talk.mp4"], root / "talk.mp4")
    return root


def _wait_summary(qtbot, view, text: str) -> None:
    qtbot.waitUntil(lambda: view.summary_label.text() == text, timeout=15000)


def _choose(combo, text: str) -> None:
    combo.setCurrentIndex(combo.findText(text))
    combo.activated.emit(combo.currentIndex())  # as a click on the item does: the search runs again


def _wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.library.is_running(), timeout=BUILD_TIMEOUT_MS)


def test_add_index_search_and_open_a_moment(qtbot, make_window, folder, tmp_path, library_videos):  # noqa: F811
    window = make_window()
    view = window.library_view
    assert window.side_tabs.indexOf(view) >= 0
    assert choose_library_folder(window, window.library, folder=str(folder))
    _wait_summary(qtbot, view, "3 videos: 0 indexed, 3 to index, 0 failed")  # the scan, on its own thread
    assert [view.folder_list.item(i).text() for i in range(view.folder_list.count())] == [str(folder)]

    qtbot.mouseClick(view.index_button, Qt.MouseButton.LeftButton)
    assert window.library.is_running() and view.stop_button.isVisibleTo(view)
    _wait_idle(qtbot, window)
    _wait_summary(qtbot, view, "3 videos: 3 indexed, 0 to index, 0 failed")
    assert "Library indexed: 3 new videos." in view.progress_label.text()

    window.side_tabs.setCurrentWidget(view)
    view.search_box.setText("the dog jumps off the pier")
    qtbot.keyClick(view.search_box, Qt.Key.Key_Return)
    moments = view.moments()
    assert moments and moments[0][0] == str(folder / "lake.mp4") and moments[0][1] <= 15.0 < moments[0][2]
    assert "The dog jumps off the wooden pier" in view.results.item(0).text()
    qtbot.waitUntil(lambda: not view.results.item(0).icon().isNull(), timeout=20000)  # its thumbnail

    view.speech_filter.setCurrentIndex(view.speech_filter.findText("Without speech"))  # filters search again
    view.speech_filter.activated.emit(view.speech_filter.currentIndex())
    assert view.moments() == [] and "Nothing found" in view.empty_label.text()
    view.speech_filter.setCurrentIndex(0)
    view.folder_filter.setCurrentIndex(view.folder_filter.findData(str(folder)))
    view.folder_filter.activated.emit(view.folder_filter.currentIndex())
    assert view.moments() == moments
    _choose(view.length_filter, "Over 10 min")  # the date and duration filters the CLI has (issue 12)
    assert view.moments() == [] and "The filters leave some videos out." in view.empty_label.text()
    _choose(view.length_filter, "Under 1 min")  # lake.mp4 is 20 s long
    assert view.moments() == moments
    _choose(view.date_filter, "Past week")  # the files were made just now
    assert view.moments() == moments
    _choose(view.length_filter, "Any length")
    _choose(view.date_filter, "Any time")

    rect = view.results.visualItemRect(view.results.item(0))
    qtbot.mouseClick(view.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.timeline.selection_ms() is not None, timeout=15000)
    start_s, end_s = moments[0][1], moments[0][2]
    assert window.player.path == str(folder / "lake.mp4")
    assert window.timeline.selection_ms() == (round(start_s * 1000), round(end_s * 1000))
    qtbot.waitUntil(lambda: abs(window.player.position_ms() - start_s * 1000) < 600, timeout=10000)
    assert window.side_tabs.currentWidget() is window.chat  # ready to ask about

    window.side_tabs.setCurrentWidget(view)
    view.search_box.setText("budget")
    qtbot.keyClick(view.search_box, Qt.Key.Key_Return)
    qtbot.mouseClick(view.results.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.results.visualItemRect(view.results.item(0)).center())
    qtbot.waitUntil(lambda: window.player.path == str(folder / "talk.mp4")
                    and window.timeline.selection_ms() is not None
                    and window.timeline.selection_ms()[0] <= 3000, timeout=15000)

    shutil.copy(library_videos["talk.mp4"], folder / "talk copy.mp4")  # the watcher
    write_scene_video(folder / "new.mp4", [20, 20], fps=5, width=64, height=48)
    _wait_summary(qtbot, view, "5 videos: 3 indexed, 2 to index, 0 failed")

    view.folder_list.setCurrentRow(0)  # Remove: the folder's videos leave the results
    qtbot.mouseClick(view.remove_button, Qt.MouseButton.LeftButton)
    _wait_summary(qtbot, view, "No videos yet: add a folder.")
    assert view.folder_list.count() == 0 and view.moments() == []


def test_the_queue_pauses_while_a_question_is_answered_and_goes_on_after(qtbot, make_window, tmp_path):
    root = tmp_path / "long"
    root.mkdir()
    for number in range(2):  # 150 s each at 64x48: the queue is still busy when the question comes
        write_scene_video(root / f"long{number}.mp4", [100] * 30 + [number + 1], fps=20, width=64, height=48)
    window = make_window()
    controller = window.library
    assert choose_library_folder(window, controller, folder=str(root))
    reports = []
    controller.job.progress.connect(reports.append)
    assert controller.start_indexing()
    qtbot.waitUntil(lambda: any(r.index is not None and r.index.part == "scenes" for r in reports),
                    timeout=BUILD_TIMEOUT_MS)
    window.controller.busy_changed.emit(True, 0)  # a question is being answered
    _wait_idle(qtbot, window)
    assert "paused while the question is answered" in window.library_view.progress_label.text()
    qtbot.waitUntil(lambda: "1 to index" in window.library_view.summary_label.text()
                    or "2 to index" in window.library_view.summary_label.text(), timeout=10000)
    window.controller.busy_changed.emit(False, 0)  # the answer ended
    assert controller.is_running()
    _wait_idle(qtbot, window)
    _wait_summary(qtbot, window.library_view, "2 videos: 2 indexed, 0 to index, 0 failed")



def test_with_a_model_on_a_server_the_tabs_queue_captions_through_it(qtbot, make_window, settings, tmp_path,
                                                                      transformers_server):
    from core_model.store.fingerprint import fingerprint_file
    from core_model.store.index_store import IndexStore
    from desktop_app.settings import Key

    root = tmp_path / "clips"
    root.mkdir()
    beach = write_scene_video(root / "beach.mp4", [30, 40], fps=5, width=96, height=72)
    settings.set_value(Key.MODEL, f"remote+{transformers_server.base_url}#{transformers_server.model}")
    window = make_window()
    view = window.library_view
    assert choose_library_folder(window, window.library, folder=str(root))
    _wait_summary(qtbot, view, "1 video: 0 indexed, 1 to index, 0 failed")
    qtbot.mouseClick(view.index_button, Qt.MouseButton.LeftButton)
    _wait_idle(qtbot, window)
    _wait_summary(qtbot, view, "1 video: 1 indexed, 0 to index, 0 failed")
    with IndexStore(window.controller.store.path) as index:
        part = index.parts(fingerprint_file(beach))["captions"]
        captions = index.captions(fingerprint_file(beach))
    assert part.done and part.model_id == transformers_server.model  # captioned by the server, not this machine
    assert captions and all(c.text.strip() for c in captions)


def test_with_a_local_model_the_tabs_queue_loads_no_chat_model(make_window, settings, tmp_path):
    from desktop_app.library.library_wiring import library_caption_model
    from desktop_app.settings import Key

    settings.set_value(Key.MODEL, str(tmp_path / "some-local-model"))
    window = make_window()
    assert library_caption_model(window) is None  # a second copy of the chat model beside the window's: no


def test_nothing_found_says_why_only_when_it_is_so(qtbot, make_window, folder):
    # "Videos still to index are not searched yet" was said with every video indexed, and never named the filters
    window = make_window()
    view = window.library_view
    assert choose_library_folder(window, window.library, folder=str(folder))
    _wait_summary(qtbot, view, "3 videos: 0 indexed, 3 to index, 0 failed")
    view.search_box.setText("penguins")
    qtbot.keyClick(view.search_box, Qt.Key.Key_Return)
    assert view.empty_label.text().startswith("Nothing found for “penguins”. 3 videos are still to index and not "
                                              "searched yet.")
    assert "filters" not in view.empty_label.text()

    view.set_to_index_count(0)  # as the scan says once the queue has indexed them all
    view.speech_filter.setCurrentIndex(view.speech_filter.findText("With speech"))
    view.speech_filter.activated.emit(view.speech_filter.currentIndex())
    assert view.empty_label.text().startswith("Nothing found for “penguins”. The filters leave some videos out.")
    view.speech_filter.setCurrentIndex(0)
    view.speech_filter.activated.emit(0)
    assert view.empty_label.text().split("  ")[0] == "Nothing found for “penguins”."

