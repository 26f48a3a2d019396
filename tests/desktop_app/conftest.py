"""Fixtures for the GUI tests: throw-away settings, a fake backend factory, a generated test video."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


from tests.desktop_app.fake_backend import FakeBackendFactory, FakeScript


@pytest.fixture
def fake_factory() -> FakeBackendFactory:
    return FakeBackendFactory(FakeScript())


@pytest.fixture
def settings(tmp_path):
    from desktop_app.settings import Key, Settings

    s = Settings.for_file(tmp_path / "vidi-settings.ini")
    s.set_value(Key.MODEL, "fake-model")
    s.set_value(Key.DATA_FOLDER, str(tmp_path / "data"))
    return s


def _make_video(path: Path, duration_s: float = 4.0, sound: bool = True, picture: str = "testsrc2") -> Path:
    """A small H.264 mp4 (``picture``: a lavfi source, e.g. testsrc2 or color=c=red; with a sine sound in AAC unless
    ``sound`` is False), made with ffmpeg."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is needed to make the test video")
    source = f"{picture}=size=160x120:rate=25:duration={duration_s}" if "=" not in picture else (
        f"{picture}:size=160x120:rate=25:duration={duration_s}")
    command = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source]
    if sound:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={duration_s}", "-c:a", "aac", "-shortest"]
    command += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "25", str(path)]
    subprocess.run(command, check=True)
    return path


@pytest.fixture(scope="session")
def gui_video(tmp_path_factory) -> Path:
    """A 4-second 160x120 mp4 with audio, shared by the GUI tests (copy it before renaming)."""
    return _make_video(tmp_path_factory.mktemp("gui-media") / "clip.mp4")


@pytest.fixture(scope="session")
def gui_silent_video(tmp_path_factory) -> Path:
    """The same 4-second picture with no audio track at all."""
    return _make_video(tmp_path_factory.mktemp("gui-media") / "silent.mp4", sound=False)


@pytest.fixture(scope="session")
def gui_image(tmp_path_factory) -> Path:
    from PIL import Image

    path = tmp_path_factory.mktemp("gui-images") / "red.png"
    Image.new("RGB", (64, 48), (220, 30, 30)).save(path)
    return path


def _relay_class():
    from PySide6.QtCore import QObject

    class _Relay(QObject):
        """A GUI-thread receiver: signals from other threads reach ``on`` queued, as they reach real slots."""

        def __init__(self, sink: list) -> None:
            super().__init__()
            self.sink = sink

        def on(self, *args) -> None:
            self.sink.append(args)

    return _Relay


class SignalRecorder:
    """Records the arguments of (cross-thread) signals, delivered on the GUI thread like a real slot would be.

    ``SignalRecorder(piece=worker.piece_received)``; then ``recorder["piece"]`` is the list of argument tuples.
    """

    def __init__(self, **signals) -> None:
        relay = _relay_class()
        self.calls: dict[str, list[tuple]] = {name: [] for name in signals}
        self._relays = []
        for name, signal in signals.items():
            r = relay(self.calls[name])
            signal.connect(r.on)
            self._relays.append(r)

    def __getitem__(self, name: str) -> list[tuple]:
        return self.calls[name]


class FakeRecorder:
    """Stands in for the microphone: ``available`` decides; a recording is a short silent WAV."""

    def __init__(self, available: bool = False, reason: str = "No microphone found: connect one.") -> None:
        self.available, self.reason = available, reason
        self.recording = False

    def availability(self) -> tuple[bool, str]:
        return (True, "") if self.available else (False, self.reason)

    def start(self) -> None:
        self.recording = True

    def is_recording(self) -> bool:
        return self.recording

    def stop(self, folder):
        import numpy as np

        from desktop_app.audio_recorder import save_wav

        self.recording = False
        return save_wav(np.zeros(1600, np.float32), folder)


@pytest.fixture
def make_window(qtbot, tmp_path, settings, fake_factory):
    """``make_window(**overrides)`` builds a shown main window (fake backend and recorder unless overridden;
    ``real_backend=True`` uses core_model's own backend registry)."""
    from desktop_app.app import create_main_window

    windows = []

    def make(backend_factory=None, recorder=None, data_folder=None, real_backend=False):
        window = create_main_window(
            settings,
            backend_factory=None if real_backend else (backend_factory or fake_factory),
            recorder=recorder or FakeRecorder(),
            data_folder=data_folder or tmp_path / "data",
        )
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
        if window.store is not None:
            window.store.close()


def open_video_and_wait(qtbot, window, path) -> None:
    window.open_video(str(path))
    qtbot.waitUntil(lambda: window.timeline.duration_ms() > 0 and window.player.duration_ms() > 0, timeout=10000)


def ask_and_wait(qtbot, window, text: str, final: bool = True, timeout_ms: int = 20000):
    """Type ``text`` in the composer, press Enter, wait for the answer to end; returns its ExchangeWidget."""
    from PySide6.QtCore import Qt

    before = len(window.chat.exchange_widgets())
    window.chat.composer.edit.setFocus()
    window.chat.composer.set_text(text)
    qtbot.keyClick(window.chat.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window.chat.exchange_widgets()) > before, timeout=5000)
    widget = window.chat.exchange_widgets()[-1]
    if final:
        qtbot.waitUntil(lambda: widget.exchange.state.is_final, timeout=timeout_ms)
    return widget
