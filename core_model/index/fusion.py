"""Reciprocal rank fusion: one ranking from several (full-text BM25, SigLIP similarity, ...).

    fuse_by_rank([7, 3, 9], [3, 5])          # [(3, 0.0325), (7, 0.0164), (5, 0.0161), (9, 0.0159)]

Each list is ranked best first; an item's fused score is the sum over the lists that hold it of 1 / (k + rank),
rank counting from 1 (Cormack, Clarke and Buettcher, SIGIR 2009; k = 60 as there). Only ranks count, so BM25
scores and cosines need no common scale, and an item found by both searches rises above one found by one only.
"""

from __future__ import annotations

from typing import Hashable, Iterable, TypeVar

from core_model.errors import UsageError

Item = TypeVar("Item", bound=Hashable)

RRF_K = 60


def fuse_by_rank(*ranked_lists: Iterable[Item], k: int = RRF_K,
                 weights: Iterable[float] | None = None) -> list[tuple[Item, float]]:
    """(item, fused score) for every item of ``ranked_lists``, best first; ties keep first-seen order.

    An item repeated within one list counts at its best rank there. ``weights`` (one per list, default 1) let a
    caller trust one search more than another.
    """
    if k < 0:
        raise UsageError(f"The rank-fusion constant k must be 0 or more, not {k}.")
    lists = [list(ranked) for ranked in ranked_lists]
    list_weights = [1.0] * len(lists) if weights is None else [float(w) for w in weights]
    if len(list_weights) != len(lists):
        raise UsageError(f"{len(list_weights)} weights were given for {len(lists)} ranked lists.")
    scores: dict[Item, float] = {}
    for ranked, weight in zip(lists, list_weights):
        seen: set = set()
        for rank, item in enumerate(ranked, start=1):
            if item in seen:
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + weight / (k + rank)
    # sorted() is stable and dicts keep insertion order: equal scores stay in the order first seen
    return sorted(scores.items(), key=lambda pair: -pair[1])
