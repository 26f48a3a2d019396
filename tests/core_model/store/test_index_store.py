"""IndexStore: the v3 tables, each batch committed with its part's progress, text search, a v2 file migrated."""

import sqlite3

import pytest

from core_model.errors import StoreError
from core_model.store import ConversationStore
from core_model.store.index_records import Caption, Chapter, Cue, Scene
from core_model.store.index_store import IndexStore, fts_query
from core_model.store.schema import MIGRATIONS, SCHEMA_VERSION

FP = "f" * 64


@pytest.fixture
def index(tmp_path):
    with IndexStore(tmp_path / "vidi.sqlite3") as opened:
        yield opened


def test_a_new_video_has_every_part_missing(index):
    parts = index.parts(FP)
    assert list(parts) == ["transcript", "scenes", "captions", "embeddings", "chapters"]
    assert {p.state for p in parts.values()} == {"missing"} and not index.has_index(FP)


def test_cues_are_committed_with_how_far_the_transcript_got(index):
    index.add_cues(FP, [Cue(1.0, 2.0, "hello", "asr", "en")], until_s=30.0, done=False, source="asr",
                   model_id="whisper-base")
    state = index.part(FP, "transcript")
    assert (state.state, state.done_until_s, state.model_id, state.source) == ("partial", 30.0, "whisper-base", "asr")
    index.add_cues(FP, [Cue(31.0, 33.0, "again", "asr", "en")], until_s=45.0, done=True, source="asr")
    assert index.part(FP, "transcript").done and index.has_index(FP)
    assert [c.text for c in index.cues(FP)] == ["hello", "again"]


def test_text_search_ranks_cues_and_captions_of_that_video_only(index):
    index.add_cues(FP, [Cue(10.0, 12.0, "the guide talks about the castle"), Cue(20.0, 21.0, "lunch time")],
                   until_s=60.0, done=True, source="sidecar")
    index.add_captions(FP, [Caption(40.0, 50.0, "a castle on a hill, castle walls", "gemma")], until_s=60.0,
                       done=True)
    index.add_cues("0" * 64, [Cue(1.0, 2.0, "another castle")], until_s=5.0, done=True, source="sidecar")
    hits = index.search_text(FP, "castle")
    assert [(h.kind, h.start_s) for h in hits] == [("caption", 40.0), ("cue", 10.0)]
    assert [h.rank for h in hits] == [0, 1]
    assert index.search_text(FP, 'castle" OR NEAR( *') != []  # FTS5 syntax in what the user typed is just words
    assert index.search_text(FP, "  ...  ") == []
    assert fts_query('a "b" c*') == '"a" OR "b" OR "c"'
    assert fts_query("cast lun", prefix=True) == '"cast"* OR "lun"*'
    assert [h.start_s for h in index.search_text(FP, "lun", prefix=True)] == [20.0]
    assert index.search_text(FP, "lun") == []


def test_resetting_a_part_forgets_its_rows_and_their_search_entries(index):
    index.add_cues(FP, [Cue(1.0, 2.0, "castle")], until_s=2.0, done=True, source="sidecar")
    index.reset_part(FP, "transcript", notice="asked again")
    assert index.cues(FP) == [] and index.search_text(FP, "castle") == []
    assert (index.part(FP, "transcript").state, index.part(FP, "transcript").notice) == ("missing", "asked again")


def test_scenes_and_chapters_round_trip(index):
    index.add_scenes(FP, [Scene(0.0, 5.0, (2.5,)), Scene(5.0, 50.0, (16.25, 38.75))], until_s=50.0, done=True)
    assert index.scenes(FP)[1] == Scene(5.0, 50.0, (16.25, 38.75))
    index.replace_chapters(FP, [Chapter(0.0, 30.0, "Arrival", "They arrive."), Chapter(30.0, 50.0, "Toast")])
    index.replace_chapters(FP, [Chapter(0.0, 50.0, "All of it")])
    assert index.chapters(FP) == [Chapter(0.0, 50.0, "All of it", "")]
    assert index.part(FP, "chapters").done


