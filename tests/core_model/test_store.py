"""ConversationStore: schema, WAL, fingerprints across renames, the turn lifecycle, export."""

import sqlite3

import pytest

from core_model.backends import ImageRef, SegmentRef, Turn
from core_model.store import (
    DATA_DIR_ENV,
    SCHEMA_VERSION,
    ConversationStore,
    StoreError,
    default_db_path,
    fingerprint_file,
)


@pytest.fixture
def store(tmp_path):
    with ConversationStore(tmp_path / "vidi.sqlite3") as opened:
        yield opened


@pytest.fixture
def video_file(tmp_path):
    path = tmp_path / "holiday.mp4"
    path.write_bytes(bytes(range(256)) * 12_000)  # 3 MiB: the fingerprint reads the first and last MiB
    return path


def test_new_database_is_wal_with_the_current_schema(store):
    assert store.journal_mode == "wal"
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"videos", "chats", "segments", "turns"} <= tables


def test_reopening_keeps_data_and_a_newer_schema_is_refused(tmp_path, video_file):
    path = tmp_path / "db.sqlite3"
    with ConversationStore(path) as first:
        chat = first.new_chat(first.add_video(video_file).id, "kept")
    with ConversationStore(path) as second:
        assert second.get_chat(chat.id).title == "kept"
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer Vidi"):
        ConversationStore(path)


def test_data_folder_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    assert default_db_path() == tmp_path / "data" / "vidi.sqlite3"
    with ConversationStore() as opened:
        assert opened.path.is_file()


def test_renamed_and_moved_video_keeps_its_chats(store, video_file, tmp_path):
    video = store.add_video(video_file, duration_s=12.5)
    chat = store.new_chat(video.id, "About the beach")
    moved = tmp_path / "elsewhere" / "renamed.mp4"
    moved.parent.mkdir()
    video_file.rename(moved)
    again = store.add_video(moved)
    assert again.id == video.id and again.fingerprint == video.fingerprint
    assert again.path == str(moved.resolve()) and again.duration_s == 12.5
    assert [c.id for c in store.list_chats(again.id)] == [chat.id]
    assert store.find_video(moved).id == video.id


def test_different_content_is_a_different_video(store, video_file, tmp_path):
    other = tmp_path / "other.mp4"
    data = bytearray(video_file.read_bytes())
    data[-1] ^= 0xFF  # differs only in its last byte
    other.write_bytes(bytes(data))
    assert fingerprint_file(other) != fingerprint_file(video_file)
    assert store.add_video(other).id != store.add_video(video_file).id
    with pytest.raises(StoreError, match="Cannot read the video"):
        store.add_video(tmp_path / "missing.mp4")


def test_answer_lifecycle_pending_to_complete(store, video_file):
    video = store.add_video(video_file)
    chat = store.new_chat(video.id, "Q")
    segment = SegmentRef(str(video_file), 65.0, 80.0, include_audio=False)
    question = store.add_user_turn(chat.id, "What is on the table?", [segment, ImageRef("/tmp/cup.png")])
    answer = store.begin_answer(chat.id, model_id="tiny", segment=segment)
    assert store.get_turn(answer.id).status == "pending" and store.get_turn(answer.id).text == ""
    for piece in ["A cup", " of", " tea."]:
        store.append(answer.id, piece)
    partial = store.get_turn(answer.id)
    assert partial.text == "A cup of tea." and partial.status == "pending" and partial.completed_at is None
    done = store.complete_answer(answer.id, "complete", run={"frame_timestamps_s": [66.0, 70.0], "total_s": 1.5})
    assert done.status == "complete" and done.completed_at and done.run["frame_timestamps_s"] == [66.0, 70.0]

    stored_question = store.get_turn(question.id)
    assert stored_question.media == (segment, ImageRef("/tmp/cup.png"))
    assert (stored_question.segment_start_s, stored_question.segment_end_s) == (65.0, 80.0)
    segments = store.list_segments(video.id)
    assert len(segments) == 1 and stored_question.segment_id == done.segment_id == segments[0].id
    assert [t.role for t in store.list_turns(chat.id)] == ["user", "assistant"]
    assert store.conversation(chat.id) == [
        Turn("user", "What is on the table?", (segment, ImageRef("/tmp/cup.png"))),
        Turn("assistant", "A cup of tea."),
    ]


def test_stopped_error_and_stale_answers(store):
    chat = store.new_chat(None, "images only")
    store.add_user_turn(chat.id, "Hi", [ImageRef("/tmp/a.png")])
    stopped = store.begin_answer(chat.id, "tiny")
    store.append(stopped.id, "Half an")
    assert store.complete_answer(stopped.id, "stopped").text == "Half an"
    failed = store.begin_answer(chat.id, "tiny")
    store.complete_answer(failed.id, "error", error="out of memory")
    left = store.begin_answer(chat.id, "tiny")
    with pytest.raises(ValueError):
        store.complete_answer(left.id, "pending")
    assert store.mark_interrupted() == 0  # its writer (this process) runs: see store/test_interrupted.py
    statuses = [(t.status, t.error) for t in store.list_turns(chat.id)][1:]
    assert statuses == [("stopped", ""), ("error", "out of memory"), ("pending", "")]
    assert [t.text for t in store.conversation(chat.id)] == ["Hi", "Half an"]
    assert store.list_chats(None)[0].id == chat.id


def test_chats_per_video_delete_and_rename(store, video_file):
    video = store.add_video(video_file)
    first = store.new_chat(video.id, "first")
    second = store.new_chat(video.id, "second")
    store.add_user_turn(first.id, "newest activity")
    assert [c.id for c in store.list_chats(video.id)] == [first.id, second.id]  # most recently active first
    store.rename_chat(second.id, "renamed")
    assert store.get_chat(second.id).title == "renamed"
    store.delete_chat(first.id)
    assert [c.id for c in store.list_chats(video.id)] == [second.id]
    assert list(store.iter_all_turns()) == []  # the deleted chat's turns went with it
    with pytest.raises(StoreError):
        store.add_user_turn(first.id, "into a deleted chat")


def test_export_markdown(store, video_file):
    video = store.add_video(video_file)
    chat = store.new_chat(video.id, "Holiday questions")
    store.add_user_turn(chat.id, "Who is waving?", [SegmentRef(str(video_file), 65.0, 80.5), ImageRef("/x/face.png")])
    answer = store.begin_answer(chat.id, "Qwen2.5-VL-7B-Instruct")
    store.append(answer.id, "The woman in red.")
    store.complete_answer(answer.id, "stopped")
    text = store.export_markdown(chat.id)
    assert text.startswith("# Holiday questions\n")
    assert f"Video: `{video.path}`" in text
    assert "## You — segment 1:05–1:20.5, image `face.png`" in text
    assert "## Vidi (Qwen2.5-VL-7B-Instruct, stopped by the user)" in text
    assert "The woman in red." in text


def test_a_second_connection_reads_while_the_first_writes(store):
    chat = store.new_chat(None, "concurrent")
    answer = store.begin_answer(chat.id, "tiny")
    with ConversationStore(store.path) as reader:
        store.append(answer.id, "seen")
        assert reader.get_turn(answer.id).text == "seen"
