"""Image similarity for library search: a query's SigLIP text vector against the keyframes' vectors.

    image_search = KeyframeImageSearch(IndexStore())     # the keyframe vectors the index's embeddings part stored
    search(library, "a dog jumping into a lake", image_search=image_search)    # fused with the words by rank

``vectors`` is the embedded VectorIndex (core_model.index.vectors) the index's embeddings part writes, whose ids are
keyframes; ``keyframes`` maps between those ids and moments: which ids belong to the searched videos, and the
video and time range of each id (the embeddings part keeps both in its tables). Kept apart so search itself needs
neither torch nor a model: without embeddings, search is words only.
"""

from __future__ import annotations

from typing import Callable, Protocol, Sequence

import numpy as np

from core_model.library.search import ImageHit

MOMENT_HALF_S = 5.0
"""A keyframe stands for the seconds around it: a hit is the keyframe's time +- this, clipped at 0."""


class KeyframeMap(Protocol):
    def ids_of(self, fingerprints: Sequence[str]) -> list[int]:
        """The vector ids of the keyframes of these videos."""

    def moments(self, ids: Sequence[int]) -> dict[int, tuple[str, float]]:
        """id -> (video fingerprint, keyframe time in seconds), for the ids known."""


class VectorImageSearch:
    """An ``ImageSearch`` for core_model.library.search over a VectorIndex of keyframe vectors."""

    def __init__(self, vectors, embed_texts: Callable[[Sequence[str]], np.ndarray], keyframes: KeyframeMap) -> None:
        self.vectors = vectors
        self.embed_texts = embed_texts
        self.keyframes = keyframes

    def __call__(self, query: str, fingerprints: Sequence[str], limit: int) -> list[ImageHit]:
        ids = self.keyframes.ids_of(fingerprints)
        if not ids:
            return []
        text_vector = np.asarray(self.embed_texts([query]), dtype=np.float32)[0]
        found = self.vectors.search(text_vector, k=limit, filter_ids=ids)
        where = self.keyframes.moments([vector_id for vector_id, _ in found])
        hits = []
        for vector_id, score in found:
            if vector_id in where:
                fingerprint, time_s = where[vector_id]
                hits.append(ImageHit(fingerprint, max(0.0, time_s - MOMENT_HALF_S), time_s + MOMENT_HALF_S, score))
        return hits


class KeyframeImageSearch:
    """An ``ImageSearch`` over the keyframe embeddings the index's embeddings part stored (core_model.store's
    IndexStore): the question embedded by each SigLIP the searched videos were embedded with, searched across their
    keyframes. Videos without embeddings, or whose model is no longer on this machine, are searched by words only."""

    def __init__(self, index_store, manager=None, embed_texts=None) -> None:
        self.index_store = index_store
        self.manager = manager
        self.embed_texts = embed_texts
        """A core_model.index.embeddings.TextEmbedding; None: in this process (embed_texts_here)."""

    def __call__(self, query: str, fingerprints: Sequence[str], limit: int) -> list[ImageHit]:
        from pathlib import Path

        from core_model.errors import VidiError
        from core_model.index.keyframes import embed_texts_here, find_embedding_model

        hits: list[ImageHit] = []
        for model_id, source in self.index_store.embedding_models(fingerprints).items():
            folder = Path(source) if source and Path(source).is_dir() else None
            try:
                if folder is None:
                    found = find_embedding_model(model_id, self.manager)
                    folder = found.folder if found is not None else None
                if folder is None:
                    continue
                text_vector = (self.embed_texts or embed_texts_here)(folder, [query])[0]
            except VidiError:
                continue  # a model gone or failing: the words still answer
            for fingerprint, time_s, score in self.index_store.search_keyframes_of(
                    fingerprints, text_vector, model_id=model_id, limit=limit):
                hits.append(ImageHit(fingerprint, max(0.0, time_s - MOMENT_HALF_S), time_s + MOMENT_HALF_S, score))
        return sorted(hits, key=lambda hit: -hit.score)[:limit]
