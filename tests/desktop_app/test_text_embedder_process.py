"""The window's SigLIP child (desktop_app/workers/text_embedder_process.py): the same vectors as core_model's own
in-process embedding, a clear line for a wrong folder, Stop that does not wait for the child, a killed or idle child
replaced at the next search. Real child processes, the tiny random SigLIP."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from core_model.errors import Cancelled, ModelLoadError, ModelProcessError
from core_model.index.keyframes import embed_texts_here
from desktop_app.workers.text_embedder_process import TextEmbedderProcess
from tests.fixtures.tiny_siglip import TINY_SIGLIP_DIM, tiny_siglip_dir  # noqa: F401

TEXTS = ["a dog on the beach", "grandma gives her speech"]


@pytest.fixture
def embedder():
    process = TextEmbedderProcess()
    yield process
    process.close()


def test_the_child_embeds_as_core_model_does_in_process(embedder, tiny_siglip_dir):  # noqa: F811
    vectors = embedder(tiny_siglip_dir, TEXTS)
    assert vectors.shape == (2, TINY_SIGLIP_DIM) and vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, embed_texts_here(tiny_siglip_dir, TEXTS), atol=1e-5)
    assert not np.allclose(vectors[0], vectors[1])  # each text its own vector, in order


def test_a_folder_without_siglip_is_one_clear_line_and_the_child_goes_on(embedder, tiny_siglip_dir,
                                                                         tmp_path):  # noqa: F811
    (tmp_path / "config.json").write_text('{"model_type": "whisper"}')
    with pytest.raises(ModelLoadError, match="not a SigLIP embedding model"):
        embedder(tmp_path, TEXTS)
    assert embedder(tiny_siglip_dir, TEXTS[:1]).shape == (1, TINY_SIGLIP_DIM)


def test_stop_does_not_wait_for_the_child_and_its_late_reply_is_dropped(embedder, tiny_siglip_dir):  # noqa: F811
    started = time.monotonic()
    stop_at = started + 0.3
    with pytest.raises(Cancelled):
        # the child is still importing torch and loading SigLIP (seconds): Stop ends the wait all the same
        embedder.embed(tiny_siglip_dir, TEXTS[:1], should_stop=lambda: time.monotonic() > stop_at)
    assert time.monotonic() - started < 1.0
    # the next search gets its own texts' vectors, not the stopped search's reply
    np.testing.assert_allclose(embedder(tiny_siglip_dir, TEXTS[1:]), embed_texts_here(tiny_siglip_dir, TEXTS[1:]),
                               atol=1e-5)


def test_a_child_killed_during_a_search_is_named_and_the_next_search_starts_another(embedder,
                                                                                   tiny_siglip_dir):  # noqa: F811
    embedder.warm()
    killer = threading.Timer(0.8, lambda: os.kill(embedder._process.pid, signal.SIGKILL))
    killer.start()  # the child is still importing torch (seconds) when it is killed
    try:
        with pytest.raises(ModelProcessError, match="SIGKILL"):
            embedder(tiny_siglip_dir, TEXTS)
    finally:
        killer.join()
    assert embedder(tiny_siglip_dir, TEXTS).shape == (2, TINY_SIGLIP_DIM)


def test_a_child_killed_between_searches_is_replaced_unseen(embedder, tiny_siglip_dir):  # noqa: F811
    embedder(tiny_siglip_dir, TEXTS)
    os.kill(embedder._process.pid, signal.SIGKILL)
    embedder._process.join(5)
    assert embedder(tiny_siglip_dir, TEXTS).shape == (2, TINY_SIGLIP_DIM)


def test_an_idle_child_ends_and_the_next_search_starts_another_unseen(tiny_siglip_dir):  # noqa: F811
    embedder = TextEmbedderProcess(idle_exit_s=0.5)
    try:
        embedder(tiny_siglip_dir, TEXTS)
        first = embedder._process
        first.join(10)
        assert first.exitcode == 0 and not embedder.is_running()  # its memory given back
        assert embedder(tiny_siglip_dir, TEXTS).shape == (2, TINY_SIGLIP_DIM)
        assert embedder._process is not first
    finally:
        embedder.close()


def test_close_ends_the_child_and_later_searches_say_vidi_is_closing(tiny_siglip_dir):  # noqa: F811
    embedder = TextEmbedderProcess()
    embedder.warm()
    process = embedder._process
    embedder.close(0.5)
    assert not process.is_alive()
    with pytest.raises(ModelProcessError, match="closing"):
        embedder(tiny_siglip_dir, TEXTS)


def test_a_warm_child_that_stops_answering_is_killed_and_the_next_search_starts_another(tiny_siglip_dir):  # noqa: F811
    # a stuck child (SIGSTOP here) left every whole-video question "Waiting..." until Stop, and the next one too
    embedder = TextEmbedderProcess(warm_reply_s=1.0)
    try:
        embedder(tiny_siglip_dir, TEXTS)  # warm: SigLIP loaded in the child
        stuck = embedder._process
        os.kill(stuck.pid, signal.SIGSTOP)
        started = time.monotonic()
        with pytest.raises(ModelProcessError, match="did not answer in 1 s and was restarted"):
            embedder(tiny_siglip_dir, TEXTS)
        assert time.monotonic() - started < 10.0
        stuck.join(5.0)
        assert not stuck.is_alive()  # killed, not left stopped
        np.testing.assert_allclose(embedder(tiny_siglip_dir, TEXTS), embed_texts_here(tiny_siglip_dir, TEXTS),
                                   atol=1e-5)  # a new child, cold: no limit while it loads
    finally:
        embedder.close()
