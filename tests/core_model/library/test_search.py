"""Search across the library: the right video and moment first for a query drawn from one cue, a renamed video
found under its new name, a removed folder's videos gone from the results, filters, image results fused by rank."""

import os
from datetime import date

import pytest

from core_model.errors import UsageError
from core_model.library.library_store import LibraryStore
from core_model.library.queue import index_library
from core_model.library.scan import scan_library
from core_model.library.search import ImageHit, SearchFilters, search
from core_model.models.manager import ModelManager
from core_model.store.fingerprint import fingerprint_file
from core_model.store.index_store import IndexStore
from tests.fixtures.library_media import copy_video


@pytest.fixture
def indexed(tmp_path, library_videos):
    """A library of two folders: home/ (party, lake) and work/ (talk), scanned and indexed."""
    db = tmp_path / "vidi.sqlite3"
    paths = {
        "party": copy_video(library_videos["party.mp4"], tmp_path / "home" / "party.mp4"),
        "lake": copy_video(library_videos["lake.mp4"], tmp_path / "home" / "lake.mp4"),
        "talk": copy_video(library_videos["talk.mp4"], tmp_path / "work" / "talk.mp4"),
    }
    with LibraryStore(db) as library, IndexStore(db) as index:
        library.add_folder(tmp_path / "home")
        library.add_folder(tmp_path / "work")
        scan_library(library)
        report = index_library(library, index,
                               manager=ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "hub"))
        assert len(report.indexed) == 3
        yield library, paths


@pytest.mark.parametrize("query, video, cue_start_s", [
    ("the dog jumps off the pier", "lake", 15.0),
    ("swimming in the lake", "lake", 10.0),
    ("where she explains the budget", "talk", 3.0),
    ("grandma's speech", "party", 100.0),
    ("chocolate cake", "party", 60.0),
    ("questions about trains", "talk", 14.0),
])
def test_the_right_video_and_moment_come_first(indexed, query, video, cue_start_s):
    library, paths = indexed
    best = search(library, query, limit=5)[0]
    assert best.video == paths[video]
    assert best.start_s <= cue_start_s < best.end_s
    assert best.end_s - best.start_s <= 30.0


def test_results_carry_the_matching_words_best_first(indexed):
    library, paths = indexed
    results = search(library, "family", limit=10)
    assert all(r.video == paths["party"] for r in results) and len(results) == 2
    assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)
    assert {r.text for r in results} == {"The family sits down at the long table",
                                         "Grandma gives her speech about the family"}
    assert results[0].to_json().keys() == {"video", "start_s", "end_s", "score", "text"}
    assert len(search(library, "the", limit=1)) <= 1


def test_a_renamed_video_is_found_under_its_new_name(indexed, tmp_path):
    library, paths = indexed
    renamed = tmp_path / "home" / "2025" / "summer at the lake.mp4"
    renamed.parent.mkdir()
    paths["lake"].rename(renamed)
    scan_library(library)
    best = search(library, "dog pier")[0]
    assert best.video == renamed


def test_a_removed_folders_videos_leave_the_results(indexed, tmp_path):
    library, paths = indexed
    assert search(library, "budget")
    library.remove_folder(tmp_path / "work")
    assert search(library, "budget") == []
    assert search(library, "lake")[0].video == paths["lake"]


def test_filters_folder_duration_date_and_speech(indexed, tmp_path):
    library, paths = indexed
    everywhere = {r.video for r in search(library, "the", limit=50)}
    assert everywhere == set(paths.values())
    assert {r.video for r in search(library, "the", 50, SearchFilters(folder=tmp_path / "work"))} == {paths["talk"]}
    assert {r.video for r in search(library, "the", 50, SearchFilters(min_duration_s=60))} == {paths["party"]}
    assert {r.video for r in search(library, "the", 50, SearchFilters(max_duration_s=60))} == {paths["lake"],
                                                                                             paths["talk"]}
    os.utime(paths["talk"], (0, 946_771_200))  # 2000-01-02: the scan sees the new mtime, content unchanged
    scan_library(library)
    old = SearchFilters(modified_to=date(2000, 12, 31))
    assert {r.video for r in search(library, "the", 50, old)} == {paths["talk"]}
    recent = SearchFilters(modified_from=date(2001, 1, 1))
    assert paths["talk"] not in {r.video for r in search(library, "the", 50, recent)}
    assert {r.video for r in search(library, "the", 50, SearchFilters(has_speech=True))} == set(paths.values())
    assert search(library, "the", 50, SearchFilters(has_speech=False)) == []


def test_a_silent_video_without_subtitles_counts_as_without_speech(tmp_path, library_videos):
    db = tmp_path / "vidi.sqlite3"
    silent = tmp_path / "v" / "silent.mp4"
    silent.parent.mkdir()
    silent.write_bytes(library_videos["lake.mp4"].read_bytes())  # no .srt, no audio track
    with LibraryStore(db) as library, IndexStore(db) as index:
        library.add_folder(silent.parent)
        scan_library(library)
        index_library(library, index, manager=ModelManager(data_folder=tmp_path / "d", cache_dir=tmp_path / "h"))
        from core_model.library.search import _videos

        assert list(_videos(library, SearchFilters(has_speech=False))) == [fingerprint_file(silent)]
        assert list(_videos(library, SearchFilters(has_speech=True))) == []


def test_image_results_are_fused_by_rank_with_the_text(indexed):
    library, paths = indexed
    lake, talk = fingerprint_file(paths["lake"]), fingerprint_file(paths["talk"])

    def image_search(query, fingerprints, limit):
        assert lake in fingerprints and limit >= 1
        return [ImageHit(talk, 10.0, 12.0, 0.31), ImageHit(lake, 14.0, 16.0, 0.30)]

    plain = search(library, "water pier", limit=5)
    fused = search(library, "water pier", limit=5, image_search=image_search)
    assert plain[0].video == paths["lake"] and plain[0].start_s <= 15 < plain[0].end_s
    top = fused[0]  # the pier moment is found by words and by the picture: it stays first, with both sources
    assert top.video == paths["lake"] and set(top.sources) == {"transcript", "image"}
    seen_only = [r for r in fused if r.video == paths["talk"]]
    assert seen_only and seen_only[0].sources == ("image",) and seen_only[0].text == ""


def test_an_empty_query_or_a_bad_limit_is_one_clear_error(indexed):
    library, _ = indexed
    with pytest.raises(UsageError, match="empty"):
        search(library, "   ")
    with pytest.raises(UsageError, match="1 or more"):
        search(library, "lake", limit=0)
    assert search(library, "zebra") == []


def test_many_matching_lines_of_videos_outside_the_library_do_not_hide_its_own(indexed):
    library, paths = indexed
    from core_model.store.index_records import Cue

    with IndexStore(library.path) as index:  # a video indexed on its own ('vidi index'), not in the library
        index.add_cues("f" * 64, [Cue(float(n), n + 0.5, "budget budget budget") for n in range(100)],
                       until_s=100.0, done=True, source="sidecar")
    best = search(library, "budget", limit=1)
    assert len(best) == 1 and best[0].video == paths["talk"]
