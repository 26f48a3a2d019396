"""A short microphone recording with sounddevice, saved as a 16-bit mono WAV to attach to a question.

``SoundDeviceRecorder.availability()`` says whether a microphone exists and, if not, why, in words for the
button's tooltip ("No microphone found"). sounddevice (PortAudio) and numpy are imported on first use, not at start-up.
Tests inject any object with the same four methods (see ``Recorder``).
"""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE_HZ = 16_000
MAX_SECONDS = 60.0


class Recorder(Protocol):
    def availability(self) -> tuple[bool, str]:
        """(True, "") when recording can start, else (False, reason for the user)."""

    def start(self) -> None: ...

    def stop(self, folder: Path) -> Path:
        """End the recording and save it as a WAV file in ``folder``; returns its path."""

    def is_recording(self) -> bool: ...


class RecorderError(Exception):
    """Recording failed; the message is for the user."""


class SoundDeviceRecorder:
    def __init__(self) -> None:
        self._stream = None
        self._chunks: list = []  # float32 blocks from the input callback
        self._lock = threading.Lock()
        self._started_at = 0.0

    def availability(self) -> tuple[bool, str]:
        try:
            import sounddevice as sd
        except (ImportError, OSError) as exc:
            return False, f"Recording is unavailable: the sound library cannot load ({exc})."
        try:
            devices = sd.query_devices()
            has_input = any(int(d.get("max_input_channels", 0)) > 0 for d in devices)
        except Exception as exc:  # noqa: BLE001  (PortAudio raises its own error types)
            return False, f"No microphone found ({exc})."
        if not has_input:
            return False, "No microphone found: connect one and restart Vidi to record a question."
        return True, ""

    def start(self) -> None:
        import sounddevice as sd

        self._chunks = []

        def on_audio(indata, _frames, _time, _status) -> None:
            with self._lock:
                self._chunks.append(indata[:, 0].copy())

        try:
            self._stream = sd.InputStream(samplerate=SAMPLE_RATE_HZ, channels=1, dtype="float32", callback=on_audio)
            self._stream.start()
        except Exception as exc:  # noqa: BLE001
            self._stream = None
            raise RecorderError(f"The microphone could not be opened: {exc}") from exc
        self._started_at = time.monotonic()

    def is_recording(self) -> bool:
        return self._stream is not None

    def stop(self, folder: Path) -> Path:
        import numpy as np

        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()
        with self._lock:
            samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.float32)
        return save_wav(samples[: int(MAX_SECONDS * SAMPLE_RATE_HZ)], folder)


def save_wav(samples: np.ndarray, folder: Path, sample_rate_hz: int = SAMPLE_RATE_HZ) -> Path:
    """float32 [-1, 1] mono samples -> ``folder/voice-<time>.wav`` (16-bit PCM)."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"voice-{time.strftime('%Y%m%d-%H%M%S')}.wav"
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate_hz)
        out.writeframes(pcm.tobytes())
    return path
