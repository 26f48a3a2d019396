"""The main flow through the real window, controller and worker thread, with the fake backend."""

from __future__ import annotations

import shutil
import time

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from core_model.backends.base import ImageRef, SegmentRef
from desktop_app.chat.exchange import AnswerState
from tests.desktop_app.conftest import ask_and_wait, open_video_and_wait


def _drag(qtbot, widget, x_from: float, x_to: float) -> None:
    y = widget.height() // 2 + 4
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(round(x_from), y))
    for step in range(1, 6):
        x = x_from + (x_to - x_from) * step / 5
        QTest.mouseMove(widget, QPoint(round(x), y))
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(round(x_to), y))


def test_select_by_dragging_and_by_keys_then_ask(qtbot, make_window, gui_video, fake_factory):
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    timeline = window.timeline
    assert timeline.duration_ms() == 4000

    # Drag on the strip draws a selection; dragging its end handle resizes it.
    _drag(qtbot, timeline, timeline.x_for_ms(1000), timeline.x_for_ms(3000))
    start, end = timeline.selection_ms()
    assert abs(start - 1000) < 60 and abs(end - 3000) < 60
    _drag(qtbot, timeline, timeline.x_for_ms(end), timeline.x_for_ms(3500))
    start, end = timeline.selection_ms()
    assert abs(start - 1000) < 60 and abs(end - 3500) < 60
    assert "0:01.0" in window.segment_bar.label.text()

    # I and O set the bounds at the playhead.
    window.activateWindow()
    window.timeline.setFocus()
    window.player.set_position_ms(500)
    qtbot.waitUntil(lambda: abs(window.player.position_ms() - 500) <= 40)
    in_ms = window.player.position_ms()
    QTest.keyClick(window.timeline, Qt.Key.Key_I)
    assert window.timeline.selection_ms()[0] == in_ms
    window.player.set_position_ms(2500)
    qtbot.waitUntil(lambda: abs(window.player.position_ms() - 2500) <= 40)
    out_ms = window.player.position_ms()
    QTest.keyClick(window.timeline, Qt.Key.Key_O)
    assert window.timeline.selection_ms() == (in_ms, out_ms)
    assert f"0:0{in_ms / 1000:.1f} – 0:0{out_ms / 1000:.1f}" in window.segment_bar.label.text()

    window.chat.composer.set_include_audio(False)
    widget = ask_and_wait(qtbot, window, "What moves?")
    assert widget.exchange.state == AnswerState.DONE
    assert widget.answer_view.text == "The dog runs at 0:01."
    request = fake_factory.requests[-1]
    assert request.media == [SegmentRef(str(gui_video.resolve()), in_ms / 1000, out_ms / 1000, include_audio=False)]
    assert request.conversation[-1].text == "What moves?"
    assert timeline.asked_segments() == [(in_ms, out_ms)]
    qtbot.waitUntil(lambda: widget.question_view.num_frame_thumbs == 8, timeout=10000)


def test_dropped_image_reaches_the_backend_and_stop_marks_the_answer(qtbot, make_window, gui_video, gui_image,
                                                                      fake_factory):
    fake_factory.script.pieces = ["word "] * 400
    fake_factory.script.delay_s = 0.01
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    window.handle_dropped_paths([str(gui_image)])
    assert window.chat.composer.attachments.image_paths() == [str(gui_image)]
    widget = ask_and_wait(qtbot, window, "What colour is the picture?", final=False)
    assert not window.chat.composer.attachments.image_paths()  # sent with the question
    qtbot.waitUntil(lambda: widget.exchange.state == AnswerState.ANSWERING and len(widget.answer_view.text) > 20)
    qtbot.mouseClick(window.chat.composer.stop_button, Qt.MouseButton.LeftButton)
    assert widget.exchange.state == AnswerState.STOPPED  # at once, not when the worker gets round to it
    assert "Stopped" in widget.answer_view.state_label.text()
    text_at_stop = widget.answer_view.text
    qtbot.wait(200)
    assert widget.answer_view.text == text_at_stop  # late pieces were dropped
    request = fake_factory.requests[-1]
    assert ImageRef(str(gui_image)) in request.media
    assert any(isinstance(m, SegmentRef) for m in request.media)
    assert not window.chat.composer.stop_button.isEnabled()


