"""The worker thread: loads off the GUI thread, streams pieces with request ids, cancels, queues, shuts down."""

from __future__ import annotations

import threading

from core_model.backends.base import GenerationOptions, ImageRef, SegmentRef, Turn
from desktop_app.workers.chat_request import ChatRequest, ModelSpec
from desktop_app.workers.inference_client import InferenceClient
from tests.desktop_app.conftest import SignalRecorder


def _request(client, spec, text="What happens?", media=()):
    return ChatRequest(
        request_id=client.new_request_id(),
        spec=spec,
        conversation=(Turn("user", text, tuple(media)),),
        media=tuple(media),
        options=GenerationOptions(num_frames=4),
    )


def _record(client):
    w = client.worker
    return SignalRecorder(
        started=w.request_started,
        piece=w.piece_received,
        finished=w.request_finished,
        failed=w.request_failed,
        cancelled=w.request_cancelled,
        progress=w.load_progressed,
        loaded=w.loaded,
    )


def test_answer_streams_pieces_off_the_gui_thread(qtbot, fake_factory):
    client = InferenceClient(fake_factory)
    rec = _record(client)
    try:
        segment = SegmentRef("/v.mp4", 1.0, 3.0, include_audio=False)
        request = _request(client, ModelSpec("fake-model", device="cpu"), media=[segment, ImageRef("/i.png")])
        client.submit(request)
        qtbot.waitUntil(lambda: bool(rec["finished"]), timeout=5000)
        rid, run = rec["finished"][0]
        assert rid == request.request_id and not run.stopped
        assert "".join(p for _, p in rec["piece"]) == "The dog runs at 0:01."
        assert {r for r, _ in rec["piece"]} == {request.request_id}
        assert rec["progress"][-1][0] == 1.0 and rec["loaded"]
        backend = fake_factory.last
        assert backend.load_thread == backend.answer_threads[0] != threading.current_thread().name
        assert backend.requests[0].media == [segment, ImageRef("/i.png")]
        assert len(run.frame_timestamps_s) == 4
    finally:
        assert client.shutdown(2000)


def test_cancel_stops_running_and_queued_requests(qtbot, fake_factory):
    fake_factory.script.pieces = ["x "] * 300
    client = InferenceClient(fake_factory)
    rec = _record(client)
    try:
        spec = ModelSpec("fake-model")
        first, second = _request(client, spec), _request(client, spec)
        client.submit(first)
        client.submit(second)
        qtbot.waitUntil(lambda: bool(rec["piece"]), timeout=5000)
        client.cancel(first.request_id)
        client.cancel(second.request_id)
        qtbot.waitUntil(lambda: bool(rec["finished"] and rec["cancelled"]), timeout=3000)
        assert rec["finished"][0][0] == first.request_id and rec["finished"][0][1].stopped
        assert rec["cancelled"] == [(second.request_id,)]
        assert len(rec["piece"]) < 300
        assert len(fake_factory.last.requests) == 1  # the queued one never reached the backend
    finally:
        assert client.shutdown(2000)


def test_model_load_failure_is_reported_not_raised(qtbot, fake_factory):
    fake_factory.script.load_error = "Model folder '/nope' has no config.json."
    client = InferenceClient(fake_factory)
    rec = _record(client)
    try:
        request = _request(client, ModelSpec("/nope"))
        client.submit(request)
        qtbot.waitUntil(lambda: bool(rec["failed"]), timeout=5000)
        rid, message, kind = rec["failed"][0]
        assert rid == request.request_id and "no config.json" in message and kind == "model_load"  # core_model.errors kind
    finally:
        assert client.shutdown(2000)


def test_shutdown_during_a_long_load_finishes_within_two_seconds(qtbot, fake_factory):
    fake_factory.script.load_delay_s = 30.0  # a long load that reports progress
    client = InferenceClient(fake_factory)
    rec = _record(client)
    client.load(ModelSpec("fake-model"))
    qtbot.waitUntil(lambda: bool(rec["progress"]), timeout=5000)
    assert client.shutdown(2000)
    assert not client.thread.isRunning()
