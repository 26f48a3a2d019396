"""SigLIP embeddings (core_model.index.embeddings) on a tiny random-weight SiglipModel built here; never the hub."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core_model.errors import ModelLoadError, UsageError
from core_model.index.embeddings import SiglipEmbedder
from core_model.index.vectors import VectorIndex
from core_model.models.catalog import ALL_MODELS, CATALOG, get_entry, preference_order, recommend
from tests.fixtures.tiny_siglip import TINY_SIGLIP_DIM, tiny_siglip_dir  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def embedder(tiny_siglip_dir):  # noqa: F811
    model = SiglipEmbedder(tiny_siglip_dir, device="cpu", batch_size=3)
    model.load()
    return model


def frames(count: int, height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, height, width, 3), dtype=np.uint8)


def test_image_embeddings_are_normalised_float32(embedder):
    vectors = embedder.embed_images(frames(7))
    assert vectors.shape == (7, TINY_SIGLIP_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.dim == TINY_SIGLIP_DIM


def test_batching_does_not_change_the_vectors(embedder, tiny_siglip_dir):  # noqa: F811
    batch = frames(7)
    one_pass = SiglipEmbedder(tiny_siglip_dir, device="cpu", batch_size=64).embed_images(batch)
    assert np.allclose(embedder.embed_images(batch), one_pass, atol=1e-5)  # batches of 3, 3, 1
    # frames of other sizes (a list) are resized by the processor like the rest
    mixed = [batch[0], frames(1, 20, 90, seed=3)[0]]
    assert embedder.embed_images(mixed).shape == (2, TINY_SIGLIP_DIM)


def test_text_embeddings(embedder):
    texts = ["A dog runs on the beach", "the red car", "", "word " * 100]  # empty and over-long texts too
    vectors = embedder.embed_texts(texts)
    assert vectors.shape == (4, TINY_SIGLIP_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # lower-cased before tokenising, and deterministic
    assert np.allclose(embedder.embed_texts(["a dog runs on the beach"])[0], vectors[0], atol=1e-6)
    assert not np.allclose(vectors[0], vectors[1])
    assert embedder.embed_texts([]).shape == (0, TINY_SIGLIP_DIM)


def test_keyframes_through_the_vector_index(embedder, tmp_path):
    """The index path end to end: keyframes embedded, stored, found again by their own embedding."""
    keyframes = frames(40, seed=5)
    vectors = embedder.embed_images(keyframes)
    with VectorIndex.open(tmp_path / "vectors.sqlite", embedder.dim) as index:
        index.add(np.arange(100, 140), vectors)
        again = embedder.embed_images(keyframes[[17]])[0]
        assert index.search(again, 1)[0][0] == 117
        assert len(index.search(embedder.embed_texts(["a dog"])[0], 5)) == 5


def test_bad_frames_are_one_usage_line(embedder):
    with pytest.raises(UsageError, match=r"uint8 \[H, W, 3\]"):
        embedder.embed_images(np.zeros((2, 8, 8, 3), dtype=np.float32))
    with pytest.raises(UsageError, match="batch"):
        embedder.embed_images(frames(1)[0])
    with pytest.raises(UsageError, match="RGB"):
        embedder.embed_images([np.zeros((8, 8), dtype=np.uint8)])
    with pytest.raises(UsageError, match="list of texts"):
        embedder.embed_texts("a dog")


def test_not_a_siglip_folder(tmp_path, tiny_vlm_dir):
    with pytest.raises(ModelLoadError, match="not a SigLIP embedding model"):
        SiglipEmbedder(tiny_vlm_dir, device="cpu").load()
    with pytest.raises(ModelLoadError, match="not downloaded"):
        SiglipEmbedder("siglip2-base-not-there", device="cpu").load()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "siglip"}))
    with pytest.raises(ModelLoadError) as raised:
        SiglipEmbedder(broken, device="cpu").load()
    assert "\n" not in str(raised.value)


def test_catalog_has_a_siglip_to_pull_and_never_suggests_it_for_questions():
    entry = get_entry("siglip2-base", ALL_MODELS)
    assert entry is not None and entry.purpose == "embedding" and entry.backend == "siglip"
    assert entry.repo_id == "google/siglip2-base-patch16-224" and entry.downloadable
    assert entry not in CATALOG  # the answering models

    class Cpu:
        kind, name = "cpu", "CPU"

    # 1.2 GB of RAM: only SigLIP (0.8 GB) would fit, and it answers no question
    choice = recommend(Cpu(), ram_bytes=int(1.2e9), catalog=ALL_MODELS)
    assert choice.entry is None and "No catalog model fits" in choice.reason
    assert entry not in preference_order(Cpu(), ram_bytes=int(1.2e9), catalog=ALL_MODELS)


def test_pulled_by_the_model_manager_and_loaded_by_catalog_id(tmp_path, monkeypatch, tiny_siglip_dir):  # noqa: F811
    """`vidi models pull siglip2-base` (through a stand-in hub serving the tiny folder), then the embedder finds
    the model by its catalog id, as the index does."""
    from core_model.models.manager import ModelManager
    from tests.core_model.models.fakehub import FakeHub

    hub = FakeHub(tmp_path / "fakehub")
    hub.add_repo("google/siglip2-base-patch16-224",
                 {path.name: path.read_bytes() for path in tiny_siglip_dir.iterdir() if path.is_file()})
    monkeypatch.setenv("VIDI_DATA_DIR", str(tmp_path / "data"))
    manager = ModelManager(cache_dir=tmp_path / "hf-cache", downloader=hub, free_space=lambda path: 10**12)
    manager.pull("siglip2-base")
    assert ModelManager(cache_dir=tmp_path / "hf-cache").local_path("siglip2-base") is not None
    vectors = SiglipEmbedder("siglip2-base", device="cpu").embed_texts(["a dog"])
    assert vectors.shape == (1, TINY_SIGLIP_DIM)
