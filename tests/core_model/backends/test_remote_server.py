"""The remote backend against a real OpenAI-compatible server: ``transformers serve`` with a tiny Gemma 4.

One server per test session (tests/fixtures/remote_server.py); the kill-mid-answer test starts its own (the tiny
Qwen2-VL, which does not hear).
"""

import json
import threading
import time

import pytest

from core_model.backends import AudioRef, GenerationOptions, ImageRef, SegmentRef, Turn
from core_model.backends import openai_content
from core_model.backends.remote import RemoteBackend
from core_model.backends.remote_errors import StreamCutError
from core_model.backends.remote_probe import MediaSupport, SupportCache
from core_model.errors import RemoteError, UnsupportedMediaError
from tests.fixtures.remote_server import start_transformers_server

LONG = GenerationOptions(max_new_tokens=4000, num_frames=2)
"""The tiny model never ends by itself: an answer this long streams for a minute, time to stop or cut it."""


def _ask(backend, media=(), text="What happens here?", options=GenerationOptions(max_new_tokens=8, num_frames=4)):
    return list(backend.answer([Turn("user", text, tuple(media))], options))


def test_the_probe_finds_what_the_server_takes_and_remembers_it(transformers_server, tmp_path, monkeypatch):
    cache = SupportCache(tmp_path / "remote_servers.json")
    backend = RemoteBackend(transformers_server.base_url, transformers_server.model, support_cache=cache)
    backend.load()
    # transformers serve takes Gemma 4's images and audio; video_url needs torchcodec, which is not installed
    assert (backend.support.image, backend.support.video_url, backend.support.audio) == (True, False, True)
    assert backend.capabilities.video and backend.capabilities.image and backend.capabilities.audio
    assert backend.support.latency_ms > 0
    stored = json.loads(cache.path.read_text())
    assert stored[transformers_server.base_url][transformers_server.model]["image"] is True
    # a second load of the same endpoint asks nothing again
    import core_model.backends.remote as remote

    monkeypatch.setattr(remote, "probe_support", lambda *a, **k: pytest.fail("probed again"))
    again = RemoteBackend(transformers_server.base_url, transformers_server.model, support_cache=cache)
    again.load()
    assert again.support == backend.support
    assert again.describe().loaded and again.describe().host == f"127.0.0.1:{transformers_server.port}"


def test_a_segment_with_its_sound_streams_with_the_frames_it_sent(remote_backend, video_with_audio):
    pieces = _ask(remote_backend, [SegmentRef(str(video_with_audio), 1.0, 3.0)])
    assert len(pieces) >= 4 and "".join(pieces).strip()
    run = remote_backend.last_run
    assert len(run.frame_timestamps_s) == 4 and all(1.0 <= t <= 3.0 for t in run.frame_timestamps_s)
    assert run.used_audio is True
    assert "4 frames" in run.plan and "as images, with audio" in run.plan and remote_backend.host in run.plan
    assert 0 < run.first_token_s <= run.total_s and not run.stopped


def test_without_audio_or_for_a_silent_video_no_sound_is_sent(remote_backend, video_with_audio, video_no_audio):
    _ask(remote_backend, [SegmentRef(str(video_with_audio), 1.0, 3.0, include_audio=False)])
    assert remote_backend.last_run.used_audio is False
    _ask(remote_backend, [SegmentRef(str(video_no_audio), 0.0, 1.0)])
    assert remote_backend.last_run.used_audio is False and len(remote_backend.last_run.frame_timestamps_s) == 4


def test_a_recorded_clip(remote_backend, audio_only):
    assert "".join(_ask(remote_backend, [AudioRef(str(audio_only))])).strip()
    assert remote_backend.last_run.used_audio


def test_a_segment_and_an_image_together(remote_backend, video_with_audio, image_png):
    pieces = _ask(remote_backend, [SegmentRef(str(video_with_audio), 0.0, 2.0), ImageRef(str(image_png))])
    assert "".join(pieces).strip()
    assert len(remote_backend.last_run.frame_timestamps_s) == 4


def test_an_image_alone_and_a_follow_up(remote_backend, image_png):
    assert "".join(_ask(remote_backend, [ImageRef(str(image_png))])).strip()
    # (the tiny model's echo holds its special tokens, which no real answer does: a plain earlier answer here)
    conversation = [Turn("user", "What is it?", (ImageRef(str(image_png)),)), Turn("assistant", "A red square."),
                    Turn("user", "Say more.")]
    assert "".join(remote_backend.answer(conversation, GenerationOptions(max_new_tokens=6))).strip()


