"""Library search past SQLite's limit on host parameters (issue 12, scale): 40,000 videos in a real database.

SQLite caps the parameters of one statement at 32766 by default (999 before 3.32); Debian's build raises it to
250000, so each test sets the connections back to SQLite's own default (``setlimit``) to be the user's machine. The
decoy videos are rows written straight into the database (no files: search reads only the database); the video
searched for is written through the stores' own API."""

import sqlite3
from pathlib import Path

import pytest

from core_model.index import keyframes
from core_model.library.image_search import KeyframeImageSearch
from core_model.library.library_store import LibraryStore
from core_model.library.search import SearchFilters, search
from core_model.store.database import utc_now
from core_model.store.index_records import Cue
from core_model.store.index_store import IndexStore
from tests.core_model.index.test_image_retrieval import LookingFor
from tests.core_model.library.test_search_by_look import library_with_looks  # noqa: F401  (fixture)
from tests.fixtures.tiny_siglip import tiny_siglip_dir  # noqa: F401  (fixture)

DECOYS = 40_000
SQLITE_DEFAULT_MAX_PARAMS = 32_766


def _add_decoys(db: Path, folder: Path, count: int = DECOYS) -> None:
    """``count`` indexed videos under ``folder``, each with a line that shares words with the query."""
    with sqlite3.connect(db) as sql:
        (folder_id,) = sql.execute("SELECT id FROM library_folders WHERE path = ?", (str(folder),)).fetchone()
        sql.executemany("INSERT INTO library_files (folder_id, path, fingerprint, size_bytes, mtime_ns, duration_s,"
                        " state, seen_at) VALUES (?, ?, ?, 1, 1, 60.0, 'indexed', ?)",
                        [(folder_id, str(folder / "decoys" / f"clip{n:05d}.mp4"), f"decoy{n:05d}", utc_now())
                         for n in range(count)])
        sql.executemany("INSERT INTO index_text (text, fingerprint, kind, ref_id, start_s, end_s)"
                        " VALUES (?, ?, 'cue', 0, 30.0, 33.0)",
                        [(f"The dog sleeps in the garden number {n}", f"decoy{n:05d}") for n in range(count)])
    with sqlite3.connect(db) as sql:
        assert sql.execute("SELECT count(*) FROM library_files").fetchone()[0] > DECOYS


def _sqlite_default_limit(*stores) -> None:
    """The stores' connections as SQLite builds them by default (the limit is per connection)."""
    for store in stores:
        store._db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, SQLITE_DEFAULT_MAX_PARAMS)


def test_a_filtered_search_across_40k_videos_finds_the_moment(tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    db = tmp_path / "vidi.sqlite3"
    video = folder / "lake.mp4"
    with LibraryStore(db) as library, IndexStore(db) as index:
        record = library.add_folder(folder)
        library.add_file(record.id, video, "lakefingerprint", 1000, 1)
        file = library.file(video)
        library.update_file(file.id, duration_s=20.0, state="indexed")
        index.add_cues("lakefingerprint", [Cue(2.0, 4.0, "Look at the ducks on the water"),
                                           Cue(15.0, 18.0, "The dog jumps off the wooden pier")],
                       until_s=20.0, done=True, source="sidecar", model_id="lake.srt")
    _add_decoys(db, folder)
    with LibraryStore(db) as library:
        _sqlite_default_limit(library)
        found = search(library, "the dog jumps off the pier", limit=5, filters=SearchFilters(folder=folder))
        decoys_only = search(library, "garden", limit=3, filters=SearchFilters(folder=folder / "decoys"))
    assert found[0].video == video and found[0].start_s <= 15.0 < found[0].end_s
    assert "The dog jumps off the wooden pier" in found[0].text
    assert len(decoys_only) == 3 and all(m.video.parent == folder / "decoys" for m in decoys_only)


def test_search_by_look_across_40k_videos_finds_the_keyframe(library_with_looks, monkeypatch):  # noqa: F811
    video, db, keyframe_s = library_with_looks
    _add_decoys(db, video.parent)
    monkeypatch.setattr(keyframes, "question_embedder", lambda folder: LookingFor(folder, video, keyframe_s))
    with LibraryStore(db) as library, IndexStore(db) as index:
        _sqlite_default_limit(library, index)
        found = search(library, "the shot with the moving bar", image_search=KeyframeImageSearch(index))
    assert found and found[0].video.resolve() == video.resolve()
    assert found[0].start_s <= keyframe_s <= found[0].end_s and "image" in found[0].sources
