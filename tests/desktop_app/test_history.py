"""Chats per video: new chat, switching, delete, export to Markdown; asking about an image alone."""

from __future__ import annotations

from core_model.backends.base import ImageRef, SegmentRef
from desktop_app.chat.exchange import AnswerState
from tests.desktop_app.conftest import ask_and_wait, open_video_and_wait


def test_new_chat_switch_delete_and_export(qtbot, make_window, gui_video):
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    ask_and_wait(qtbot, window, "First chat question?")
    first_chat = window.controller.chat_id
    window.actions_.new_chat.trigger()
    assert window.chat.exchange_widgets() == [] and window.controller.chat_id is None
    ask_and_wait(qtbot, window, "Second chat question?")
    second_chat = window.controller.chat_id
    assert second_chat != first_chat and window.chat.chat_combo.count() == 2

    window.chat.chat_combo.setCurrentIndex(window.chat.chat_combo.findData(first_chat))
    window.chat.chat_combo.activated.emit(window.chat.chat_combo.currentIndex())
    assert [w.exchange.question for w in window.chat.exchange_widgets()] == ["First chat question?"]

    markdown = window.controller.export_markdown()
    assert "First chat question?" in markdown and "The dog runs at 0:01." in markdown
    assert "Second chat question?" not in markdown

    window.chat.delete_button.click()
    assert window.chat.chat_combo.count() == 1 and window.controller.chat_id == second_chat
    assert [w.exchange.question for w in window.chat.exchange_widgets()] == ["Second chat question?"]


def test_ask_about_an_image_alone(qtbot, make_window, gui_video, gui_image, fake_factory):
    window = make_window()
    open_video_and_wait(qtbot, window, gui_video)
    window.chat.composer.add_images([str(gui_image)])
    window.chat.composer.segment_check.setChecked(False)
    widget = ask_and_wait(qtbot, window, "What colour is it?")
    assert widget.exchange.state == AnswerState.DONE
    assert fake_factory.requests[-1].media == [ImageRef(str(gui_image))]
    assert "1 image" in widget.question_view.about_label.text()
    assert widget.question_view.frames_strip.isVisible()  # the image's thumbnail
    window.chat.composer.segment_check.setChecked(True)
    ask_and_wait(qtbot, window, "And the video?")
    assert isinstance(fake_factory.requests[-1].media[0], SegmentRef)


def test_image_chat_without_any_video(qtbot, make_window, gui_image, fake_factory):
    window = make_window()
    assert not window.chat.composer.segment_check.isEnabled()
    window.handle_dropped_paths([str(gui_image)])
    widget = ask_and_wait(qtbot, window, "Describe the picture.")
    assert widget.exchange.state == AnswerState.DONE
    assert fake_factory.requests[-1].media == [ImageRef(str(gui_image))]
    assert window.store.list_chats(None)[0].title == "Describe the picture."
