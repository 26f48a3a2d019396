"""The real Vidi window on an X server (xcb), driven in its own process by test_real_window.py; prints a JSON report.

    DISPLAY=:N QT_QPA_PLATFORM=xcb python -m tests.desktop_app.real_window_check RED.mp4 BLUE.mp4 OUT_DIR

Opens RED then BLUE and reads the screen (the video has its own native surface: QWidget.grab() shows it blank) to
see whether BLUE's first frame shows before play; asks a question (the scripted fake backend); then sizes the window
to 900x600 and lists labels and buttons narrower than their text. Screenshots go to OUT_DIR.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _wait(app, condition, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        app.processEvents()
        time.sleep(0.005)
    return True


def _pause(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    _wait(app, lambda: time.monotonic() > end, seconds + 1)


def _video_center_rgb(window) -> tuple[int, int, int]:
    """The colour on screen at the middle of the video widget (the X server's pixels, not a widget grab)."""
    from PySide6.QtGui import QGuiApplication

    video = window.player.video_widget
    center = video.mapToGlobal(video.rect().center())
    image = QGuiApplication.primaryScreen().grabWindow(0, center.x() - 2, center.y() - 2, 5, 5).toImage()
    color = image.pixelColor(2, 2)
    return color.red(), color.green(), color.blue()


def _shot(window, path: Path) -> None:
    from PySide6.QtGui import QGuiApplication

    frame = window.frameGeometry()
    QGuiApplication.primaryScreen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height()).save(str(path))


def main(red: str, blue: str, out_dir: str) -> dict:
    import desktop_app  # noqa: F401  (binding fixes first)
    from PySide6.QtWidgets import QApplication

    from desktop_app.app import create_main_window
    from desktop_app.settings import Key, Settings
    from tests.desktop_app.conftest import FakeRecorder
    from tests.desktop_app.fake_backend import FakeBackendFactory, FakeScript
    from tests.desktop_app.test_gui_items import _cut_widgets

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication([])
    settings = Settings.for_file(out / "settings.ini")
    settings.set_value(Key.MODEL, "fake-model")
    settings.set_value(Key.NUM_FRAMES, 8)
    factory = FakeBackendFactory(FakeScript(pieces=["The picture is ", "**blue** ", "from 0:00 ", "to 0:02."],
                                            dtype="bfloat16"))
    window = create_main_window(settings, backend_factory=factory, recorder=FakeRecorder(), data_folder=out / "data")
    window.resize(1440, 900)
    window.move(0, 0)
    window.show()
    report: dict = {}
    try:
        window.open_video(red)
        _wait(app, lambda: window.player.duration_ms() > 0, 20)
        _pause(app, 1.0)
        report["red_first_frame_rgb"] = _video_center_rgb(window)
        window.open_video(blue)
        _wait(app, lambda: window.windowTitle().startswith(Path(blue).name), 20)
        _pause(app, 1.5)
        report["blue_after_switch_rgb"] = _video_center_rgb(window)
        report["playing"] = window.player.is_playing()

        window.timeline.set_selection_ms(200, 1800)
        window.chat.composer.set_text("What colour is the picture in this part of the video?")
        window.chat.composer.submit()
        widgets = window.chat.exchange_widgets()
        _wait(app, lambda: bool(widgets) and widgets[-1].exchange.state.is_final
              and widgets[-1].question_view.num_frame_thumbs == 8, 20)
        window.chat.composer.set_text("And what does it sound like?")
        _pause(app, 1.0)
        _shot(window, out / "window-1440x900.png")
        report["device_label"] = window.device_label.text()

        window.resize(900, 600)
        _pause(app, 1.5)
        _shot(window, out / "window-900x600.png")
        report["size"] = [window.width(), window.height()]
        report["cut"] = _cut_widgets(window.chat) + _cut_widgets(window.video)
        report["blue_after_resize_rgb"] = _video_center_rgb(window)
        report["message_fits"] = widgets[-1].width() <= window.chat.scroll.viewport().width()
    finally:
        window.shutdown()
    return report


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
