"""The window's "Whole video" question on an indexed video re-watches the moments that matter (core_model's
whole-video plan), and stays one pass over the file on a video without an index."""

import shutil

from core_model.backends.base import SegmentRef
from core_model.index.runner import build_index
from core_model.store.index_store import IndexStore
from tests.desktop_app.conftest import ask_and_wait, open_video_and_wait
from tests.fixtures.whole_video_media import SPEECH_AT_S, party_video  # noqa: F401


def test_whole_video_question_on_an_indexed_video_sends_its_moments(qtbot, make_window, fake_factory, tmp_path,
                                                                    party_video):  # noqa: F811
    video = tmp_path / "party.mp4"
    shutil.copy(party_video, video)
    shutil.copy(party_video.with_suffix(".srt"), tmp_path / "party.srt")
    window = make_window()
    with IndexStore(window.controller.store.path) as index:
        build_index(video, parts=("transcript", "scenes"), store=index)
    open_video_and_wait(qtbot, window, video)
    window.video.select_whole_video()

    widget = ask_and_wait(qtbot, window, "When does grandma give her speech?")
    request = fake_factory.requests[-1]
    segments = [m for m in request.media if isinstance(m, SegmentRef)]
    assert segments and all(s.start_s is not None and s.end_s - s.start_s < 60 for s in segments)
    assert any(s.start_s <= SPEECH_AT_S <= s.end_s for s in segments)
    assert '1:36–1:51: said: "Grandma gives her speech about the family"' in request.conversation[-1].text
    assert request.options.num_frames <= window.controller.options.num_frames
    assert widget.exchange.whole_video  # the chat still shows it as a question about the whole video


def test_whole_video_question_without_an_index_is_one_pass(qtbot, make_window, fake_factory, gui_video):
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    window.video.select_whole_video()
    ask_and_wait(qtbot, window, "What happens?")
    assert fake_factory.requests[-1].media[0] == SegmentRef(str(gui_video), None, None, include_audio=True)


def test_the_sources_are_chips_under_the_answer_and_a_click_selects_the_moment(qtbot, make_window, fake_factory,
                                                                              tmp_path, party_video):  # noqa: F811
    from PySide6.QtCore import Qt

    video = tmp_path / "party.mp4"
    shutil.copy(party_video, video)
    shutil.copy(party_video.with_suffix(".srt"), tmp_path / "party.srt")
    window = make_window()
    with IndexStore(window.controller.store.path) as index:
        build_index(video, parts=("transcript", "scenes"), store=index)
    open_video_and_wait(qtbot, window, video)
    window.video.select_whole_video()

    widget = ask_and_wait(qtbot, window, "When does grandma give her speech?")
    chips = widget.source_chips.chips
    assert chips and widget.source_chips.isVisible()
    first = widget.exchange.sources[0]
    assert first[0] <= SPEECH_AT_S * 1000 <= first[1] and "Grandma gives her speech" in first[2]
    assert chips[0].text() == "1:36–1:51" and "Grandma gives her speech" in chips[0].toolTip()
    qtbot.mouseClick(chips[0], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.controller.selection_ms == (first[0], first[1]), timeout=3000)
    assert window.timeline.selection_ms() == (first[0], first[1])
    qtbot.waitUntil(lambda: abs(window.player.position_ms() - first[0]) < 600, timeout=5000)
    ask_and_wait(qtbot, window, "Who is speaking?")  # the follow-up is about exactly that moment
    segment = fake_factory.requests[-1].media[0]
    assert (round(segment.start_s * 1000), round(segment.end_s * 1000)) == (first[0], first[1])


def test_a_question_about_a_segment_has_no_source_chips(qtbot, make_window, fake_factory, gui_video):
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    window.timeline.set_selection_ms(0, 1000)
    widget = ask_and_wait(qtbot, window, "What happens?")
    assert widget.source_chips.chips == [] and not widget.source_chips.isVisible()


