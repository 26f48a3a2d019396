"""Issue 9's GUI items on real widgets (offscreen): a refused question stays in the box, the answer's state icons draw,
the player shows a newly opened file's first frame before play, and the window's labels fit at 900x600."""

from __future__ import annotations

from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractButton, QLabel

from core_model.backends.base import Capabilities
from core_model.errors import UnsupportedMediaError
from desktop_app.chat.exchange import AnswerState, Exchange
from tests.desktop_app.conftest import _make_video, ask_and_wait, open_video_and_wait


# ---- a refused question is not lost -----------------------------------------------------------------------------

def test_a_question_the_model_cannot_take_stays_in_the_box(qtbot, make_window, gui_video, gui_image, fake_factory):
    fake_factory.script.capabilities = Capabilities(video=True, audio=False, image=False)
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    qtbot.waitUntil(lambda: window.controller.capabilities is not None, timeout=5000)
    composer = window.chat.composer
    composer.add_images([str(gui_image)])
    composer.set_text("Is this the same dog?")
    composer.submit()
    assert composer.text() == "Is this the same dog?"
    assert composer.attachments.image_paths() == [str(gui_image)]
    assert window.chat.exchange_widgets() == [] and fake_factory.requests == []
    assert any("does not take images" in notice for notice in window.chat.notices())


def test_a_question_with_nothing_to_ask_about_stays_in_the_box(qtbot, make_window, fake_factory):
    window = make_window()
    window.chat.composer.set_text("What happens?")
    window.chat.composer.submit()
    assert window.chat.composer.text() == "What happens?"
    assert any("Open a video" in notice for notice in window.chat.notices())
    assert fake_factory.requests == []


def test_a_question_the_model_refuses_comes_back_to_the_box(qtbot, make_window, gui_video, fake_factory):
    fake_factory.script.answer_error = UnsupportedMediaError("fake-model cannot answer about this segment.")
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    widget = ask_and_wait(qtbot, window, "What is said here?")
    assert widget.exchange.state == AnswerState.FAILED
    assert "cannot answer about this segment" in widget.answer_view.state_label.text()
    assert window.chat.composer.text() == "What is said here?"


def test_an_accepted_question_empties_the_box(qtbot, make_window, gui_video, fake_factory):
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    widget = ask_and_wait(qtbot, window, "What moves?")
    assert widget.exchange.state == AnswerState.DONE and window.chat.composer.text() == ""


# ---- the answer's state line draws with the fonts there are ------------------------------------------------------

def test_the_waiting_state_draws_an_icon_and_text_the_font_has(qtbot):
    from desktop_app.chat.message_widget import ExchangeWidget

    widget = ExchangeWidget(Exchange(key=1, question="?"))
    qtbot.addWidget(widget)
    for state in (AnswerState.QUEUED, AnswerState.LOADING, AnswerState.ANSWERING, AnswerState.STOPPED,
                  AnswerState.FAILED):
        widget.set_state(state, "")
        label = widget.answer_view.state_label
        metrics = QFontMetrics(label.font())
        missing = [ch for ch in label.text() if not metrics.inFontUcs4(ord(ch))]
        assert missing == [], f"{state}: {label.text()!r} has characters no font here draws"
        pixmap = widget.answer_view.state_icon.pixmap()
        assert not pixmap.isNull() and pixmap.toImage().pixelColor(7, 7).alpha() + pixmap.toImage().pixelColor(
            7, 11).alpha() > 0, f"{state}: the icon is empty"


# ---- the player shows the first frame of a newly opened file ------------------------------------------------------

def _center_rgb(frame) -> tuple[int, int, int]:
    image = frame.toImage()
    color = image.pixelColor(image.width() // 2, image.height() // 2)
    return color.red(), color.green(), color.blue()


def test_switching_videos_shows_the_new_files_first_frame_without_play(qtbot, tmp_path):
    from desktop_app.player.video_player import VideoPlayer

    red = _make_video(tmp_path / "red.mp4", duration_s=2.0, sound=False, picture="color=c=red")
    blue = _make_video(tmp_path / "blue.mp4", duration_s=2.0, sound=False, picture="color=c=blue")
    player = VideoPlayer()
    qtbot.addWidget(player)
    player.show()
    frames = []
    player.video_sink.videoFrameChanged.connect(lambda frame: frames.append(_center_rgb(frame)) if frame.isValid()
                                                 else None)
    player.load(red)
    qtbot.waitUntil(lambda: any(r > 200 and b < 60 for r, _g, b in frames), timeout=10000)
    frames.clear()
    player.load(blue)
    qtbot.waitUntil(lambda: any(b > 200 and r < 60 for r, _g, b in frames), timeout=10000)
    assert not player.is_playing()
    player.unload()


# ---- 900x600 --------------------------------------------------------------------------------------------------------

def _cut_widgets(root) -> list[str]:
    """Visible labels, check boxes and buttons narrower than their text needs (word-wrapped labels wrap instead)."""
    cut = []
    for widget in root.findChildren(QLabel) + root.findChildren(QAbstractButton):
        if not widget.isVisible() or not widget.text() or (isinstance(widget, QLabel) and widget.wordWrap()):
            continue
        if isinstance(widget, QLabel) and (widget.pixmap() is not None and not widget.pixmap().isNull()):
            continue
        if widget.width() < widget.minimumSizeHint().width() or widget.width() + 2 < widget.sizeHint().width():
            cut.append(f"{type(widget).__name__} {widget.text()!r}: {widget.width()} < {widget.sizeHint().width()}")
    return cut


def test_the_window_fits_at_900x600(qtbot, make_window, gui_video, gui_image, fake_factory):
    window = make_window()
    window.resize(900, 600)
    open_video_and_wait(qtbot, window, gui_video)
    window.timeline.set_selection_ms(1200, 3200)
    window.chat.composer.add_images([str(gui_image)])
    widget = ask_and_wait(qtbot, window, "What happens in this part, and what colour is the picture?")
    qtbot.waitUntil(lambda: widget.question_view.num_frame_thumbs == 8, timeout=10000)
    qtbot.wait(100)
    assert window.width() == 900 and window.height() == 600
    assert _cut_widgets(window.chat) == []
    assert _cut_widgets(window.video) == []
    viewport = window.chat.scroll.viewport().width()
    assert widget.width() <= viewport, "a message is wider than the chat: its text is cut on the right"
    about = widget.question_view.about_label
    assert about.height() >= about.heightForWidth(about.width())  # the long header wraps, all of it shown
