"""Moments found by their look: the question embedded by SigLIP, the video's keyframe vectors searched, a moment
around each match fused with the text search's moments (plan_if_indexed with image_search, and `vidi ask`'s plan).

The tiny SigLIP has random weights, so what a text means to it is arbitrary. To make "found by its look" testable,
the question's text embedding is set to the embedding of one keyframe's picture (``LookingFor``): everything else
(decoding, the image tower, the vector index in SQLite, moments, fusion, the plan) is the real code path."""

import shutil

import numpy as np
import pytest

from core_model.index import keyframes
from core_model.index.embeddings import SiglipEmbedder
from core_model.index.runner import build_index
from core_model.index.whole_video import plan_if_indexed, plan_whole_video_question
from core_model.media import sample_frames
from core_model.models.manager import ModelManager
from core_model.store.index_store import IndexStore
from tests.fixtures.tiny_siglip import tiny_siglip_dir  # noqa: F401

DURATION_S = 70.0
SRT = "1\n00:00:05,000 --> 00:00:08,000\nWelcome to the castle\n"


class LookingFor:
    """A question embedder whose text vector is the picture at ``time_s`` (what a trained SigLIP would give a
    question describing that picture)."""

    def __init__(self, folder, video, time_s):
        frame, _ = sample_frames(video, time_s - 0.05, time_s + 0.05, 1, max_side_px=keyframes.KEYFRAME_SIDE_PX)
        self.vector = SiglipEmbedder(folder).embed_images(frame)[0]

    def embed_texts(self, texts):
        return np.stack([self.vector for _ in texts])


@pytest.fixture
def tour(tmp_path, long_scene_video, tiny_siglip_dir):  # noqa: F811
    video = tmp_path / "tour.mp4"
    shutil.copy(long_scene_video, video)
    (tmp_path / "tour.srt").write_text(SRT)
    db = tmp_path / "data" / "vidi.sqlite3"
    with IndexStore(db) as store:
        report = build_index(video, parts=["transcript", "scenes", "embeddings"], store=store,
                             manager=ModelManager(data_folder=tmp_path / "m", cache_dir=tmp_path / "hub"),
                             embed_model=str(tiny_siglip_dir))
        assert report.built == ["transcript", "scenes", "embeddings"], report.skipped
        keyframe_s = store.keyframe_times(report.fingerprint)[4]  # the shot 40-50 s
    return video, db, keyframe_s


def _covers(source, time_s):
    return source.start_s <= time_s <= source.end_s


def test_a_moment_found_only_by_its_look_comes_back_in_the_plan(tour, monkeypatch):
    video, db, keyframe_s = tour
    monkeypatch.setattr(keyframes, "question_embedder", lambda folder: LookingFor(folder, video, keyframe_s))
    plan = plan_if_indexed(db, video, "the shot with the moving bar", duration_s=DURATION_S, image_search=True)
    assert plan.kind == "moments" and plan.notice == ""  # found something: no spread-out fallback
    assert _covers(plan.sources[0], keyframe_s) and "looks like" in plan.sources[0].why
    assert plan.sources[0].end_s - plan.sources[0].start_s <= 2 * keyframes.IMAGE_PAD_S + 1e-6
    assert any(_covers(m, keyframe_s) for m in plan.turn.media)  # and it is re-watched


def test_words_and_looks_are_fused(tour, monkeypatch):
    video, db, keyframe_s = tour
    monkeypatch.setattr(keyframes, "question_embedder", lambda folder: LookingFor(folder, video, keyframe_s))
    plan = plan_if_indexed(db, video, "the castle", duration_s=DURATION_S, image_search=True)
    whys = " | ".join(s.why for s in plan.sources)
    assert 'said: "Welcome to the castle"' in whys and "looks like" in whys
    assert any(_covers(s, 6.0) for s in plan.sources) and any(_covers(s, keyframe_s) for s in plan.sources)


def test_the_windows_plan_searches_by_look_only_when_asked(tour, monkeypatch):
    video, db, keyframe_s = tour
    monkeypatch.setattr(keyframes, "question_embedder", lambda folder: pytest.fail("SigLIP loaded in the window"))
    plan = plan_if_indexed(db, video, "the shot with the moving bar", duration_s=DURATION_S)
    assert all("looks like" not in s.why for s in plan.sources)


def test_without_embeddings_or_their_model_the_text_search_answers_alone(tour, monkeypatch, tmp_path):
    video, db, keyframe_s = tour
    with IndexStore(db) as store:
        fingerprint = store._query_one("SELECT fingerprint FROM index_parts LIMIT 1")["fingerprint"]
        state = store.part(fingerprint, "embeddings")
        # the SigLIP folder was deleted since: the question still gets its text moments
        store.set_part(fingerprint, "embeddings", "done", model_id="gone", source=str(tmp_path / "gone"),
                       done_until_s=state.done_until_s)
        plan = plan_whole_video_question(video, "castle", store, duration_s=DURATION_S, fingerprint=fingerprint,
                                         other_rankings=keyframes.image_rankings(store, fingerprint, "castle",
                                                                                 DURATION_S))
    assert [s.why for s in plan.sources] == ['said: "Welcome to the castle"']


def test_vidi_asks_plan_fuses_the_image_moments_too(tour, monkeypatch):
    from core_model.cli.ask_whole_video import whole_video_plan

    video, db, keyframe_s = tour
    monkeypatch.setenv("VIDI_DATA_DIR", str(db.parent))
    monkeypatch.setattr(keyframes, "question_embedder", lambda folder: LookingFor(folder, video, keyframe_s))
    plan = whole_video_plan(str(video), "the shot with the moving bar", DURATION_S, num_frames=8, include_audio=True)
    assert _covers(plan.sources[0], keyframe_s) and "looks like" in plan.sources[0].why
