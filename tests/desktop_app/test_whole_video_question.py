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
