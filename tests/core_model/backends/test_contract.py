"""The Backend contract: what every backend must do, run against each of them.

The backends: the GUI tests' fake, ProcessBackend over the real child process (a tiny Qwen2-VL in it), and every
real tiny backend in-process (Qwen2-VL and SmolVLM2 through the image-text-to-text family, Qwen2.5-Omni, Gemma 4,
Video-LLaMA), and the remote backend against a real ``transformers serve`` on 127.0.0.1 (tests/fixtures/remote_server.py). Phases are reached with failpoints (core_model/backends/failpoints.py): a file the test rewrites,
read by the backend as each phase starts, in this process or in the model's child process alike.

The contract: it streams and fills ``last_run``; ``describe()`` tells the truth; Stop works in every phase and the
next question starts within 1 s of it; an exception in any phase comes out as one VidiError line and leaves the
backend usable; a kind of media it cannot take is refused before any work, naming the model; closing the stream
early ends the generation.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from core_model.backends import load_backend
from core_model.backends.base import (
    AudioRef,
    BackendInfo,
    ImageRef,
    GenerationOptions,
    RunInfo,
    SegmentRef,
    Turn,
    UnsupportedMediaError,
)
from core_model.backends.failpoints import FAILPOINTS_ENV
from core_model.errors import InternalError, OutOfMemoryError, VidiError
from tests.desktop_app.fake_backend import FakeBackend, FakeScript
from tests.fixtures.tiny_omni import tiny_gemma4_dir, tiny_qwen_omni_dir  # noqa: F401  (fixtures)
from tests.fixtures.tiny_videollama import converted_dir, official_files  # noqa: F401  (fixtures)

KINDS = ("fake", "process", "qwen2_vl", "smolvlm", "qwen_omni", "gemma4", "videollama", "remote")
PHASES = {"videollama": ("decoding", "processor", "encoders", "generation")}
DEFAULT_PHASES = ("decoding", "processor", "generation")
OPTIONS = GenerationOptions(max_new_tokens=6, num_frames=4, temperature=0.0)
LONG = GenerationOptions(max_new_tokens=400, num_frames=4, temperature=0.0)
STOP_TO_NEXT_S = 1.0


@pytest.fixture(scope="module")
def failpoints(tmp_path_factory):
    """Write a line like "decoding=sleep:10" to steer the backends; cleared after each use."""
    path = tmp_path_factory.mktemp("failpoints") / "points.txt"
    path.write_text("")
    previous = os.environ.get(FAILPOINTS_ENV)
    os.environ[FAILPOINTS_ENV] = f"@{path}"  # before any child process starts: it inherits it
    yield path
    if previous is None:
        os.environ.pop(FAILPOINTS_ENV, None)
    else:
        os.environ[FAILPOINTS_ENV] = previous


@pytest.fixture(scope="module")
def backends(failpoints, request):
    """Each kind's backend, built and loaded once per module (on first use)."""
    made: dict = {}

    def get(kind: str):
        if kind not in made:
            made[kind] = _build(kind, request)
        return made[kind]

    yield get
    for backend in made.values():
        backend.unload()


def _build(kind: str, request):
    if kind == "fake":
        backend = FakeBackend(FakeScript(pieces=[f"word{i} " for i in range(60)], delay_s=0.01), model_id="fake-model")
    elif kind == "remote":
        from core_model.backends.remote import RemoteBackend
        from core_model.backends.remote_probe import SupportCache

        server = request.getfixturevalue("transformers_server")
        backend = RemoteBackend(server.base_url, server.model, api_key_value="",
                                support_cache=SupportCache(server.log_path.parent / "remote_servers.json"))
    elif kind == "process":
        from desktop_app.workers.model_process import ProcessBackend

        backend = ProcessBackend(str(request.getfixturevalue("tiny_vlm_dir")), device="cpu", load_in_4bit=False)
    else:
        fixture = {"qwen2_vl": "tiny_vlm_dir", "smolvlm": "tiny_smolvlm_dir", "qwen_omni": "tiny_qwen_omni_dir",
                   "gemma4": "tiny_gemma4_dir", "videollama": "converted_dir"}[kind]
        backend = load_backend(str(request.getfixturevalue(fixture)), device="cpu")
    backend.load()
    return backend


@pytest.fixture(params=KINDS)
def backend(request, backends, failpoints):
    failpoints.write_text("")
    yield request.param, backends(request.param)
    failpoints.write_text("")


_segment_counter = iter(range(10_000))


def question(video, text: str = "what is here ?") -> list[Turn]:
    """A question about a fresh 2-s segment (a new start each time, so no backend answers from a cache)."""
    start_s = 0.5 + (next(_segment_counter) % 20) * 0.05
    return [Turn("user", text, (SegmentRef(str(video), start_s, start_s + 2.0),))]


# ---- the contract -----------------------------------------------------------------------------------------------


def test_streams_pieces_and_fills_last_run(backend, video_with_audio):
    kind, backend = backend
    pieces = list(backend.answer(question(video_with_audio), OPTIONS))
    run = backend.last_run
    assert len(pieces) >= 2 and "".join(pieces).strip()
    assert isinstance(run, RunInfo) and not run.stopped
    assert run.num_new_tokens >= 2 and run.total_s > 0
    assert run.frame_timestamps_s and all(0.5 <= t <= 3.5 for t in run.frame_timestamps_s)
    assert run.model_id == backend.model_id


