"""Widgets on their own: timeline mouse work, time formats and links, composer, microphone, settings, help."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from desktop_app.timefmt import format_range_s, format_time_s, linkify_timestamps, parse_time_s, time_from_seek_url
from desktop_app.timeline.timeline_widget import TimelineWidget
from tests.desktop_app.conftest import FakeRecorder


def test_time_formats_and_timestamp_links():
    assert format_time_s(75.3) == "1:15.3"
    assert format_time_s(3725.0) == "1:02:05.0"
    assert format_range_s(12.0, 27.5) == "0:12.0 – 0:27.5 (15.5 s)"
    assert parse_time_s("1:05") == 65.0 and parse_time_s("1:02:05.5") == 3725.5
    text = linkify_timestamps("At 0:42 a dog; 1:05-1:20 a cat; `0:11` stays; ratio 16:9 too; 9:99 is no time.")
    assert "[0:42](vidi-seek:42.000)" in text
    assert "[1:05-1:20](vidi-seek:65.000)" in text
    assert "`0:11`" in text and "[16:9]" not in text and "[9:99]" not in text
    assert linkify_timestamps("at 5:00", duration_s=60.0) == "at 5:00"  # past the end of the video
    assert time_from_seek_url("vidi-seek:65.000") == 65.0 and time_from_seek_url("https://x") is None


@pytest.fixture
def timeline(qtbot):
    widget = TimelineWidget()
    widget.resize(808, 80)
    widget.set_duration_ms(10_000)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _drag(widget, x0, x1, y=40):
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(round(x0), y))
    QTest.mouseMove(widget, QPoint(round((x0 + x1) / 2), y))
    QTest.mouseMove(widget, QPoint(round(x1), y))
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(round(x1), y))


def test_timeline_click_seeks_and_drags_select_resize_move(qtbot, timeline):
    with qtbot.waitSignal(timeline.seek_requested) as seek:
        QTest.mouseClick(timeline, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         QPoint(round(timeline.x_for_ms(2500)), 40))
    assert abs(seek.args[0] - 2500) <= 20
    assert timeline.selection_ms() is None  # a click is not a selection

    with qtbot.waitSignal(timeline.selection_changed) as changed:
        _drag(timeline, timeline.x_for_ms(2000), timeline.x_for_ms(6000))
    assert [abs(a - b) <= 20 for a, b in zip(changed.args, (2000, 6000))] == [True, True]

    with qtbot.waitSignal(timeline.selection_changed) as changed:  # the start handle
        _drag(timeline, timeline.x_for_ms(timeline.selection_ms()[0]), timeline.x_for_ms(1000))
    assert abs(changed.args[0] - 1000) <= 20 and abs(changed.args[1] - 6000) <= 20

    start, end = timeline.selection_ms()
    with qtbot.waitSignal(timeline.selection_changed) as changed:  # the middle moves the whole selection
        _drag(timeline, timeline.x_for_ms(3000), timeline.x_for_ms(5000))
    assert abs(changed.args[0] - (start + 2000)) <= 30 and changed.args[1] - changed.args[0] == end - start

    with qtbot.waitSignal(timeline.selection_cleared):
        QTest.mouseDClick(timeline, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                          QPoint(round(timeline.x_for_ms(sum(timeline.selection_ms()) // 2)), 40))
    assert timeline.selection_ms() is None


def test_timeline_paints_thumbnails_marks_and_selection(qtbot, timeline):
    from PySide6.QtGui import QColor, QImage

    tile = QImage(32, 24, QImage.Format.Format_RGB888)
    tile.fill(QColor(0, 200, 0))
    timeline.set_thumbnails([tile] * 10)
    timeline.set_asked_segments([(1000, 2000)])
    timeline.set_selection_ms(5000, 8000)
    timeline.set_position_ms(9000)
    image = timeline.grab().toImage()
    green = image.pixelColor(round(timeline.x_for_ms(6500)), 50)
    assert green.green() > 150 and green.red() < 80  # a thumbnail inside the selection
    shaded = image.pixelColor(round(timeline.x_for_ms(3000)), 50)
    assert shaded.green() < green.green()  # outside the selection is darkened
    mark = image.pixelColor(round(timeline.x_for_ms(1500)), 16 + 48 + 3)
    assert mark.red() > 200 and mark.green() > 120  # the asked segment's orange mark


def test_no_microphone_disables_the_button_with_its_reason(qtbot, make_window):
    window = make_window(recorder=FakeRecorder(available=False, reason="No microphone found: connect one."))
    mic = window.chat.composer.mic_button
    qtbot.waitUntil(lambda: "microphone" in mic.toolTip())
    assert not mic.isEnabled()
    assert "No microphone found" in mic.toolTip()
    assert not window.actions_.record.isEnabled()


def test_real_recorder_reports_no_microphone_here():
    from desktop_app.audio_recorder import SoundDeviceRecorder

    available, reason = SoundDeviceRecorder().availability()
    if available:
        pytest.skip("this machine has a microphone")
    assert "microphone" in reason.lower() or "sound" in reason.lower()


def test_recorded_clip_is_attached_and_sent_as_audio(qtbot, make_window, gui_video, fake_factory):
    from core_model.backends.base import AudioRef
    from tests.desktop_app.conftest import ask_and_wait, open_video_and_wait

    window = make_window(recorder=FakeRecorder(available=True))
    open_video_and_wait(qtbot, window, gui_video)
    qtbot.waitUntil(lambda: window.chat.composer.mic_button.isEnabled())
    qtbot.mouseClick(window.chat.composer.mic_button, Qt.MouseButton.LeftButton)
    assert window.recorder.is_recording()
    qtbot.mouseClick(window.chat.composer.mic_button, Qt.MouseButton.LeftButton)
    assert window.chat.composer.attachments.audio_path().endswith(".wav")
    ask_and_wait(qtbot, window, "")
    assert any(isinstance(m, AudioRef) for m in fake_factory.requests[-1].media)


def test_model_without_audio_says_so(qtbot, make_window, fake_factory):
    from core_model.backends.base import Capabilities

    fake_factory.script.capabilities = Capabilities(video=True, audio=False, image=True)
    window = make_window(recorder=FakeRecorder(available=True))
    check = window.chat.composer.audio_check
    qtbot.waitUntil(lambda: not check.isEnabled(), timeout=5000)
    assert "does not take audio" in check.toolTip()
    assert not window.chat.composer.mic_button.isEnabled()
    assert "does not take audio" in window.chat.composer.mic_button.toolTip()


def test_pasted_image_is_attached(qtbot, make_window, gui_image):
    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QImage

    window = make_window()
    mime = QMimeData()
    mime.setImageData(QImage(str(gui_image)))
    window.chat.composer.edit.insertFromMimeData(mime)
    paths = window.chat.composer.attachments.image_paths()
    assert len(paths) == 1 and paths[0].endswith(".png")


def test_settings_dialog_saves_to_qsettings(qtbot, settings):
    from desktop_app.dialogs.settings_dialog import SettingsDialog
    from desktop_app.settings import Key

    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.frames_spin.setValue(16)
    dialog.device_combo.setCurrentIndex(dialog.device_combo.findData("cpu"))
    dialog.four_bit_check.setChecked(False)
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
    dialog.accept()
    assert settings.value(Key.NUM_FRAMES) == 16 and settings.value(Key.DEVICE) == "cpu"
    assert settings.value(Key.LOAD_IN_4BIT) is False and settings.value(Key.THEME) == "dark"


def test_help_lists_the_shortcuts_and_themes_switch(qtbot, make_window):
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    window = make_window()
    rows = window.actions_.shortcut_rows()
    keys = {text: key for _group, text, key in rows}
    assert keys["Play / Pause"] == "Space" and keys["Set segment start at playhead"] == "I"
    assert keys["Set segment end at playhead"] == "O" and keys["Stop answering"] == "Esc"
    window.set_theme("dark")
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() < 80
    window.set_theme("light")
    assert QApplication.instance().palette().color(QPalette.ColorRole.Window).lightness() > 200


def test_window_starts_without_torch_or_transformers(tmp_path):
    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from desktop_app.app import create_main_window\n"
        "from desktop_app.settings import Settings\n"
        f"s = Settings.for_file({str(tmp_path / 's.ini')!r})\n"
        f"w = create_main_window(s, data_folder=__import__('pathlib').Path({str(tmp_path)!r}))\n"
        "w.show(); app.processEvents()\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
        "w.shutdown()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[]"
