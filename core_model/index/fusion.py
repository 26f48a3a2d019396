"""Reciprocal rank fusion of moments: one ranking from several (full-text BM25, SigLIP similarity, ...).

    fuse_by_rank([words, looks], overlap=same_happening, merge=joined)    # [(moment, fused score), ...] best first

Each list is ranked best first; an item's fused score is the sum over the lists that found it of 1 / (k + rank),
rank counting from 1 (Cormack, Clarke and Buettcher, SIGIR 2009; k = 60 as there). Only ranks count, so BM25
scores and cosines need no common scale, and a moment found by both searches rises above one found by one only.

Moments are not identical items: the words find "1:36-1:51", the look finds "1:40-1:50". ``overlap(kept, new)``
says when a new hit is the same happening as one already kept; ``merge(kept, new)`` makes the one moment that stands
for both. As in fusion of items, a fused moment gains from each list once, at its best rank there: a long moment
overlapping several hits of one list (a 30-s caption and three keyframes near it) must not outrank the one line
that answers. Used by one video's retrieval (core_model.index.retrieval) and the library's search.
"""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

from core_model.errors import UsageError

T = TypeVar("T")

RRF_K = 60


def fuse_by_rank(rankings: Sequence[Sequence[T]], overlap: Callable[[T, T], bool],
                 merge: Callable[[T, T], T] = lambda kept, _new: kept, k: int = RRF_K) -> list[tuple[T, float]]:
    """(moment, fused score) from ``rankings``, best first; ties keep the order first seen (earlier lists first)."""
    if k < 0:
        raise UsageError(f"The rank-fusion constant k must be 0 or more, not {k}.")
    fused: list[list] = []  # [moment, score, the lists it has gained from]
    for list_index, ranking in enumerate(rankings):
        for rank, moment in enumerate(ranking, start=1):
            gain = 1.0 / (k + rank)
            for entry in fused:
                if overlap(entry[0], moment):
                    if list_index not in entry[2]:  # else: a worse hit of a list it gained from, already covered
                        entry[2].add(list_index)
                        entry[0], entry[1] = merge(entry[0], moment), entry[1] + gain
                    break
            else:
                fused.append([moment, gain, {list_index}])
    fused.sort(key=lambda entry: -entry[1])  # stable
    return [(moment, score) for moment, score, _ in fused]