def test_answers_a_segment_and_an_image_together(backend, video_with_audio, image_png):
    kind, backend = backend
    turn = question(video_with_audio)[0]
    both = [Turn("user", "is the picture in the video ?", (*turn.media, ImageRef(str(image_png))))]
    pieces = list(backend.answer(both, OPTIONS))
    assert pieces and "".join(pieces).strip() and not backend.last_run.stopped
    assert backend.last_run.frame_timestamps_s  # the segment was seen, not dropped for the image


def test_describe_tells_how_it_runs(backend):
    kind, backend = backend
    info = backend.describe()
    assert isinstance(info, BackendInfo)
    assert info.model_id == backend.model_id and info.capabilities == backend.capabilities
    assert info.device == backend.device == ("remote" if kind == "remote" else "cpu")
    assert info.load_in_4bit is backend.load_in_4bit is False
    assert info.loaded and info.notice == backend.notice
    assert info.precision == info.dtype and info.dtype in (("",) if kind == "remote" else ("float32", "bfloat16"))
    assert bool(info.host) == (kind == "remote")


@pytest.mark.parametrize("phase", ("decoding", "processor", "encoders", "generation"))
def test_stop_works_in_every_phase_and_the_next_question_starts_within_a_second(
    backend, phase, failpoints, video_with_audio
):
    kind, backend = backend
    if phase not in PHASES.get(kind, DEFAULT_PHASES) and kind != "fake":
        pytest.skip(f"{kind} has no separate {phase} phase (its encoders run inside generate)")
    failpoints.write_text(f"{phase}=sleep:20")
    outcome: dict = {}

    def consume() -> None:
        try:
            outcome["pieces"] = list(backend.answer(question(video_with_audio), LONG))
        except BaseException as exc:  # noqa: BLE001
            outcome["error"] = exc
        outcome["ended"] = time.monotonic()

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.5 if kind != "process" else 1.0)  # well inside the 20-s phase
    assert thread.is_alive(), outcome
    stopped_at = time.monotonic()
    backend.cancel()
    thread.join(10)
    failpoints.write_text("")
    assert not thread.is_alive() and "error" not in outcome, outcome.get("error")
    assert outcome["ended"] - stopped_at < STOP_TO_NEXT_S
    assert backend.last_run.stopped
    # the next question starts at once and answers
    pieces = list(backend.answer(question(video_with_audio), OPTIONS))
    assert pieces and not backend.last_run.stopped


@pytest.mark.parametrize("phase", ("decoding", "processor", "generation"))
def test_an_exception_in_any_phase_is_one_line_and_the_backend_answers_again(
    backend, phase, failpoints, video_with_audio
):
    kind, backend = backend
    failpoints.write_text(f"{phase}=raise:ValueError")
    with pytest.raises(VidiError) as raised:
        list(backend.answer(question(video_with_audio), OPTIONS))
    failpoints.write_text("")
    assert isinstance(raised.value, InternalError) and raised.value.kind == "internal"
    message = str(raised.value)
    assert "\n" not in message and "ValueError" in message and f"failpoint {phase}" in message
    assert list(backend.answer(question(video_with_audio), OPTIONS))


def test_memory_error_is_out_of_memory_and_the_backend_answers_again(backend, failpoints, video_with_audio):
    kind, backend = backend
    failpoints.write_text("processor=raise:MemoryError")
    with pytest.raises(OutOfMemoryError) as raised:
        list(backend.answer(question(video_with_audio), OPTIONS))
    failpoints.write_text("")
    assert raised.value.kind == "out_of_memory" and "memory" in str(raised.value).lower()
    assert list(backend.answer(question(video_with_audio), OPTIONS))


def test_media_it_cannot_take_are_refused_before_any_work_naming_the_model(backend, tmp_path):
    kind, backend = backend
    if backend.capabilities.audio:
        pytest.skip("this model takes every kind of media Vidi sends")
    never_read = AudioRef(str(tmp_path / "does-not-exist.wav"))  # any work on it would be a MediaError
    with pytest.raises(UnsupportedMediaError) as raised:
        list(backend.answer([Turn("user", "what is said ?", (never_read,))], OPTIONS))
    assert backend.model_id in str(raised.value) and "\n" not in str(raised.value)


def test_closing_the_stream_early_ends_the_generation(backend, video_with_audio):
    kind, backend = backend
    stream = backend.answer(question(video_with_audio), LONG)
    assert next(stream)
    started = time.monotonic()
    stream.close()
    assert time.monotonic() - started < STOP_TO_NEXT_S
    assert not [t for t in threading.enumerate() if t.name == "vidi-generate"]  # joined, not left running
    assert list(backend.answer(question(video_with_audio), OPTIONS))


# ---- the model process only ---------------------------------------------------------------------------------


def test_a_killed_model_process_is_one_line_and_the_next_question_restarts_it(backends, failpoints, video_with_audio):
    from core_model.errors import ModelProcessError

    backend = backends("process")
    failpoints.write_text("generation=kill")
    with pytest.raises(ModelProcessError, match="killed by SIGKILL") as raised:
        list(backend.answer(question(video_with_audio), OPTIONS))
    failpoints.write_text("")
    assert "\n" not in str(raised.value)
    assert list(backend.answer(question(video_with_audio), OPTIONS))  # a new child, loaded on demand
