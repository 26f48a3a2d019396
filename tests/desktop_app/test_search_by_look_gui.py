"""Search by look in the window: a whole-video question and a Library search find moments by their look, the words
embedded by SigLIP in the window's text embedder child (the window's process never runs SigLIP), the plan made on
the worker thread; Stop ends a question whose planning waits on that child at once.

The tiny SigLIP has random weights, so which keyframe a sentence "looks like" is arbitrary but deterministic: the
test asks core_model, in its own process, which moment that is (``image_moments`` / ``KeyframeImageSearch`` with
in-process embedding) and checks the window found the same one through its child. Real window, real child, real
SQLite; only the chat model is the fake."""

from __future__ import annotations

import os
import shutil
import signal
import time

import pytest
from PySide6.QtCore import Qt

from core_model.backends.base import SegmentRef
from core_model.index.keyframes import image_moments
from core_model.index.runner import build_index
from core_model.library.image_search import KeyframeImageSearch
from core_model.library.library_store import LibraryStore
from core_model.library.scan import scan_library
from core_model.library.search import search
from core_model.models.manager import ModelManager
from core_model.store.fingerprint import fingerprint_file
from core_model.store.index_store import IndexStore
from tests.desktop_app.conftest import ask_and_wait, open_video_and_wait
from tests.fixtures.index_media import index_media_dir, long_scene_video  # noqa: F401
from tests.fixtures.tiny_siglip import tiny_siglip_dir  # noqa: F401

DURATION_S = 70.0
SRT = "1\n00:00:05,000 --> 00:00:08,000\nWelcome to the castle\n"
LOOK_QUESTION = "zebra stripes"  # no word of it is said in the video: only its look can find a moment
CHILD_TIMEOUT_MS = 60000  # the child's first search imports torch and loads SigLIP: seconds on 2 busy cores


@pytest.fixture
def tour(tmp_path, long_scene_video, tiny_siglip_dir):  # noqa: F811
    folder = tmp_path / "films"
    folder.mkdir()
    video = folder / "tour.mp4"
    shutil.copy(long_scene_video, video)
    (folder / "tour.srt").write_text(SRT)
    return video


def _index(db, video, siglip, tmp_path) -> None:
    with IndexStore(db) as store:
        report = build_index(video, parts=["transcript", "scenes", "embeddings"], store=store,
                             manager=ModelManager(data_folder=tmp_path / "m", cache_dir=tmp_path / "hub"),
                             embed_model=str(siglip))
    assert report.built == ["transcript", "scenes", "embeddings"], report.skipped


def _whole_of_indexed_video(qtbot, make_window, video, siglip, tmp_path):
    """A window with ``video`` indexed (embeddings too), open, the whole video selected."""
    window = make_window()
    _index(window.controller.store.path, video, siglip, tmp_path)
    open_video_and_wait(qtbot, window, video)
    window.video.select_whole_video()
    return window


def test_a_whole_video_question_finds_its_moment_by_look_through_the_child(qtbot, make_window, fake_factory,
                                                                          tour, tiny_siglip_dir,  # noqa: F811
                                                                          tmp_path):
    window = _whole_of_indexed_video(qtbot, make_window, tour, tiny_siglip_dir, tmp_path)
    # opening a video whose keyframes have embeddings warms the child (SigLIP loads while the person watches)
    qtbot.waitUntil(window.text_embedder.is_running, timeout=5000)

    widget = ask_and_wait(qtbot, window, LOOK_QUESTION, timeout_ms=CHILD_TIMEOUT_MS)
    with IndexStore(window.controller.store.path) as store:
        expected = image_moments(store, fingerprint_file(tour), LOOK_QUESTION, DURATION_S)[0]
    first = widget.exchange.sources[0]
    assert (first[0], first[1]) == (round(expected.start_s * 1000), round(expected.end_s * 1000))
    assert "looks like" in first[2] and widget.source_chips.chips  # a chip under the answer
    sent = [m for m in fake_factory.requests[-1].media if isinstance(m, SegmentRef)]
    assert any(s.start_s <= expected.start_s + 5 <= s.end_s for s in sent)  # and that moment is re-watched


def test_stop_ends_a_whole_video_question_while_its_planning_waits_on_the_child(qtbot, make_window, fake_factory,
                                                                                tour, tiny_siglip_dir,  # noqa: F811
                                                                                tmp_path):
    window = _whole_of_indexed_video(qtbot, make_window, tour, tiny_siglip_dir, tmp_path)
    asked_before = len(fake_factory.requests)

    qtbot.waitUntil(window.text_embedder.is_running, timeout=5000)
    child = window.text_embedder._process
    os.kill(child.pid, signal.SIGSTOP)  # a child that does not answer (busy loading, swapping): the plan waits on it
    try:
        widget = ask_and_wait(qtbot, window, LOOK_QUESTION, final=False)
        time.sleep(0.5)
        assert not widget.exchange.state.is_final
        stopped_at = time.monotonic()
        window.controller.stop()
        qtbot.waitUntil(lambda: widget.exchange.state.is_final, timeout=3000)
        assert time.monotonic() - stopped_at < 1.5
        assert len(fake_factory.requests) == asked_before  # nothing reached the model
    finally:
        os.kill(child.pid, signal.SIGCONT)
    assert ask_and_wait(qtbot, window, "Welcome?", timeout_ms=CHILD_TIMEOUT_MS).exchange.state.is_final


def test_the_library_tab_finds_a_moment_by_look_after_showing_the_words(qtbot, make_window, tour,
                                                                        tiny_siglip_dir, tmp_path):  # noqa: F811
    window = make_window()
    db = window.controller.store.path
    _index(db, tour, tiny_siglip_dir, tmp_path)
    with LibraryStore(db) as library:
        library.add_folder(tour.parent)
        scan_library(library)
    view = window.library_view
    window.side_tabs.setCurrentWidget(view)

    view.search_box.setText(LOOK_QUESTION)
    qtbot.keyClick(view.search_box, Qt.Key.Key_Return)
    assert view.moments() == []  # by words: nothing, at once
    assert "Looking at the pictures too" in view.empty_label.text()
    qtbot.waitUntil(lambda: view.moments() != [], timeout=CHILD_TIMEOUT_MS)  # then by look, from the child
    qtbot.waitUntil(lambda: not window.library.is_looking(), timeout=5000)
    assert "Looking at the pictures too" not in view.empty_label.text()
    with LibraryStore(db) as library, IndexStore(db) as index:
        expected = search(library, LOOK_QUESTION, limit=50, image_search=KeyframeImageSearch(index))[0]
    path, start_s, end_s = view.moments()[0]
    assert path == str(expected.video) and (start_s, end_s) == (expected.start_s, expected.end_s)
    assert "(seen in the picture)" in view.results.item(0).text()

    view.search_box.setText("castle")  # words and looks fused: the cue's moment is found too
    qtbot.keyClick(view.search_box, Qt.Key.Key_Return)
    assert view.moments()[0][1] <= 6.0 <= view.moments()[0][2]
    qtbot.waitUntil(lambda: not window.library.is_looking(), timeout=CHILD_TIMEOUT_MS)
    assert any(s <= 6.0 <= e for _, s, e in view.moments())
