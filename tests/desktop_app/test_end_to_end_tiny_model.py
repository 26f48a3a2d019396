"""The main flow once end to end: the real worker thread starts the model process, which loads the tiny
random-weight transformers model through core_model's registry, and the answer streams into the chat."""

from __future__ import annotations

from core_model.backends.base import SegmentRef
from desktop_app.chat.exchange import AnswerState
from desktop_app.settings import Key
from desktop_app.workers.model_process import ProcessBackend
from tests.desktop_app.conftest import ask_and_wait, open_video_and_wait


def test_tiny_model_answers_about_a_segment_through_the_real_worker(qtbot, make_window, settings, gui_video,
                                                                     tiny_vlm_dir):
    settings.set_value(Key.MODEL, str(tiny_vlm_dir))
    settings.set_value(Key.DEVICE, "cpu")
    settings.set_value(Key.LOAD_IN_4BIT, False)
    settings.set_value(Key.NUM_FRAMES, 4)
    settings.set_value(Key.MAX_NEW_TOKENS, 12)
    window = make_window(real_backend=True)  # the real factory: a model process running core_model's registry
    open_video_and_wait(qtbot, window, gui_video)
    qtbot.waitUntil(lambda: window.controller.capabilities is not None, timeout=60_000)  # the model process described it
    window.timeline.set_selection_ms(1000, 3000)
    pieces = []
    window.controller.piece_added.connect(lambda key, piece: pieces.append(piece))
    widget = ask_and_wait(qtbot, window, "What is in this part of the video?", timeout_ms=180_000)

    assert widget.exchange.state == AnswerState.DONE, widget.answer_view.state_label.text()
    assert len(pieces) >= 3 and widget.answer_view.text == "".join(pieces)  # streamed piece by piece
    backend = window.controller.client.worker._backend
    assert isinstance(backend, ProcessBackend) and backend.model_id == tiny_vlm_dir.name
    run = backend.last_run
    assert run.frame_timestamps_s and all(1.0 <= t <= 3.0 for t in run.frame_timestamps_s)
    assert run.used_audio is False  # the tiny model takes no audio: the GUI knew (describe) and sent none
    user_turn, answer_turn = list(window.store.iter_all_turns())[-2:]
    segment = next(m for m in user_turn.media if isinstance(m, SegmentRef))
    assert (segment.start_s, segment.end_s, segment.include_audio) == (1.0, 3.0, False)
    assert answer_turn.status == "complete" and answer_turn.text == widget.answer_view.text
    assert not window.chat.composer.audio_check.isEnabled()  # "this model does not take audio"
    window.close()
    assert window.controller.client.thread.isFinished()
    assert backend._process is None  # the model process was ended with the window


def test_a_stopped_question_through_the_model_process_never_shows_earlier_frames(qtbot, make_window, settings,
                                                                                 gui_video, tiny_vlm_dir):
    from PySide6.QtCore import Qt

    settings.set_value(Key.MODEL, str(tiny_vlm_dir))
    settings.set_value(Key.DEVICE, "cpu")
    settings.set_value(Key.LOAD_IN_4BIT, False)
    settings.set_value(Key.NUM_FRAMES, 4)
    settings.set_value(Key.MAX_NEW_TOKENS, 200)
    window = make_window(real_backend=True)
    open_video_and_wait(qtbot, window, gui_video)
    window.timeline.set_selection_ms(0, 2000)  # 2 s: 4 frames at the planner's 2 fps
    first = ask_and_wait(qtbot, window, "What is first?", timeout_ms=180_000)
    qtbot.waitUntil(lambda: first.question_view.num_frame_thumbs == 4, timeout=20_000)
    assert window.device_label.text().startswith("CPU") and "4-bit" not in window.device_label.text()

    window.timeline.set_selection_ms(1200, 3200)
    second = ask_and_wait(qtbot, window, "And in the middle?", final=False)
    qtbot.waitUntil(lambda: len(second.answer_view.text) > 0, timeout=60_000)
    qtbot.mouseClick(window.chat.composer.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.controller.client.worker._current_id is None, timeout=20_000)
    qtbot.wait(500)
    assert all(1.15 <= t <= 3.25 for t in second.exchange.frame_times_s), second.exchange.frame_times_s
    thumbs = [label.toolTip() for label in second.question_view.findChildren(type(second.question_view.about_label),
                                                                             "thumb")]
    assert not any(tip.startswith("frame at 0:00") for tip in thumbs), thumbs