def test_questions_queue_visibly(qtbot, make_window, gui_video, fake_factory):
    fake_factory.script.delay_s = 0.05
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    first = ask_and_wait(qtbot, window, "First?", final=False)
    second = ask_and_wait(qtbot, window, "Second?", final=False)
    qtbot.waitUntil(lambda: first.exchange.state == AnswerState.ANSWERING)
    assert second.exchange.state == AnswerState.QUEUED
    assert "1 question ahead" in second.answer_view.state_label.text()
    assert window.chat.composer.queue_label.text() == "1 waiting"
    qtbot.waitUntil(lambda: second.exchange.state == AnswerState.DONE, timeout=10000)
    assert first.exchange.state == AnswerState.DONE
    assert [r.conversation[-1].text for r in fake_factory.requests] == ["First?", "Second?"]


def test_closing_during_generation_ends_the_worker_within_two_seconds(qtbot, make_window, gui_video, fake_factory):
    fake_factory.script.pieces = ["word "] * 2000
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    widget = ask_and_wait(qtbot, window, "Tell me everything.", final=False)
    qtbot.waitUntil(lambda: widget.exchange.state == AnswerState.ANSWERING and len(widget.answer_view.text) > 10)
    started = time.monotonic()
    window.close()
    elapsed_s = time.monotonic() - started
    assert window.controller.client.thread.isFinished()
    assert window.thumbnails.thread.isFinished()
    assert elapsed_s < 2.0
    turns = list(window.store.iter_all_turns())
    assert turns[-1].status == "stopped" and turns[-1].text.startswith("word")


def test_renamed_video_gets_its_chat_back(qtbot, make_window, gui_video, tmp_path):
    first_copy = tmp_path / "holiday.mp4"
    shutil.copy(gui_video, first_copy)
    window = make_window()
    open_video_and_wait(qtbot, window, first_copy)
    ask_and_wait(qtbot, window, "Where was this?")
    window.close()

    renamed = tmp_path / "moved" / "renamed.mp4"
    renamed.parent.mkdir()
    first_copy.rename(renamed)
    again = make_window()
    open_video_and_wait(qtbot, again, renamed)
    qtbot.waitUntil(lambda: len(again.chat.exchange_widgets()) == 1)
    restored = again.chat.exchange_widgets()[0]
    assert restored.exchange.question == "Where was this?"
    assert restored.exchange.answer == "The dog runs at 0:01."
    assert restored.exchange.state == AnswerState.DONE
    assert again.chat.chat_combo.currentText() == "Where was this?"


def test_bad_file_shows_an_error_and_the_app_goes_on(qtbot, make_window, gui_video, tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n")
    window = make_window()
    window.handle_dropped_paths([str(bad)])
    qtbot.waitUntil(lambda: bool(window.chat.notices()), timeout=5000)
    assert "notes.mp4" in window.chat.notices()[0]
    assert window.player.path is None
    open_video_and_wait(qtbot, window, gui_video)
    assert ask_and_wait(qtbot, window, "Still working?").exchange.state == AnswerState.DONE


def test_timestamp_in_answer_seeks_the_player(qtbot, make_window, gui_video):
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    widget = ask_and_wait(qtbot, window, "When does it run?")
    browser = widget.answer_view.browser
    cursor = browser.document().find("0:01")
    assert cursor.charFormat().anchorHref() == "vidi-seek:1.000"
    cursor.setPosition(cursor.selectionStart() + 1)
    point = browser.cursorRect(cursor).center()
    QTest.mouseClick(browser.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    qtbot.waitUntil(lambda: window.player.position_ms() == 1000)
    assert window.timeline.position_ms() == 1000


def test_model_that_fails_to_load_shows_why(qtbot, make_window, gui_video, fake_factory):
    fake_factory.script.load_error = "The model folder '/models/x' has no config.json."
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    widget = ask_and_wait(qtbot, window, "Anything?")
    assert widget.exchange.state == AnswerState.FAILED
    assert "no config.json" in widget.answer_view.state_label.text()
    fake_factory.script.load_error = None
    assert ask_and_wait(qtbot, window, "And now?").exchange.state == AnswerState.DONE


def test_out_of_memory_during_generation_is_shown(qtbot, make_window, gui_video, fake_factory):
    from core_model.backends.base import OutOfMemoryError

    fake_factory.script.answer_error = OutOfMemoryError("Out of GPU memory: try fewer frames or 4-bit.")
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    widget = ask_and_wait(qtbot, window, "Big question?")
    assert widget.exchange.state == AnswerState.FAILED
    assert "Out of GPU memory" in widget.answer_view.state_label.text()
    turns = list(window.store.iter_all_turns())
    assert turns[-1].status == "error" and "Out of GPU memory" in turns[-1].error
