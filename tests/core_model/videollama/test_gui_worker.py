"""The GUI's inference worker (desktop_app.workers.inference_worker) answers with the converted tiny Video-LLaMA."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")


def test_inference_worker_answers_about_a_segment_with_audio(qapp, converted_dir, video_with_audio):
    from core_model.backends import GenerationOptions, SegmentRef, Turn
    from desktop_app.workers.chat_request import ChatRequest, ModelSpec
    from desktop_app.workers.inference_worker import InferenceWorker, in_thread_backend_factory

    worker = InferenceWorker(in_thread_backend_factory)
    pieces, finished, failed = [], [], []
    worker.piece_received.connect(lambda request_id, piece: pieces.append(piece))
    worker.request_finished.connect(lambda request_id, run: finished.append(run))
    worker.request_failed.connect(lambda request_id, message, kind: failed.append(message))
    segment = SegmentRef(str(video_with_audio), 0.0, 3.0, include_audio=True)
    request = ChatRequest(request_id=1, spec=ModelSpec(str(converted_dir), device="cpu"),
                          conversation=(Turn("user", "What do you hear?", (segment,)),), media=(segment,),
                          options=GenerationOptions(max_new_tokens=6, temperature=0.0))
    worker.submit(request)  # runs on this thread: the worker's slot, called directly
    assert not failed, failed
    assert len(finished) == 1 and finished[0].used_audio and len(finished[0].frame_timestamps_s) == 8
    assert "".join(pieces).strip()
    worker.release()
