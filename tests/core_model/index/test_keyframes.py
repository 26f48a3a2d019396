"""Keyframe embeddings in the index: the scenes' keyframes through a tiny random SigLIP into the vector index in the
same SQLite file, found again by their own picture, resumable after a real kill, skipped with what to pull, forgotten
with their part."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import core_model
from core_model.index.embeddings import SiglipEmbedder
from core_model.index.runner import build_index
from core_model.media import sample_frames
from core_model.models.manager import ModelManager
from core_model.store.fingerprint import fingerprint_file
from core_model.store.index_store import IndexStore
from tests.fixtures.tiny_siglip import tiny_siglip_dir  # noqa: F401

REPO_ROOT = Path(core_model.__file__).resolve().parent.parent
KEYFRAMES_S = [5.0, 15.0, 25.0, 35.0, 45.0, 55.0, 65.0]  # the middles of the 10 s shots of long_scene_video


@pytest.fixture
def index(tmp_path):
    with IndexStore(tmp_path / "vidi.sqlite3") as opened:
        yield opened


@pytest.fixture
def no_models(tmp_path):
    return ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "hub")


def test_keyframes_are_embedded_into_the_same_database_and_found_by_their_picture(
        tmp_path, long_scene_video, index, no_models, tiny_siglip_dir):  # noqa: F811
    report = build_index(long_scene_video, parts=["scenes", "embeddings"], store=index, manager=no_models,
                         embed_model=str(tiny_siglip_dir))
    assert report.built == ["scenes", "embeddings"], report.skipped
    state = report.parts["embeddings"]
    assert (state.state, state.model_id, state.source) == ("done", tiny_siglip_dir.name, str(tiny_siglip_dir))
    assert index.keyframe_times(report.fingerprint) == pytest.approx(KEYFRAMES_S, abs=0.3)
    with sqlite3.connect(tmp_path / "vidi.sqlite3") as raw:  # the vectors live in Vidi's own database file
        assert raw.execute("SELECT count(*) FROM vectors_keyframes_32_items").fetchone()[0] == 7
    time_s = index.keyframe_times(report.fingerprint)[4]
    # the frame the scene pass took for this keyframe (the 4-fps sample nearest its time), fresh from the video
    (picture,) = index.keyframe_pictures(report.fingerprint, time_s, time_s)
    frame, _ = sample_frames(long_scene_video, picture.shown_s - 0.05, picture.shown_s + 0.05, 1, max_side_px=256)
    query = SiglipEmbedder(tiny_siglip_dir).embed_images(frame)[0]
    hits = index.search_keyframes(report.fingerprint, query, model_id=state.model_id)
    assert hits[0][0] == time_s and hits[0][1] > 0.95 > hits[1][1]
    assert index.search_keyframes(report.fingerprint, query, model_id="another-model") == []
    index.reset_part(report.fingerprint, "embeddings")  # forgotten with their part: the vectors too
    assert index.keyframe_times(report.fingerprint) == []
    with sqlite3.connect(tmp_path / "vidi.sqlite3") as raw:
        assert raw.execute("SELECT count(*) FROM vectors_keyframes_32_items").fetchone()[0] == 0


def test_without_siglip_embeddings_are_skipped_naming_the_pull(scene_video, index, no_models):
    report = build_index(scene_video, parts=["scenes", "embeddings"], store=index, manager=no_models)
    assert report.built == ["scenes"]
    assert "vidi models pull siglip2-base" in report.skipped["embeddings"]
    assert report.parts["embeddings"].state == "missing"


def test_an_embed_model_that_is_not_here_is_one_line(scene_video, index, no_models):
    from core_model.errors import ModelsError

    build_index(scene_video, parts=["scenes"], store=index, manager=no_models)
    with pytest.raises(ModelsError, match="vidi models pull siglip2-base"):
        build_index(scene_video, parts=["embeddings"], store=index, manager=no_models, embed_model="siglip2-base")


def test_embeddings_resume_after_the_process_is_killed(tmp_path, long_scene_video, no_models,
                                                       tiny_siglip_dir):  # noqa: F811
    db = tmp_path / "vidi.sqlite3"
    with IndexStore(db) as index:
        build_index(long_scene_video, parts=["scenes"], store=index, manager=no_models)
    script = textwrap.dedent(f"""
        import os, signal
        from core_model.index import keyframes
        from core_model.index.runner import build_index
        from core_model.store.index_store import IndexStore

        keyframes.BATCH_KEYFRAMES = 2   # a commit every two scenes
        def progress(p):
            if p.part == "embeddings" and p.position_s >= 40:
                os.kill(os.getpid(), signal.SIGKILL)

        build_index({str(long_scene_video)!r}, parts=["embeddings"], store=IndexStore({str(db)!r}),
                    progress=progress, embed_model={str(tiny_siglip_dir)!r})
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    child = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr
    with IndexStore(db) as index:
        fingerprint = fingerprint_file(long_scene_video)
        state = index.part(fingerprint, "embeddings")
        assert state.state == "partial" and state.done_until_s == pytest.approx(40.0, abs=0.3)
        assert index.keyframe_times(fingerprint) == pytest.approx(KEYFRAMES_S[:4], abs=0.3)
        positions = []
        report = build_index(long_scene_video, parts=["embeddings"], store=index, manager=no_models,
                             embed_model=str(tiny_siglip_dir), progress=positions.append)
        assert report.built == ["embeddings"]
        assert positions[0].position_s == pytest.approx(40.0, abs=0.3)  # went on from there
        assert index.keyframe_times(fingerprint) == pytest.approx(KEYFRAMES_S, abs=0.3)  # nothing lost or twice


def test_a_model_that_cannot_be_loaded_skips_its_parts_and_the_others_are_built(
        tmp_path, scene_video, index, no_models, tiny_siglip_dir, tiny_vlm_dir):  # noqa: F811
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    report = build_index(scene_video, store=index, manager=no_models, chapter_model=str(empty),
                         embed_model=str(tiny_siglip_dir))
    assert report.built == ["transcript", "scenes", "embeddings"]  # a silent video: an empty transcript
    assert report.skipped["captions"] and report.skipped["chapters"] == report.skipped["captions"]
    assert "not-a-model" in report.skipped["captions"]
    assert report.parts["captions"].notice == report.skipped["captions"]  # kept: the window's tooltip says why
    foreign = build_index(scene_video, parts=["embeddings"], store=index, manager=no_models,
                          embed_model=str(tiny_vlm_dir))
    assert foreign.already_done == ["embeddings"]  # done stays done
    index.reset_part(report.fingerprint, "embeddings")
    foreign = build_index(scene_video, parts=["embeddings"], store=index, manager=no_models,
                          embed_model=str(tiny_vlm_dir))
    assert "not a SigLIP embedding model" in foreign.skipped["embeddings"]
