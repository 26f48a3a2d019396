"""Reciprocal rank fusion of moments (core_model.index.fusion), and the library's use of it."""

from pathlib import Path

import pytest

from core_model.errors import UsageError
from core_model.index.fusion import fuse_by_rank
from core_model.library.search import LibraryMoment, fuse_moments


def _same(kept, new):
    return kept == new


def _overlap(kept, new):
    return new[0] < kept[1] and kept[0] < new[1]


def test_a_moment_found_by_both_searches_comes_first():
    words = ["speech", "cake", "dance"]          # BM25 over transcript and captions
    looks = ["candles", "cake", "balloons"]      # SigLIP similarity
    fused = fuse_by_rank([words, looks], overlap=_same)
    assert [item for item, _ in fused] == ["cake", "speech", "candles", "dance", "balloons"]
    assert fused[0][1] == pytest.approx(2 / 62)
    assert fused[1][1] == pytest.approx(1 / 61)


def test_k_sets_how_much_the_top_ranks_weigh():
    a, b = ["x", "m"], ["y", "z", "m"]
    assert fuse_by_rank([a, b], overlap=_same, k=60)[0][0] == "m"  # found by both, lower down: wins with the usual k
    assert fuse_by_rank([a, b], overlap=_same, k=0)[0][0] == "x"   # k=0: one first place (1) beats 1/2 + 1/3


def test_overlapping_moments_merge_and_gain_once_per_list():
    words = [(30.0, 60.0)]                              # one long moment
    looks = [(31.0, 35.0), (40.0, 44.0), (50.0, 54.0), (100.0, 104.0)]  # three keyframes inside it, one apart
    merged = fuse_by_rank([words, looks], overlap=_overlap,
                          merge=lambda kept, new: (min(kept[0], new[0]), max(kept[1], new[1])))
    assert merged[0] == ((30.0, 60.0), pytest.approx(1 / 61 + 1 / 61))  # the looks' best rank only, once
    assert [moment for moment, _ in merged] == [(30.0, 60.0), (100.0, 104.0)]


def test_empty_lists_ties_and_bad_k():
    assert fuse_by_rank([], overlap=_same) == []
    assert fuse_by_rank([[], []], overlap=_same) == []
    assert [item for item, _ in fuse_by_rank([["a"], ["b"]], overlap=_same)] == ["a", "b"]  # ties: first seen
    with pytest.raises(UsageError):
        fuse_by_rank([["a"]], overlap=_same, k=-1)


def _moment(start_s, end_s, text="", source="transcript", fingerprint="f1"):
    return LibraryMoment(Path("/v.mp4"), start_s, end_s, 0.0, text, fingerprint, (source,))


def test_the_library_fuses_per_video_and_a_long_moment_does_not_gain_from_each_keyframe():
    said = [_moment(0.0, 30.0, "a long caption", "captions"), _moment(80.0, 90.0, "the line that answers")]
    looks = [_moment(2.0, 12.0, source="image"), _moment(12.0, 22.0, source="image"),
             _moment(20.0, 30.0, source="image"), _moment(82.0, 92.0, source="image"),
             _moment(82.0, 92.0, source="image", fingerprint="f2")]
    fused = fuse_moments([said, looks])
    first, second = fused[0], fused[1]
    assert (first.start_s, first.text, first.sources) == (0.0, "a long caption", ("captions", "image"))
    assert first.score == pytest.approx(1 / 61 + 1 / 61)  # not + 1/62 + 1/63 for the other keyframes inside it
    assert second.text == "the line that answers" and second.score == pytest.approx(1 / 62 + 1 / 64)
    assert fused[2].fingerprint == "f2"  # another video's moment at the same time is its own
