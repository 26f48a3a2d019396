"""Reciprocal rank fusion (core_model.index.fusion)."""

import pytest

from core_model.errors import UsageError
from core_model.index.fusion import fuse_by_rank


def test_an_item_found_by_both_searches_comes_first():
    words = ["speech", "cake", "dance"]          # BM25 over transcript and captions
    looks = ["candles", "cake", "balloons"]      # SigLIP similarity
    fused = fuse_by_rank(words, looks)
    assert [item for item, _ in fused] == ["cake", "speech", "candles", "dance", "balloons"]
    assert fused[0][1] == pytest.approx(2 / 62)
    assert fused[1][1] == pytest.approx(1 / 61)


def test_k_sets_how_much_the_top_ranks_weigh():
    a, b = ["x", "m"], ["y", "z", "m"]
    assert fuse_by_rank(a, b, k=60)[0][0] == "m"  # found by both, lower down: wins with the usual k
    assert fuse_by_rank(a, b, k=0)[0][0] == "x"   # k=0: one first place (1) beats 1/2 + 1/3


def test_weights_empty_lists_repeats_and_ties():
    assert fuse_by_rank() == []
    assert fuse_by_rank([], []) == []
    assert fuse_by_rank(["a", "a", "b"]) == [("a", pytest.approx(1 / 61)), ("b", pytest.approx(1 / 63))]
    # equal scores keep the order first seen
    assert [item for item, _ in fuse_by_rank(["a"], ["b"])] == ["a", "b"]
    assert [item for item, _ in fuse_by_rank(["a"], ["b"], weights=[1, 2])] == ["b", "a"]
    # any hashable items: (video fingerprint, start_s) pairs
    assert fuse_by_rank([("f1", 2.0)], [("f1", 2.0)])[0][0] == ("f1", 2.0)


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError):
        fuse_by_rank(["a"], k=-1)
    with pytest.raises(UsageError, match="2 weights were given for 1"):
        fuse_by_rank(["a"], weights=[1, 2])
