"""Evidence is exactly what the model saw: each question's frames, counts and audio come from its own RunInfo, and
the status bar says the device and precision the backend really runs with (its describe()), not the settings."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop_app.chat.exchange import AnswerState
from desktop_app.session_controller import MAX_FRAME_THUMBS
from desktop_app.settings import Key
from tests.desktop_app.conftest import ask_and_wait, open_video_and_wait


def _thumb_times(widget) -> list[str]:
    return [label.toolTip() for label in widget.question_view.findChildren(type(widget.question_view.about_label),
                                                                           "thumb")]


def test_a_stopped_question_never_shows_the_previous_questions_frames(qtbot, make_window, gui_video, fake_factory):
    # ProcessBackend writes last_run only when its child says "done" (for a stopped answer too, once drained)
    fake_factory.script.run_reported_at_end = True
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    window.timeline.set_selection_ms(0, 1000)
    first = ask_and_wait(qtbot, window, "What is first?")
    qtbot.waitUntil(lambda: first.question_view.num_frame_thumbs == 8, timeout=10000)

    fake_factory.script.pieces = ["word "] * 300
    window.timeline.set_selection_ms(1200, 3200)
    second = ask_and_wait(qtbot, window, "And in the middle?", final=False)
    qtbot.waitUntil(lambda: second.exchange.state == AnswerState.ANSWERING and len(second.answer_view.text) > 10)
    qtbot.mouseClick(window.chat.composer.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.controller.client.worker._current_id is None, timeout=5000)
    qtbot.wait(300)  # the stopped request's run and any thumbnails would have arrived by now

    # the stopped answer's own run (ProcessBackend reads it from the child's final "done"): its frames only
    assert second.exchange.frame_times_s and all(1.15 <= t <= 3.25 for t in second.exchange.frame_times_s)
    assert "frame at 0:00" not in " ".join(_thumb_times(second))


def test_counts_in_the_header_and_footer_agree_and_come_from_the_run(qtbot, make_window, settings, gui_video,
                                                                     fake_factory):
    settings.set_value(Key.NUM_FRAMES, 24)  # more frames than the strip shows thumbnails of
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    window.timeline.set_selection_ms(1200, 3200)
    widget = ask_and_wait(qtbot, window, "What happens?")
    qtbot.waitUntil(lambda: widget.question_view.num_frame_thumbs == MAX_FRAME_THUMBS, timeout=15000)
    header, footer = widget.question_view.about_label.text(), widget.answer_view.state_label.text()
    assert "24 frames seen" in header
    assert "16 frames" not in header and "16 frames" not in footer
    times = _thumb_times(widget)
    assert len(times) == MAX_FRAME_THUMBS and times[0] == "frame at 0:01.2"  # spread over the segment, first kept
    assert times[-1] == "frame at 0:03.2"


def test_frames_of_earlier_turns_are_counted_apart_from_the_questions_own():
    from desktop_app.chat.evidence import evidence_of, spread

    # a backend that sends an earlier turn's segment again reports its frames first, then the question's own
    earlier, own = [0.1, 0.4, 0.6, 0.9], [1.4, 1.9, 2.4, 2.9]
    evidence = evidence_of(earlier + own, used_audio=False, segment_ms=(1200, 3200), whole_video=False,
                           has_sound=True)
    assert evidence.frame_times_s == own and evidence.earlier_frames == 4
    assert evidence_of(own, True, None, False, True).frame_times_s == []  # an image-only question saw no segment
    # a backend that says it used audio for a file with no sound did not hear anything
    assert evidence_of(own, True, (1200, 3200), False, has_sound=False).heard_audio is False
    assert evidence_of(own, True, (1200, 3200), False, has_sound=True).heard_audio is True
    assert evidence_of(own, False, (1200, 3200), False, has_sound=True).heard_audio is False
    assert spread(list(range(24)), 16)[0] == 0 and spread(list(range(24)), 16)[-1] == 23
    assert len(spread(list(range(24)), 16)) == 16 and spread([1, 2], 16) == [1, 2]


def test_with_audio_only_when_the_video_has_sound_and_the_model_heard_it(qtbot, make_window, gui_video,
                                                                         gui_silent_video, fake_factory):
    window = make_window()  # the fake takes audio and reports used_audio whenever audio was asked for
    open_video_and_wait(qtbot, window, gui_silent_video)
    composer = window.chat.composer
    assert not composer.include_audio() and "no sound" in composer.audio_check.toolTip()
    silent = ask_and_wait(qtbot, window, "What do you hear?")
    assert not fake_factory.requests[-1].media[0].include_audio  # no sound is asked for from a silent file
    assert "no audio" in silent.question_view.about_label.text()
    assert "with audio" not in silent.answer_view.state_label.text()

    window.open_video(str(gui_video))
    qtbot.waitUntil(lambda: window.controller.video_path == str(gui_video.resolve()), timeout=10000)
    assert composer.include_audio()
    loud = ask_and_wait(qtbot, window, "And here?")
    assert "with audio" in loud.question_view.about_label.text()

    window.chat.composer.audio_check.setChecked(False)
    quiet = ask_and_wait(qtbot, window, "Without the sound?")
    assert not fake_factory.last.last_run.used_audio
    assert "no audio" in quiet.question_view.about_label.text()


def test_evidence_is_shown_again_from_the_stored_run(qtbot, make_window, gui_silent_video, fake_factory):
    window = make_window()
    open_video_and_wait(qtbot, window, gui_silent_video)
    window.timeline.set_selection_ms(1000, 2000)
    ask_and_wait(qtbot, window, "What do you hear?")
    window.controller.select_chat(window.controller.chat_id)  # the chat read back from the store
    restored = window.chat.exchange_widgets()[-1]
    assert "8 frames seen" in restored.question_view.about_label.text()
    assert "no audio" in restored.question_view.about_label.text()
    qtbot.waitUntil(lambda: restored.question_view.num_frame_thumbs == 8, timeout=10000)


def test_status_bar_shows_the_device_and_precision_the_backend_reports(qtbot, make_window, settings, gui_video,
                                                                      fake_factory):
    settings.set_value(Key.LOAD_IN_4BIT, True)  # asked for, but this backend runs unquantized on the CPU
    settings.set_value(Key.DEVICE, "auto")
    fake_factory.script.dtype = "bfloat16"
    fake_factory.script.notice = "Running on the CPU: answers will be slow."
    window = make_window()
    assert "4-bit" not in window.device_label.text()  # nothing is claimed before the model is loaded
    open_video_and_wait(qtbot, window, gui_video)
    ask_and_wait(qtbot, window, "What is this?")
    qtbot.waitUntil(lambda: window.device_label.text() != "", timeout=5000)
    assert window.device_label.text() == "CPU · bfloat16"
    assert "slow" in window.device_label.toolTip()
    assert window.model_label.text() == "Model: fake-model · ready"



def test_the_backends_notice_is_shown_once_not_after_every_answer(qtbot, make_window, gui_video, fake_factory):
    # "Running on the CPU: answers will be slow ..." came back over the status bar after each answer
    fake_factory.script.notice = "Running on the CPU: answers will be slow."
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    ask_and_wait(qtbot, window, "What is this?")
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == fake_factory.script.notice, timeout=5000)
    window.statusBar().clearMessage()
    shown: list[str] = []
    window.statusBar().messageChanged.connect(shown.append)
    ask_and_wait(qtbot, window, "And now?")
    qtbot.wait(300)
    assert fake_factory.script.notice not in shown
    assert "slow" in window.device_label.toolTip()  # still there for whoever looks
