"""The real window's Library tab on an X server (xcb), driven in its own process; prints a JSON report.

    DISPLAY=:N QT_QPA_PLATFORM=xcb python -m tests.desktop_app.library_window_check OUT_DIR

Makes three videos with sidecar subtitles, adds their folder, indexes it through the tab (the real child process),
searches, takes screenshots at 1440x900 and 900x600 (and with the custom date range shown), clicks the first result
and shoots the video opened at the moment with its segment selected. Lists labels, buttons, combo boxes and date
fields cut short.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.desktop_app.real_window_check import _pause, _shot, _wait


def main(out_dir: str) -> dict:
    import desktop_app  # noqa: F401  (binding fixes first)
    from PySide6.QtWidgets import QApplication

    from desktop_app.app import create_main_window
    from desktop_app.library.library_wiring import choose_library_folder
    from desktop_app.settings import Key, Settings
    from tests.desktop_app.conftest import FakeRecorder
    from tests.desktop_app.fake_backend import FakeBackendFactory, FakeScript
    from tests.desktop_app.test_gui_items import _cut_widgets
    from tests.fixtures.index_media import write_scene_video
    from tests.fixtures.library_media import LAKE_SRT, TALK_SRT
    from tests.fixtures.whole_video_media import PARTY_SRT

    out = Path(out_dir)
    folder = out / "My videos"
    folder.mkdir(parents=True, exist_ok=True)
    for name, shots, srt in (("Birthday party.mp4", [150] * 6, PARTY_SRT), ("At the lake.mp4", [40, 60], LAKE_SRT),
                             ("Budget talk.mp4", [70, 30], TALK_SRT)):
        video = write_scene_video(folder / name, shots, fps=5, width=320, height=180)
        video.with_suffix(".srt").write_text(srt, encoding="utf-8")
    app = QApplication([])
    settings = Settings.for_file(out / "settings.ini")
    settings.set_value(Key.MODEL, "fake-model")
    window = create_main_window(settings, backend_factory=FakeBackendFactory(FakeScript()), recorder=FakeRecorder(),
                                data_folder=out / "data")
    window.resize(1440, 900)
    window.move(0, 0)
    window.show()
    view = window.library_view
    report: dict = {}
    try:
        window.side_tabs.setCurrentWidget(view)
        choose_library_folder(window, window.library, folder=str(folder))
        view.index_button.click()
        _wait(app, lambda: not window.library.is_running(), 120)
        _wait(app, lambda: "3 indexed" in view.summary_label.text(), 20)  # the scan after the queue
        report["summary"] = view.summary_label.text()
        view.search_box.setText("the dog jumps off the pier")
        view.search_box.returnPressed.emit()
        _wait(app, lambda: view.results.count() and not view.results.item(0).icon().isNull(), 20)
        _pause(app, 0.5)
        report["results"] = [view.results.item(i).text() for i in range(view.results.count())]
        _shot(window, out / "library-1440x900.png")
        window.resize(900, 600)
        _pause(app, 1.0)
        _shot(window, out / "library-900x600.png")
        report["cut"] = _cut_widgets(view)
        custom = view.date_filter.findText("Custom range…")  # the date fields shown: the tallest the filters get
        view.date_filter.setCurrentIndex(custom)
        view.date_filter.activated.emit(custom)
        _pause(app, 0.5)
        _shot(window, out / "library-filters-900x600.png")
        report["cut_with_dates"] = _cut_widgets(view) + _cut_fields(view)
        report["results_with_dates"] = view.results.height()
        view.results.itemClicked.emit(view.results.item(0))
        _wait(app, lambda: window.timeline.selection_ms() is not None, 20)
        _pause(app, 1.5)
        report["selection_ms"] = window.timeline.selection_ms()
        report["position_ms"] = window.player.position_ms()
        _shot(window, out / "library-opened-900x600.png")
    finally:
        window.shutdown()
    return report


def _cut_fields(root) -> list[str]:
    """Visible combo boxes and date fields narrower than their longest entry needs."""
    from PySide6.QtWidgets import QComboBox, QDateEdit

    return [f"{type(w).__name__} {w.currentText() if isinstance(w, QComboBox) else w.text()!r}: "
            f"{w.width()} < {w.sizeHint().width()}"
            for w in root.findChildren(QComboBox) + root.findChildren(QDateEdit)
            if w.isVisible() and w.width() + 2 < w.sizeHint().width()]


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