def test_chapters_are_planned_first_then_titled_one_by_one_and_shown_once_all_are(index):
    index.plan_chapters(FP, [(0.0, 60.0), (60.0, 120.0), (120.0, 150.5)], model_id="gemma")
    state = index.part(FP, "chapters")
    assert (state.state, state.done_until_s, state.model_id) == ("partial", 0.0, "gemma")
    assert index.chapter_spans(FP) == [(0.0, 60.0, False), (60.0, 120.0, False), (120.0, 150.5, False)]
    index.add_chapter_title(FP, Chapter(0.0, 60.0, "Arrival", "They arrive."), done=False, model_id="gemma")
    state = index.part(FP, "chapters")
    assert (state.state, state.done_until_s) == ("partial", 60.0)
    assert [titled for _, _, titled in index.chapter_spans(FP)] == [True, False, False]
    assert index.chapters(FP) == []  # a half-titled list is never shown: it would leave out the rest of the video
    index.add_chapter_title(FP, Chapter(60.0, 120.0, "Toast"), done=False, model_id="gemma")
    index.add_chapter_title(FP, Chapter(120.0, 150.5, "Cake", "A cake."), done=True, model_id="gemma")
    assert index.part(FP, "chapters").done and index.part(FP, "chapters").done_until_s == 150.5
    assert index.chapters(FP) == [Chapter(0.0, 60.0, "Arrival", "They arrive."), Chapter(60.0, 120.0, "Toast", ""),
                                  Chapter(120.0, 150.5, "Cake", "A cake.")]
    with pytest.raises(StoreError, match="no planned chapter starts at 30.000 s"):
        index.add_chapter_title(FP, Chapter(30.0, 60.0, "Nowhere"), done=False, model_id="gemma")
    index.plan_chapters(FP, [], model_id="gemma")  # nothing to title (an empty video): done at once
    assert index.part(FP, "chapters").done and index.chapter_spans(FP) == []


def test_a_version_5_database_keeps_its_chapters_titled(tmp_path):
    path = tmp_path / "vidi.sqlite3"
    with sqlite3.connect(path) as raw:
        for script in MIGRATIONS[:5]:
            raw.executescript(script)
        raw.execute("PRAGMA user_version = 5")
        raw.execute("INSERT INTO chapters (fingerprint, start_s, end_s, title, summary) VALUES (?, 0, 90, 'Old', '')",
                    (FP,))
    with IndexStore(path) as index:
        assert index.chapters(FP) == [Chapter(0.0, 90.0, "Old", "")]
        assert index.chapter_spans(FP) == [(0.0, 90.0, True)]


def test_unknown_parts_states_and_sources_are_one_line_errors(index):
    with pytest.raises(StoreError, match="unknown index part"):
        index.part(FP, "subtitles")
    with pytest.raises(StoreError, match="unknown index part state"):
        index.set_part(FP, "scenes", "half")
    with pytest.raises(StoreError, match="unknown transcript source"):
        index.add_cues(FP, [], until_s=0.0, done=True, source="guess")


def test_a_version_2_database_gains_the_index_and_keeps_its_chats(tmp_path):
    path = tmp_path / "vidi.sqlite3"
    with sqlite3.connect(path) as raw:
        for script in MIGRATIONS[:2]:
            raw.executescript(script)
        raw.execute("PRAGMA user_version = 2")
        raw.execute("INSERT INTO chats (title, created_at, updated_at) VALUES ('kept', 'now', 'now')")
    with IndexStore(path) as index:
        index.add_cues(FP, [Cue(0.0, 1.0, "hi")], until_s=1.0, done=True, source="sidecar")
    with ConversationStore(path) as store:
        assert store.get_chat(1).title == "kept"
        assert store._query_one("PRAGMA user_version")[0] == SCHEMA_VERSION == 7


def test_a_damaged_database_is_one_store_error(tmp_path):
    path = tmp_path / "vidi.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="damaged"):
        IndexStore(path)
