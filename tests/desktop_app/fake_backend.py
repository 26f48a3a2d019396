"""A fake Backend for GUI tests: streams a scripted answer with a small delay, records every request it got.

It implements core_model's Backend protocol honestly: ``cancel()`` from another thread ends the stream within one
piece, ``last_run`` reports frames and the stopped flag, errors are the documented BackendError kinds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from core_model.backends.base import (
    BackendInfo,
    CancelToken,
    Capabilities,
    GenerationOptions,
    MemoryEstimate,
    ModelLoadError,
    RunInfo,
    SegmentRef,
)


@dataclass
class RecordedRequest:
    conversation: list
    media: list
    options: GenerationOptions | None


@dataclass
class FakeScript:
    """What the fake backend does; tests change it between questions."""

    pieces: list[str] = field(default_factory=lambda: ["The ", "dog ", "runs ", "at ", "0:01", "."])
    delay_s: float = 0.01
    load_delay_s: float = 0.0
    load_error: str | None = None
    answer_error: Exception | None = None
    run_reported_at_end: bool = False
    """Write ``last_run`` only when an answer streams to its end, as ProcessBackend does (its child sends the RunInfo
    with "done"): a stopped answer then leaves the previous question's RunInfo in ``last_run``."""
    device: str = "cpu"
    dtype: str = "float32"
    notice: str = ""
    capabilities: Capabilities = field(default_factory=lambda: Capabilities(video=True, audio=True, image=True))


class FakeBackend:
    def __init__(self, script: FakeScript, model_id: str = "fake-model") -> None:
        self.model_id = model_id
        self.script = script
        self.capabilities = script.capabilities
        self.device = script.device
        self.load_in_4bit = False
        self.notice = script.notice
        self.last_run = RunInfo(model_id=model_id)
        self.requests: list[RecordedRequest] = []
        self.loaded = False
        self.load_thread: str | None = None
        self.answer_threads: list[str] = []
        self._cancel = CancelToken()
        self.started = threading.Event()  # set when an answer has streamed its first piece

    def load(self, progress=None) -> None:
        self.load_thread = threading.current_thread().name
        if self.script.load_error:
            raise ModelLoadError(self.script.load_error)
        steps = 100
        for i in range(steps + 1):
            if progress:
                progress(i / steps, f"loading part {i}/{steps}")
            if i < steps and self.script.load_delay_s:
                time.sleep(self.script.load_delay_s / steps)
        self.loaded = True

    def describe(self) -> BackendInfo:
        return BackendInfo(self.model_id, self.capabilities, self.device, load_in_4bit=self.load_in_4bit,
                           dtype=self.script.dtype, notice=self.notice, loaded=self.loaded)

    def answer(self, conversation, options=None):
        self._cancel.reset()
        media = list(conversation[-1].media) if conversation else []
        self.requests.append(RecordedRequest(list(conversation), media, options))
        self.answer_threads.append(threading.current_thread().name)
        return self._stream(media, options or GenerationOptions())

    def _stream(self, media, options):
        run = RunInfo(model_id=self.model_id)
        for item in media:
            if isinstance(item, SegmentRef):
                start = item.start_s or 0.0
                end = item.end_s if item.end_s is not None else start + 1.0
                n = options.num_frames
                run.frame_timestamps_s += [start + (end - start) * (i + 0.5) / n for i in range(n)]
                run.used_audio = item.include_audio
        if not self.script.run_reported_at_end:
            self.last_run = run
        if self.script.answer_error is not None:
            raise self.script.answer_error
        for piece in self.script.pieces:
            if self._cancel.cancelled:
                run.stopped = True
                return
            time.sleep(self.script.delay_s)
            if self._cancel.cancelled:
                run.stopped = True
                return
            self.started.set()
            run.num_new_tokens += 1
            yield piece
        self.last_run = run

    def cancel(self) -> None:
        self._cancel.cancel()

    def unload(self) -> None:
        self.loaded = False

    def abort(self) -> None:
        self._cancel.cancel()

    def memory_estimate(self) -> MemoryEstimate:
        return MemoryEstimate(device="cpu", parts_bytes={"weights": 1000})


class FakeBackendFactory:
    """A backend factory for InferenceClient that keeps every backend it made."""

    def __init__(self, script: FakeScript | None = None) -> None:
        self.script = script or FakeScript()
        self.backends: list[FakeBackend] = []
        self.specs: list = []

    def __call__(self, spec) -> FakeBackend:
        self.specs.append(spec)
        backend = FakeBackend(self.script, model_id=spec.model or "fake-model")
        self.backends.append(backend)
        return backend

    @property
    def last(self) -> FakeBackend:
        return self.backends[-1]

    @property
    def requests(self) -> list[RecordedRequest]:
        return [r for b in self.backends for r in b.requests]
