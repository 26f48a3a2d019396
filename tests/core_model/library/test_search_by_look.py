"""Library search by look: the keyframe embeddings the index stored (IndexStore, the same database as the library)
searched across the library's videos and fused with the words (``vidi search`` does this).

As in tests/core_model/index/test_image_retrieval.py, the tiny SigLIP has random weights, so the question's text
vector is set to one keyframe's picture (``LookingFor``); decoding, the image tower, the vector index in SQLite, the
library's videos and the fusion are the real code path."""

import shutil
from pathlib import Path

import pytest

from core_model.index import keyframes
from core_model.index.runner import build_index
from core_model.library.image_search import KeyframeImageSearch
from core_model.library.library_store import LibraryStore
from core_model.library.scan import scan_library
from core_model.library.search import search
from core_model.models.manager import ModelManager
from core_model.store.index_store import IndexStore
from tests.core_model.index.test_image_retrieval import SRT, LookingFor
from tests.fixtures.tiny_siglip import tiny_siglip_dir  # noqa: F401


@pytest.fixture
def library_with_looks(tmp_path, long_scene_video, tiny_siglip_dir):  # noqa: F811
    folder = tmp_path / "films"
    folder.mkdir()
    video = folder / "tour.mp4"
    shutil.copy(long_scene_video, video)
    (folder / "tour.srt").write_text(SRT)
    db = tmp_path / "data" / "vidi.sqlite3"
    with IndexStore(db) as store:
        report = build_index(video, parts=["transcript", "scenes", "embeddings"], store=store,
                             manager=ModelManager(data_folder=tmp_path / "m", cache_dir=tmp_path / "hub"),
                             embed_model=str(tiny_siglip_dir))
        keyframe_s = store.keyframe_times(report.fingerprint)[4]  # the shot 40-50 s
    with LibraryStore(db) as library:
        library.add_folder(folder)
        scan_library(library)
    return video, db, keyframe_s


def test_a_moment_found_only_by_its_look_comes_first_across_the_library(library_with_looks, monkeypatch):
    video, db, keyframe_s = library_with_looks
    monkeypatch.setattr(keyframes, "question_embedder", lambda folder: LookingFor(folder, video, keyframe_s))
    with LibraryStore(db) as library, IndexStore(db) as index:
        words_only = search(library, "the shot with the moving bar")
        both = search(library, "the shot with the moving bar", image_search=KeyframeImageSearch(index))
    assert not any(r.start_s <= keyframe_s <= r.end_s for r in words_only)  # nothing said there matches
    assert both and Path(both[0].video).resolve() == video.resolve()
    assert both[0].start_s <= keyframe_s <= both[0].end_s


def test_without_embeddings_the_words_answer_alone(tmp_path, long_scene_video):
    folder = tmp_path / "films"
    folder.mkdir()
    shutil.copy(long_scene_video, folder / "tour.mp4")
    (folder / "tour.srt").write_text(SRT)
    db = tmp_path / "vidi.sqlite3"
    with IndexStore(db) as store:
        build_index(folder / "tour.mp4", parts=["transcript"], store=store)
    with LibraryStore(db) as library, IndexStore(db) as index:
        library.add_folder(folder)
        scan_library(library)
        results = search(library, "castle", image_search=KeyframeImageSearch(index))
    assert results and "castle" in results[0].text.lower()