def test_audio_is_refused_before_any_work_when_the_model_does_not_hear(transformers_server, audio_only, tmp_path):
    cache = SupportCache(tmp_path / "s.json")
    cache.put(transformers_server.base_url, transformers_server.model, MediaSupport(image=True))  # as if it said so
    backend = RemoteBackend(transformers_server.base_url, transformers_server.model, support_cache=cache)
    backend.load()
    with pytest.raises(UnsupportedMediaError, match="cannot listen to audio"):
        backend.answer([Turn("user", "What is said?", (AudioRef(str(audio_only)),))])


def test_stop_ends_the_answer_at_once_and_the_next_question_starts_quickly(remote_backend, video_with_audio):
    pieces = remote_backend.answer([Turn("user", "Describe it.", (SegmentRef(str(video_with_audio), 0, 2),))], LONG)
    received = [next(pieces), next(pieces)]
    threading.Timer(0.2, remote_backend.cancel).start()
    started = time.perf_counter()
    received.extend(pieces)  # ends once Stop is pressed
    assert time.perf_counter() - started < 1.2
    assert remote_backend.last_run.stopped
    asked = time.perf_counter()
    nxt = remote_backend.answer([Turn("user", "And now?")], GenerationOptions(max_new_tokens=4))
    next(nxt)
    # the server stopped generating the old answer when the connection closed: the new one is not queued behind it
    assert time.perf_counter() - asked < 3.0
    list(nxt)
    assert not remote_backend.last_run.stopped


def test_stop_while_waiting_for_the_server(remote_backend):
    pieces = remote_backend.answer([Turn("user", "Hello?")], LONG)
    remote_backend.cancel()  # before the first piece: nothing streams, the iterator ends
    assert list(pieces) == []
    assert remote_backend.last_run.stopped


def test_a_model_the_server_does_not_serve(transformers_server, tmp_path):
    backend = RemoteBackend(transformers_server.base_url, "no/such-model",
                            support_cache=SupportCache(tmp_path / "s.json"))
    with pytest.raises(RemoteError) as caught:
        backend.load()
    message = str(caught.value)
    assert "does not serve model 'no/such-model'" in message and transformers_server.model in message
    assert "\n" not in message


def test_a_server_that_is_down(tmp_path):
    from tests.fixtures.remote_server import free_port

    backend = RemoteBackend(f"http://127.0.0.1:{free_port()}", "m", support_cache=SupportCache(tmp_path / "s.json"))
    with pytest.raises(RemoteError, match="refused the connection: is the server running"):
        backend.load()


def test_server_killed_mid_answer_keeps_the_partial_answer_marked(tiny_vlm_dir, tmp_path, video_with_audio):
    server = start_transformers_server(tiny_vlm_dir, tmp_path)
    try:
        backend = RemoteBackend(server.base_url, server.model, support_cache=SupportCache(tmp_path / "s.json"),
                                probe=False)
        backend.load()
        pieces = backend.answer([Turn("user", "Go on.", (SegmentRef(str(video_with_audio), 0, 2),))], LONG)
        received = [next(pieces) for _ in range(5)]
        server.kill()
        with pytest.raises(StreamCutError) as caught:
            for piece in pieces:
                received.append(piece)
        assert received[-1] == openai_content.CUT_MARK and len(received) >= 6
        assert "cut" in str(caught.value) and "\n" not in str(caught.value)
        # the backend answers again once a server is back (here: none, so one clear line)
        with pytest.raises(RemoteError, match="refused the connection"):
            list(backend.answer([Turn("user", "Again?")], GenerationOptions(max_new_tokens=4)))
    finally:
        server.stop()


def test_load_backend_with_a_spec_runs_against_the_server(transformers_server, image_png, tmp_path, monkeypatch):
    from core_model.backends import load_backend
    from core_model.backends.remote_endpoint import remote_spec

    monkeypatch.setenv("VIDI_DATA_DIR", str(tmp_path))
    backend = load_backend(remote_spec(transformers_server.base_url, transformers_server.model))
    backend.load()
    assert "".join(_ask(backend, [ImageRef(str(image_png))])).strip()
    assert (tmp_path / "remote_servers.json").is_file()  # remembered in Vidi's data folder
    assert backend.support == MediaSupport(image=True, audio=True, latency_ms=backend.support.latency_ms)


def test_what_the_model_takes_is_known_before_load(transformers_server, tmp_path):
    """The GUI enables "Include audio" from describe() before the first question, so it must be true unloaded."""
    backend = RemoteBackend(transformers_server.base_url, transformers_server.model,
                            support_cache=SupportCache(tmp_path / "s.json"))
    info = backend.describe()
    assert not info.loaded and info.capabilities.audio and info.capabilities.image
