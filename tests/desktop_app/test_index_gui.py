"""The window's side of the index (issue 11 item 4), through the real window, the real child process that builds
the index, and a real SQLite database: the Index action with its progress and stop, resumption, the transcript
tab (follows playback, click seeks, find, SRT/VTT export), chapter markers on the timeline, the state line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from core_model.index.subtitles import parse_subtitles
from core_model.store.fingerprint import fingerprint_file
from core_model.store.index_records import Chapter, Cue
from core_model.store.index_store import IndexStore
from desktop_app.index.index_wiring import choose_export_file, index_db_path
from desktop_app.index.transcript_pane import NO_TRANSCRIPT, NOTHING_SAID
from tests.desktop_app.conftest import open_video_and_wait
from tests.fixtures.index_media import SUBTITLE_SRT, write_scene_video

BUILD_TIMEOUT_MS = 90000  # a spawn child imports numpy, PyAV and OpenCV: seconds on 2 busy cores


@pytest.fixture
def subtitled_scenes(tmp_path) -> Path:
    """12 s with cuts at 3, 6 and 8 s, and a sidecar ``talk.srt`` (two lines) beside it."""
    video = write_scene_video(tmp_path / "talk.mp4", [75, 75, 50, 100])
    (tmp_path / "talk.srt").write_text(SUBTITLE_SRT, encoding="utf-8")
    return video


@pytest.fixture
def long_scenes(tmp_path) -> Path:
    """300 s at 20 fps, 64x48, no sound, a shot every 5 s: its scenes take seconds to find, so a build can be
    stopped midway, after some scenes are committed."""
    return write_scene_video(tmp_path / "long.mp4", [100] * 60, fps=20, width=64, height=48)


class _Progress:
    def __init__(self, window) -> None:
        self.reports: list = []
        window.index.job.progress.connect(self.reports.append)

    def of(self, part: str) -> list:
        return [p for p in self.reports if p.part == part]


def _wait_for_committed_scenes(qtbot, window, video: Path) -> None:
    """Until the child has committed some scenes (not only decoded past the first frames)."""
    fingerprint = fingerprint_file(video)

    def committed() -> bool:
        with IndexStore(index_db_path(window)) as store:
            return store.part(fingerprint, "scenes").done_until_s > 0

    qtbot.waitUntil(committed, timeout=BUILD_TIMEOUT_MS)


def _wait_idle(qtbot, window, timeout_ms: int = BUILD_TIMEOUT_MS) -> None:
    qtbot.waitUntil(lambda: not window.index.is_running(), timeout=timeout_ms)


def test_index_action_builds_in_a_child_process_and_shows_transcript_and_state(qtbot, make_window,
                                                                               subtitled_scenes):
    torch_before = "torch" in sys.modules
    window = make_window()
    open_video_and_wait(qtbot, window, subtitled_scenes)
    status = window.index_status
    assert status.state_label.text() == "Not indexed"
    assert window.transcript.empty_label.isVisibleTo(window.transcript)
    assert status.index_button.isVisibleTo(status) and not status.stop_button.isVisibleTo(status)
    progress = _Progress(window)
    texts: list[str] = []
    window.index.progress_changed.connect(lambda text, _percent: texts.append(text))

    window.actions_.index_video.trigger()
    assert window.index.is_running()
    assert status.progress_bar.isVisibleTo(status) and status.stop_button.isVisibleTo(status)
    assert not status.state_label.isVisibleTo(status)  # the progress line says what is built meanwhile
    child = window.index.job._process
    _wait_idle(qtbot, window)

    assert child.exitcode == 0 and not child.is_alive()
    assert [p.part for p in progress.reports][:1] == ["transcript"] and progress.of("scenes")
    assert any(t.startswith("Indexing scenes (2/5)") for t in texts)
    assert status.state_label.text() == "Indexed: transcript, scenes"
    assert not status.progress_bar.isVisibleTo(status) and status.index_button.isVisibleTo(status)
    assert status.state_label.isVisibleTo(status)
    # "fake-model" titles no chapter: chapters are skipped with the reason, the rest is usable
    assert "chapters skipped" in window.statusBar().currentMessage()
    assert "fake-model" in window.statusBar().currentMessage()
    assert "chapters: not built (Model 'fake-model' is not a folder" in status.state_label.toolTip()
    assert [c.text for c in window.transcript.cues()] == ["Hello there", "The castle is old and tall"]
    assert window.transcript.lines.item(1).text() == "0:02   The castle is old and tall"
    assert window.actions_.export_transcript.isEnabled()
    if not torch_before:
        assert "torch" not in sys.modules  # the window's process never loads the model side
    with IndexStore(index_db_path(window)) as store:  # the window's own database, keyed by content
        assert len(store.scenes(fingerprint_file(subtitled_scenes))) == 4


def _store_index(window, video: Path, cues: list[Cue], chapters: list[Chapter]) -> None:
    fingerprint = fingerprint_file(video)
    with IndexStore(index_db_path(window)) as store:
        store.add_cues(fingerprint, cues, until_s=12.0, done=True, source="sidecar", model_id="talk.srt")
        store.replace_chapters(fingerprint, chapters, model_id="tiny")


def test_an_indexed_video_shows_its_transcript_and_chapters_on_opening(qtbot, make_window, subtitled_scenes,
                                                                       gui_video):
    window = make_window()
    cues = [Cue(0.5, 1.5, "Hello there"), Cue(2.0, 3.25, "The castle is old and tall"),
            Cue(7.0, 9.0, "Grandma gives her speech")]
    _store_index(window, subtitled_scenes, cues,
                 [Chapter(0.0, 6.0, "Arrival at the castle", ""), Chapter(6.0, 12.0, "The speech", "")])
    open_video_and_wait(qtbot, window, subtitled_scenes)

    assert window.index_status.state_label.text() == "Indexed: transcript, chapters"
    assert "scenes: not built" in window.index_status.state_label.toolTip()
    assert [(m.start_ms, m.end_ms, m.title) for m in window.timeline.chapters()] == [
        (0, 6000, "Arrival at the castle"), (6000, 12000, "The speech")]
    pane = window.transcript
    assert pane.lines.count() == 3

    # the line being said follows playback
    window.player.set_position_ms(2500)
    qtbot.waitUntil(lambda: pane.current_row() == 1, timeout=5000)
    assert pane.lines.item(1).font().bold() and not pane.lines.item(0).font().bold()
    window.player.set_position_ms(8000)
    qtbot.waitUntil(lambda: pane.current_row() == 2, timeout=5000)

    # a click on a line seeks there
    window.side_tabs.setCurrentWidget(pane)
    qtbot.waitUntil(lambda: pane.lines.isVisible())
    rect = pane.lines.visualItemRect(pane.lines.item(0))
    qtbot.mouseClick(pane.lines.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: abs(window.player.position_ms() - 500) <= 60, timeout=5000)
    assert pane.current_row() == 0

    # find in transcript
    qtbot.keyClicks(pane.find_box, "CASTLE old")
    assert pane.visible_rows() == [1]
    assert pane.count_label.text() == "1 of 3 lines match"
    pane.find_box.setText("nobody said this")
    assert pane.visible_rows() == [] and pane.count_label.text() == "No line matches"
    pane.find_box.clear()
    assert pane.visible_rows() == [0, 1, 2]

    # another video: its own (empty) index, and the search, which was about the first one, is cleared
    pane.find_box.setText("castle")
    open_video_and_wait(qtbot, window, gui_video)
    qtbot.waitUntil(lambda: window.index.video == str(gui_video.resolve()))
    assert pane.find_box.text() == "" and pane.cues() == [] and window.timeline.chapters() == []
    assert window.index_status.state_label.text() == "Not indexed"
    assert pane.empty_label.text() == NO_TRANSCRIPT


def test_export_writes_srt_and_vtt_and_refuses_other_names_in_one_line(qtbot, make_window, subtitled_scenes,
                                                                        tmp_path):
    window = make_window()
    cues = [Cue(0.5, 1.5, "Hello there"), Cue(2.0, 3.25, "The castle is old and tall")]
    _store_index(window, subtitled_scenes, cues, [])
    open_video_and_wait(qtbot, window, subtitled_scenes)

    srt = choose_export_file(window, window.transcript, str(tmp_path / "out.srt"))
    assert [(c.start_s, c.end_s, c.text) for c in parse_subtitles(srt.read_text("utf-8"))] == [
        (0.5, 1.5, "Hello there"), (2.0, 3.25, "The castle is old and tall")]
    vtt = choose_export_file(window, window.transcript, str(tmp_path / "out.vtt"))
    assert vtt.read_text("utf-8").startswith("WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nHello there")
    assert "Transcript exported to" in window.statusBar().currentMessage()

    assert choose_export_file(window, window.transcript, str(tmp_path / "out.txt")) is None
    message = window.statusBar().currentMessage()
    assert message.startswith("Export failed: cannot export to 'out.txt'") and "\n" not in message
    assert choose_export_file(window, window.transcript, str(tmp_path / "missing" / "out.srt")) is None
    assert window.statusBar().currentMessage().startswith("Export failed: cannot write")


def test_stop_keeps_what_was_built_and_indexing_again_resumes_there(qtbot, make_window, long_scenes):
    window = make_window()
    open_video_and_wait(qtbot, window, long_scenes)
    progress = _Progress(window)
    window.actions_.index_video.trigger()
    _wait_for_committed_scenes(qtbot, window, long_scenes)
    window.actions_.stop_index.trigger()
    assert window.index_status.progress_label.text().startswith("Stopping")
    _wait_idle(qtbot, window)

    assert window.statusBar().currentMessage().startswith("Indexing stopped")
    scenes = window.index.parts["scenes"]
    assert scenes.state == "partial" and 0 < scenes.done_until_s < 300
    assert "scenes (to " in window.index_status.state_label.text()

    progress.reports.clear()
    window.actions_.index_video.trigger()
    _wait_idle(qtbot, window)
    first = progress.of("scenes")[0]
    assert first.position_s == pytest.approx(scenes.done_until_s)  # went on where it stopped
    assert window.index_status.state_label.text() == "Indexed: transcript, scenes"
    assert window.transcript.empty_label.text() == NOTHING_SAID  # no sound, no subtitles: built, and empty


def test_closing_the_window_ends_the_index_process(qtbot, make_window, long_scenes):
    window = make_window()
    open_video_and_wait(qtbot, window, long_scenes)
    progress = _Progress(window)
    window.actions_.index_video.trigger()
    child = window.index.job._process
    qtbot.waitUntil(lambda: bool(progress.of("scenes")), timeout=BUILD_TIMEOUT_MS)
    window.close()
    assert not child.is_alive()
    assert not window.index.is_running()


def test_a_video_gone_since_it_was_opened_fails_in_one_line_and_the_window_goes_on(qtbot, make_window,
                                                                                    subtitled_scenes, tmp_path):
    moved = tmp_path / "moved.mp4"
    moved.write_bytes(subtitled_scenes.read_bytes())
    window = make_window()
    open_video_and_wait(qtbot, window, moved)
    moved.unlink()
    window.actions_.index_video.trigger()
    _wait_idle(qtbot, window)
    message = window.statusBar().currentMessage()
    assert message.startswith("Indexing failed:") and "moved.mp4" in message and "\n" not in message
    assert "Traceback" not in message
    assert window.index_status.index_button.isVisibleTo(window.index_status)


def test_index_action_without_a_video_says_so(qtbot, make_window):
    window = make_window()
    window.actions_.index_video.trigger()
    assert not window.index.is_running()
    assert window.statusBar().currentMessage() == "Open a video to index it."


def test_the_chosen_model_titles_chapters_that_the_timeline_marks(qtbot, make_window, settings, subtitled_scenes,
                                                                    tiny_vlm_dir):
    from desktop_app.settings import Key

    settings.set_value(Key.MODEL, str(tiny_vlm_dir))  # a real (tiny, random) model, loaded in the child only
    window = make_window()
    open_video_and_wait(qtbot, window, subtitled_scenes)
    window.actions_.index_video.trigger()
    _wait_idle(qtbot, window, timeout_ms=180000)

    assert window.index_status.state_label.text() == "Indexed: transcript, scenes, captions, chapters"
    marks = window.timeline.chapters()
    assert len(marks) == 1 and (marks[0].start_ms, marks[0].end_ms) == (0, 12000) and marks[0].title
    assert window.index.parts["chapters"].model_id


def test_a_build_goes_on_when_another_video_is_opened_and_names_its_video(qtbot, make_window, long_scenes,
                                                                           gui_video):
    window = make_window()
    open_video_and_wait(qtbot, window, long_scenes)
    progress = _Progress(window)
    window.actions_.index_video.trigger()
    open_video_and_wait(qtbot, window, gui_video)
    qtbot.waitUntil(lambda: window.index.video == str(gui_video.resolve()), timeout=10000)
    assert window.index.is_running()
    window.actions_.index_video.trigger()  # one build at a time
    assert window.statusBar().currentMessage() == "long.mp4 is being indexed: stop it first."
    qtbot.waitUntil(lambda: bool(progress.of("scenes")), timeout=BUILD_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.index_status.progress_label.text().startswith("long.mp4: Indexing"), timeout=5000)
    window.actions_.stop_index.trigger()
    _wait_idle(qtbot, window)
    assert window.index_status.state_label.text() == "Not indexed"  # the open video's state, not long.mp4's


def test_a_killed_index_process_is_one_line_and_indexing_again_goes_on(qtbot, make_window, long_scenes):
    import os
    import signal

    window = make_window()
    open_video_and_wait(qtbot, window, long_scenes)
    progress = _Progress(window)
    window.actions_.index_video.trigger()
    _wait_for_committed_scenes(qtbot, window, long_scenes)
    os.kill(window.index.job._process.pid, signal.SIGKILL)  # as the out-of-memory killer would
    _wait_idle(qtbot, window)
    message = window.statusBar().currentMessage()
    assert message.startswith("Indexing failed: The indexing process ended unexpectedly (exit code -9)")
    assert "\n" not in message
    done_until_s = window.index.parts["scenes"].done_until_s
    assert window.index.parts["scenes"].state == "partial"

    progress.reports.clear()
    window.actions_.index_video.trigger()
    _wait_idle(qtbot, window)
    assert progress.of("scenes")[0].position_s == pytest.approx(done_until_s)
    assert window.index_status.state_label.text() == "Indexed: transcript, scenes"


def test_hovering_a_chapter_on_the_timeline_names_it(qtbot, make_window, subtitled_scenes):
    from PySide6.QtCore import QPoint
    from PySide6.QtTest import QTest

    window = make_window()
    _store_index(window, subtitled_scenes, [Cue(0.5, 1.5, "Hello there")],
                 [Chapter(0.0, 6.0, "Arrival at the castle", ""), Chapter(6.0, 12.0, "The speech", "")])
    open_video_and_wait(qtbot, window, subtitled_scenes)
    timeline = window.timeline
    y = timeline.height() // 2
    QTest.mouseMove(timeline, QPoint(round(timeline.x_for_ms(9000)), y))
    assert timeline.toolTip() == "Chapter: The speech"
    QTest.mouseMove(timeline, QPoint(round(timeline.x_for_ms(1000)), y))
    assert timeline.toolTip() == "Chapter: Arrival at the castle"
