"""Library search with SigLIP keyframe vectors: the query's text vector is searched among the searched videos'
keyframes only (a real VectorIndex and a tiny random-weight SigLIP), and the hits fuse with the words by rank."""

import numpy as np
import pytest

from core_model.index.vectors import VectorIndex
from core_model.library.image_search import VectorImageSearch
from core_model.library.library_store import LibraryStore
from core_model.library.queue import index_library
from core_model.library.scan import scan_library
from core_model.library.search import search
from core_model.models.manager import ModelManager
from core_model.store.fingerprint import fingerprint_file
from core_model.store.index_store import IndexStore
from tests.fixtures.library_media import copy_video
from tests.fixtures.tiny_siglip import tiny_siglip_dir  # noqa: F401  (fixture)


class _Keyframes:
    """Keyframe ids -> (fingerprint, time_s), as the embeddings part's table would hold them."""

    def __init__(self, rows: dict[int, tuple[str, float]]) -> None:
        self.rows = rows

    def ids_of(self, fingerprints):
        return [i for i, (fingerprint, _) in self.rows.items() if fingerprint in fingerprints]

    def moments(self, ids):
        return {i: self.rows[i] for i in ids if i in self.rows}


def test_keyframe_vectors_of_the_searched_videos_fuse_with_the_words(tmp_path, library_videos,
                                                                     tiny_siglip_dir):  # noqa: F811
    from core_model.index.embeddings import SiglipEmbedder

    db = tmp_path / "vidi.sqlite3"
    lake = copy_video(library_videos["lake.mp4"], tmp_path / "v" / "lake.mp4")
    talk = copy_video(library_videos["talk.mp4"], tmp_path / "v" / "talk.mp4")
    embedder = SiglipEmbedder(tiny_siglip_dir)
    query = "a dog on the pier"
    rng = np.random.default_rng(0)
    other = rng.standard_normal((2, embedder.dim)).astype(np.float32)
    vectors_of = np.concatenate([embedder.embed_texts([query]), other])  # id 1: the picture the words describe
    vectors_of /= np.linalg.norm(vectors_of, axis=1, keepdims=True)
    keyframes = _Keyframes({1: (fingerprint_file(talk), 9.0), 2: (fingerprint_file(lake), 15.0),
                            3: (fingerprint_file(lake), 3.0), 4: ("f" * 64, 1.0)})  # 4: a video not in the library
    with LibraryStore(db) as library, IndexStore(db) as index, VectorIndex.open(tmp_path / "vec.sqlite3",
                                                                                 dim=embedder.dim) as vectors:
        vectors.add([1, 2, 3, 4], np.concatenate([vectors_of, vectors_of[:1]]))
        library.add_folder(tmp_path / "v")
        scan_library(library)
        index_library(library, index, manager=ModelManager(data_folder=tmp_path / "d", cache_dir=tmp_path / "h"))
        image_search = VectorImageSearch(vectors, embedder.embed_texts, keyframes)
        hits = image_search(query, [fingerprint_file(lake), fingerprint_file(talk)], 10)
        assert hits[0].fingerprint == fingerprint_file(talk) and (hits[0].start_s, hits[0].end_s) == (4.0, 14.0)
        assert hits[0].score == pytest.approx(1.0, abs=0.02)
        assert {h.fingerprint for h in hits} == {fingerprint_file(lake), fingerprint_file(talk)}  # not id 4
        results = search(library, query, limit=5, image_search=image_search)
    pier = next(r for r in results if r.video == lake and r.start_s <= 15 < r.end_s)
    assert set(pier.sources) == {"transcript", "image"}  # found by the words and by a keyframe
    assert results[0] == pier
    assert any(r.video == talk and r.sources == ("image",) for r in results)  # found by the picture only