def test_a_reopened_chat_shows_its_source_chips_again(qtbot, make_window, fake_factory, tmp_path,
                                                      party_video):  # noqa: F811
    video = tmp_path / "party.mp4"
    shutil.copy(party_video, video)
    shutil.copy(party_video.with_suffix(".srt"), tmp_path / "party.srt")
    window = make_window()
    with IndexStore(window.controller.store.path) as index:
        build_index(video, parts=("transcript", "scenes"), store=index)
    open_video_and_wait(qtbot, window, video)
    window.video.select_whole_video()
    asked = ask_and_wait(qtbot, window, "When does grandma give her speech?")
    sources = list(asked.exchange.sources)
    chat_id = window.controller.chat_id
    window.controller.new_chat()
    qtbot.waitUntil(lambda: not window.chat.exchange_widgets(), timeout=3000)
    window.controller.select_chat(chat_id)
    qtbot.waitUntil(lambda: len(window.chat.exchange_widgets()) == 1, timeout=3000)
    reopened = window.chat.exchange_widgets()[0]
    assert reopened.exchange.sources == sources
    assert [c.text() for c in reopened.source_chips.chips] == [c.text() for c in asked.source_chips.chips]


def test_a_long_video_without_an_index_is_offered_its_index_once(qtbot, make_window, fake_factory, tmp_path,
                                                                 party_video):  # noqa: F811
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    video = tmp_path / "party.mp4"
    shutil.copy(party_video, video)
    window = make_window()
    open_video_and_wait(qtbot, window, video)
    window.video.select_whole_video()
    ask_and_wait(qtbot, window, "What happens?")
    sent = fake_factory.requests[-1].media[0]
    assert (sent.path, sent.start_s, sent.end_s) == (str(video), None, None)  # one pass over the whole file
    offers = [n for n in window.chat.notices() if "no index yet" in n]
    assert len(offers) == 1
    button = [b for b in window.chat.findChildren(QPushButton) if b.text() == "Index this video"][0]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert window.index.is_running() and window.index.job.video == str(video)  # the user asked: it builds
    assert not button.isEnabled() and button.text() == "Indexing…"  # it stayed "Index this video", clickable
    ask_and_wait(qtbot, window, "And then?")
    assert len([n for n in window.chat.notices() if "no index yet" in n]) == 1  # said once per video
    qtbot.waitUntil(lambda: not window.index.is_running(), timeout=120000)
    assert not button.isEnabled() and button.text() == "Indexed"


def test_a_short_video_without_an_index_is_not_offered_one(qtbot, make_window, fake_factory, gui_video):
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    window.video.select_whole_video()
    ask_and_wait(qtbot, window, "What happens?")
    assert not [n for n in window.chat.notices() if "no index yet" in n]


def test_a_damaged_database_offers_no_index_and_puts_no_traceback_on_the_terminal(qtbot, make_window, fake_factory,
                                                                                 tmp_path, party_video,  # noqa: F811
                                                                                 caplog):
    # with a damaged database the window offered "Index this video" (which then failed on the same database), and
    # the terminal got three tracebacks for one known condition
    import logging

    from desktop_app.app import open_store_and_video

    video = tmp_path / "party.mp4"
    shutil.copy(party_video, video)
    data = tmp_path / "damaged"
    data.mkdir()
    (data / "vidi.sqlite3").write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)
    caplog.set_level(logging.WARNING)
    window = make_window(data_folder=data)
    open_store_and_video(window, str(video))
    qtbot.waitUntil(lambda: window.timeline.duration_ms() > 0 and window.player.duration_ms() > 0, timeout=10000)
    qtbot.waitUntil(lambda: not window.library.is_scanning(), timeout=10000)
    window.video.select_whole_video()
    ask_and_wait(qtbot, window, "What happens?")
    assert window.index.read_error and not [n for n in window.chat.notices() if "no index yet" in n]
    warnings = [r for r in caplog.records if "damaged" in r.getMessage()]
    assert warnings and not any(r.exc_info for r in warnings)


def test_a_failed_answer_shows_no_source_chips(qtbot, make_window, fake_factory, tmp_path, party_video):  # noqa: F811
    from core_model.errors import ModelLoadError

    video = tmp_path / "party.mp4"
    shutil.copy(party_video, video)
    shutil.copy(party_video.with_suffix(".srt"), tmp_path / "party.srt")
    window = make_window()
    with IndexStore(window.controller.store.path) as index:
        build_index(video, parts=("transcript", "scenes"), store=index)
    open_video_and_wait(qtbot, window, video)
    window.video.select_whole_video()
    fake_factory.script.answer_error = ModelLoadError("config.json is damaged")
    widget = ask_and_wait(qtbot, window, "When does grandma give her speech?")
    assert widget.exchange.state.name == "FAILED" and "config.json is damaged" in widget.exchange.detail
    assert widget.exchange.sources == [] and widget.source_chips.chips == []  # no answer drew on any moment