def test_a_renamed_video_fails_in_one_line_and_the_next_question_answers(qtbot, make_window, settings, gui_video,
                                                                         tiny_vlm_dir, tmp_path):
    """The last round's hang: the model process raised a MediaError that was not a BackendError, the proxy
    re-raised it without reading the rest of the reply, and waited forever. Now: one line, then the next answer."""
    import shutil

    settings.set_value(Key.MODEL, str(tiny_vlm_dir))
    settings.set_value(Key.DEVICE, "cpu")
    settings.set_value(Key.LOAD_IN_4BIT, False)
    settings.set_value(Key.NUM_FRAMES, 4)
    settings.set_value(Key.MAX_NEW_TOKENS, 6)
    video = tmp_path / "holiday.mp4"
    shutil.copy(gui_video, video)
    window = make_window(real_backend=True)
    open_video_and_wait(qtbot, window, video)
    window.timeline.set_selection_ms(1000, 3000)
    first = ask_and_wait(qtbot, window, "What is first?", timeout_ms=180_000)
    assert first.exchange.state == AnswerState.DONE

    video.rename(tmp_path / "holiday-renamed.mp4")
    second = ask_and_wait(qtbot, window, "And now?", timeout_ms=30_000)
    assert second.exchange.state == AnswerState.FAILED
    message = second.answer_view.state_label.text()
    assert "holiday.mp4" in message and "\n" not in message, message

    (tmp_path / "holiday-renamed.mp4").rename(video)
    third = ask_and_wait(qtbot, window, "And again?", timeout_ms=30_000)
    assert third.exchange.state == AnswerState.DONE and third.answer_view.text


def test_a_renamed_open_video_in_the_library_is_offered_at_its_new_place(qtbot, make_window, settings, gui_video,
                                                                          tiny_vlm_dir, tmp_path):
    """The real model process says "file not found"; the library knows the same content under its new name (the
    scan follows fingerprints): the chat says where it is and opens it there, and the next question answers."""
    import shutil

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    from desktop_app.library.library_wiring import choose_library_folder

    settings.set_value(Key.MODEL, str(tiny_vlm_dir))
    settings.set_value(Key.DEVICE, "cpu")
    settings.set_value(Key.NUM_FRAMES, 4)
    settings.set_value(Key.MAX_NEW_TOKENS, 6)
    folder = tmp_path / "videos"
    folder.mkdir()
    video = folder / "holiday.mp4"
    shutil.copy(gui_video, video)
    window = make_window(real_backend=True)
    assert choose_library_folder(window, window.library, folder=str(folder))
    qtbot.waitUntil(lambda: window.library_view.summary_label.text().startswith("1 video"), timeout=15000)
    open_video_and_wait(qtbot, window, video)
    renamed = folder / "Holiday at the sea.mp4"
    video.rename(renamed)
    window.timeline.set_selection_ms(1000, 3000)

    failed = ask_and_wait(qtbot, window, "What is first?", timeout_ms=180_000)
    assert failed.exchange.state == AnswerState.FAILED and "file not found" in failed.exchange.detail
    qtbot.waitUntil(lambda: any("was renamed or moved" in n for n in window.chat.notices()), timeout=15000)
    assert any(str(renamed) in n for n in window.chat.notices())
    button = [b for b in window.chat.findChildren(QPushButton) if b.text() == "Open it there"][0]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.player.path == str(renamed) and window.player.duration_ms() > 0, timeout=15000)
    window.timeline.set_selection_ms(1000, 3000)
    answered = ask_and_wait(qtbot, window, "And now?", timeout_ms=60_000)
    assert answered.exchange.state == AnswerState.DONE and answered.answer_view.text
