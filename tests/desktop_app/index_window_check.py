"""The real window with a video's index on an X server (xcb), driven in its own process; prints a JSON report.

    DISPLAY=:N QT_QPA_PLATFORM=xcb python -m tests.desktop_app.index_window_check OUT_DIR

Makes a 60 s video with scene cuts and a sidecar .srt, indexes it through the window's Index action (the real
child process), gives it three chapters (written to the database as a model would: the titling itself is tested
with a tiny model in test_index_gui.py), seeks into the second chapter, and takes screenshots at 1440x900 and
900x600; then opens a longer video and shoots its build in progress. Lists labels and buttons cut short.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.desktop_app.real_window_check import _pause, _shot, _wait

TOUR_SRT = [
    (0.5, 3.5, "Welcome, everyone, to the castle on the hill."),
    (4.0, 7.5, "It was built a long time ago, in the twelfth century."),
    (8.5, 12.0, "These walls are three metres thick."),
    (13.0, 16.5, "Please stay together as we cross the courtyard."),
    (17.5, 21.0, "This well gave the castle water during sieges."),
    (22.0, 26.0, "Now we climb the north tower: mind the steps."),
    (27.0, 31.0, "From up here you can see the whole valley."),
    (32.5, 36.0, "The guide said the river once reached the walls."),
    (37.0, 41.0, "Down in the kitchen, bread was baked every morning."),
    (42.5, 46.5, "Grandma gives her speech about our first visit here."),
    (47.5, 52.0, "Thank you all for coming, and happy birthday!"),
    (53.0, 58.0, "Let's go down to the garden for cake."),
]
CHAPTERS = [(0.0, 16.0, "Arrival at the castle"), (16.0, 41.0, "The tower and the valley"),
            (41.0, 60.0, "Grandma's speech and cake")]


def _srt(lines) -> str:
    from core_model.index.subtitles import to_srt
    from core_model.store.index_records import Cue

    return to_srt([Cue(a, b, text) for a, b, text in lines])


def main(out_dir: str) -> dict:
    import desktop_app  # noqa: F401  (binding fixes first)
    from PySide6.QtWidgets import QApplication

    from core_model.store.fingerprint import fingerprint_file
    from core_model.store.index_records import Chapter
    from core_model.store.index_store import IndexStore
    from desktop_app.app import create_main_window
    from desktop_app.index.index_wiring import index_db_path
    from desktop_app.settings import Key, Settings
    from tests.desktop_app.conftest import FakeRecorder
    from tests.desktop_app.fake_backend import FakeBackendFactory, FakeScript
    from tests.desktop_app.test_gui_items import _cut_widgets
    from tests.fixtures.index_media import write_scene_video

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    video = write_scene_video(out / "castle-tour.mp4", [200, 200, 250, 200, 250, 150, 250], fps=25, width=320,
                              height=180)
    (out / "castle-tour.srt").write_text(_srt(TOUR_SRT), encoding="utf-8")
    long_video = write_scene_video(out / "wedding.mp4", [100] * 60, fps=20, width=64, height=48)
    app = QApplication([])
    settings = Settings.for_file(out / "settings.ini")
    settings.set_value(Key.MODEL, "fake-model")
    window = create_main_window(settings, backend_factory=FakeBackendFactory(FakeScript()), recorder=FakeRecorder(),
                                data_folder=out / "data")
    window.resize(1440, 900)
    window.move(0, 0)
    window.show()
    report: dict = {}
    try:
        window.open_video(str(video))
        _wait(app, lambda: window.player.duration_ms() > 0, 20)
        window.actions_.index_video.trigger()
        _wait(app, lambda: not window.index.is_running(), 120)
        report["after_build"] = window.index_status.state_label.text()
        report["build_message"] = window.statusBar().currentMessage()
        with IndexStore(index_db_path(window)) as store:
            store.replace_chapters(fingerprint_file(video), [Chapter(a, b, t, "") for a, b, t in CHAPTERS],
                                   model_id="demo")
        window.index.reload()
        report["state"] = window.index_status.state_label.text()
        window.actions_.show_transcript.trigger()
        window.player.set_position_ms(43000)
        _pause(app, 1.5)
        report["current_line"] = window.transcript.lines.item(window.transcript.current_row()).text()
        _shot(window, out / "index-1440x900.png")

        window.resize(900, 600)
        window.transcript.find_box.setText("castle")
        _pause(app, 1.5)
        _shot(window, out / "index-900x600.png")
        report["size"] = [window.width(), window.height()]
        report["matches"] = window.transcript.count_label.text()
        report["cut"] = (_cut_widgets(window.transcript) + _cut_widgets(window.video)
                         + _cut_widgets(window.index_status))

        window.open_video(str(long_video))
        _wait(app, lambda: window.windowTitle().startswith("wedding.mp4"), 20)
        window.actions_.index_video.trigger()
        _wait(app, lambda: "ETA" in window.index_status.progress_label.text(), 60)
        _pause(app, 0.3)
        report["progress"] = window.index_status.progress_label.text()
        report["cut_while_building"] = _cut_widgets(window.index_status)
        _shot(window, out / "index-building-900x600.png")
        window.actions_.stop_index.trigger()
        _wait(app, lambda: not window.index.is_running(), 30)
        _pause(app, 0.5)
        report["after_stop"] = window.index_status.state_label.text()
        report["cut_after_stop"] = _cut_widgets(window.index_status)
        _shot(window, out / "index-stopped-900x600.png")
    finally:
        window.shutdown()
    return report


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
