"""The model process proxy: describe, load with progress, stream, cancel mid-answer, errors, abort at once."""

from __future__ import annotations

import threading
import time

import pytest

from core_model.backends.base import GenerationOptions, ModelLoadError, SegmentRef, Turn
from desktop_app.workers.model_process import ModelProcessError, ProcessBackend
from tests.asking import with_media


def test_model_process_streams_cancels_and_aborts(tiny_vlm_dir, gui_video):
    backend = ProcessBackend(str(tiny_vlm_dir), device="cpu", load_in_4bit=False)
    try:
        info = backend.describe()
        assert info.capabilities.video and not info.capabilities.audio and backend.device == "cpu"
        progress = []
        backend.load(lambda fraction, message: progress.append(fraction))
        assert progress and progress[-1] == 1.0
        segment = SegmentRef(str(gui_video), 1.0, 3.0, include_audio=False)
        options = GenerationOptions(num_frames=2, max_new_tokens=400)
        pieces = []
        for piece in backend.answer(with_media([Turn("user", "What is it?", (segment,))], [segment]), options):
            pieces.append(piece)
            if len(pieces) == 3:
                backend.cancel()
        assert 3 <= len(pieces) < 50 and backend.last_run.stopped
        # the same process answers again after a cancel
        short = GenerationOptions(num_frames=2, max_new_tokens=5)
        again = list(backend.answer(with_media([Turn("user", "Again?", (segment,))], [segment]), short))
        assert again and not backend.last_run.stopped
    finally:
        backend.unload()
    assert backend._process is None


def test_model_process_reports_load_errors_and_can_be_aborted(tmp_path, tiny_vlm_dir):
    missing = ProcessBackend(str(tmp_path / "no-such-model"), device="cpu")
    with pytest.raises(ModelLoadError):
        missing.describe()
    missing.unload()

    backend = ProcessBackend(str(tiny_vlm_dir), device="cpu", load_in_4bit=False)
    errors = []

    def load() -> None:
        try:
            backend.load()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    thread = threading.Thread(target=load)
    thread.start()
    time.sleep(0.5)  # the child is importing torch: a load no progress callback can interrupt
    started = time.monotonic()
    backend.abort()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - started < 2.0
    assert errors and isinstance(errors[0], ModelProcessError)
    backend.unload()
