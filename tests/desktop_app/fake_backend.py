"""A fake Backend for GUI tests: streams a scripted answer with a small delay, records every request it got.

It implements core_model's Backend protocol honestly: ``cancel()`` from another thread ends the stream within one
piece, ``last_run`` reports frames and the stopped flag, errors are the documented BackendError kinds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from core_model.backends.failpoints import failpoint
from core_model.errors import Cancelled, VidiError, as_vidi_error
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
        from core_model.backends.common import check_question

        check_question(self.capabilities, conversation, self.model_id)  # refusals before any work, as the real ones
        self._cancel.reset()
        media = list(conversation[-1].media) if conversation else []
        self.requests.append(RecordedRequest(list(conversation), media, options))
        self.answer_threads.append(threading.current_thread().name)
        return self._stream(media, options or GenerationOptions())

    def _stream(self, media, options):
        run = RunInfo(model_id=self.model_id)
        if not self.script.run_reported_at_end:  # else as ProcessBackend: last_run only once the answer is done
            self.last_run = run
        started = time.perf_counter()
        try:
            yield from self._phases(media, options, run, started)
        except Cancelled:
            run.stopped = True
        except VidiError:
            raise
        except Exception as exc:  # noqa: BLE001  as the real backends: one VidiError whatever happened
            raise as_vidi_error(exc) from exc
        finally:
            run.total_s = time.perf_counter() - started
        self.last_run = run

    def _phases(self, media, options, run, started):
        stopped = lambda: self._cancel.cancelled  # noqa: E731
        for phase in ("decoding", "processor", "encoders"):  # the real backends' phases, with their failpoints
            failpoint(phase, stopped)
            if stopped():
                raise Cancelled(phase)
        for item in media:
            if isinstance(item, SegmentRef):
                start = item.start_s or 0.0
                end = item.end_s if item.end_s is not None else start + 1.0
                n = options.num_frames
                run.frame_timestamps_s += [start + (end - start) * (i + 0.5) / n for i in range(n)]
                run.used_audio = item.include_audio
        if self.script.answer_error is not None:
            raise self.script.answer_error
        run.prepare_s = time.perf_counter() - started
        failpoint("generation", stopped)
        for piece in self.script.pieces[: options.max_new_tokens]:
            if self._cancel.cancelled:
                run.stopped = True
                return
            time.sleep(self.script.delay_s)
            if self._cancel.cancelled:
                run.stopped = True
                return
            self.started.set()
            if not run.num_new_tokens:
                run.first_token_s = time.perf_counter() - started
            run.num_new_tokens += 1
            yield piece

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
