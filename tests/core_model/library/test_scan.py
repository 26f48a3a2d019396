"""The library's folders and its scan: new, changed, renamed/moved (keeps its chats, shown under the new path),
removed videos; the cheap path reads no file; a removed folder takes its videos out."""

import os
import sqlite3

import pytest

from core_model.errors import UsageError
from core_model.library.library_store import LibraryStore
from core_model.library.scan import scan_library
from core_model.store.conversation_store import ConversationStore
from tests.fixtures.library_media import copy_video


@pytest.fixture
def library(tmp_path):
    with LibraryStore(tmp_path / "vidi.sqlite3") as opened:
        yield opened


def test_folders_are_added_once_listed_and_removed(tmp_path, library):
    (tmp_path / "videos").mkdir()
    first = library.add_folder(tmp_path / "videos")
    again = library.add_folder(str(tmp_path / "videos") + "/")
    assert first.id == again.id and [f.path for f in library.folders()] == [str(tmp_path / "videos")]
    library.remove_folder(tmp_path / "videos")
    assert library.folders() == []


def test_a_bad_folder_is_one_clear_usage_error(tmp_path, library):
    with pytest.raises(UsageError, match="folder not found"):
        library.add_folder(tmp_path / "nowhere")
    (tmp_path / "file.mp4").write_bytes(b"x")
    with pytest.raises(UsageError, match="is not a folder"):
        library.add_folder(tmp_path / "file.mp4")
    with pytest.raises(UsageError, match="is not in the library"):
        library.remove_folder(tmp_path)


def test_the_scan_finds_new_videos_in_subfolders_and_skips_other_files(tmp_path, library, library_videos):
    root = tmp_path / "videos"
    copy_video(library_videos["lake.mp4"], root / "lake.mp4")
    copy_video(library_videos["talk.mp4"], root / "2025" / "Talk.MOV")
    (root / "notes.txt").write_text("not a video")
    (root / ".hidden").mkdir()
    copy_video(library_videos["party.mp4"], root / ".hidden" / "party.mp4")
    library.add_folder(root)
    report = scan_library(library)
    assert sorted(report.new) == sorted([root / "lake.mp4", root / "2025" / "Talk.MOV"])
    assert [f.state for f in library.files()] == ["new", "new"]
    again = scan_library(library)
    assert not again.anything and again.fingerprinted == 0  # unchanged files are not even read


def test_a_renamed_video_keeps_its_row_and_its_chats_under_the_new_path(tmp_path, library, library_videos):
    root = tmp_path / "videos"
    old = copy_video(library_videos["lake.mp4"], root / "lake.mp4")
    library.add_folder(root)
    scan_library(library)
    library.update_file(library.file(old).id, state="indexed")
    with ConversationStore(library.path) as chats:
        video = chats.add_video(old)
        chat = chats.new_chat(video.id, "ducks")
    new = root / "summer" / "lake day.mp4"
    new.parent.mkdir()
    old.rename(new)
    report = scan_library(library)
    assert report.moved == [(old, new)] and not report.new and not report.removed
    moved = library.file(new)
    assert moved is not None and moved.state == "indexed" and library.file(old) is None
    with ConversationStore(library.path) as chats:
        assert chats.get_video(video.id).path == str(new)
        assert [c.id for c in chats.list_chats(video.id)] == [chat.id]


def test_changed_content_is_indexed_again_and_a_deleted_video_is_removed(tmp_path, library, library_videos):
    root = tmp_path / "videos"
    lake = copy_video(library_videos["lake.mp4"], root / "lake.mp4")
    talk = copy_video(library_videos["talk.mp4"], root / "talk.mp4")
    library.add_folder(root)
    scan_library(library)
    for f in library.files():
        library.update_file(f.id, state="indexed")
    os.utime(talk, ns=(1, 1))  # touched, same content: nothing to do
    lake.write_bytes(library_videos["party.mp4"].read_bytes())  # new content at the same path
    report = scan_library(library)
    assert report.changed == [lake] and not report.moved
    assert library.file(lake).state == "new" and library.file(talk).state == "indexed"
    talk.unlink()
    report = scan_library(library)
    assert report.removed == [talk] and library.file(talk) is None


def test_a_removed_folder_takes_its_videos_out_and_a_missing_one_keeps_them(tmp_path, library, library_videos):
    copy_video(library_videos["lake.mp4"], tmp_path / "a" / "lake.mp4")
    copy_video(library_videos["talk.mp4"], tmp_path / "b" / "talk.mp4")
    library.add_folder(tmp_path / "a")
    library.add_folder(tmp_path / "b")
    scan_library(library)
    library.remove_folder(tmp_path / "a")
    assert [f.path for f in library.files()] == [str(tmp_path / "b" / "talk.mp4")]
    (tmp_path / "b").rename(tmp_path / "unplugged")
    report = scan_library(library)
    assert report.missing_folders == [tmp_path / "b"] and len(library.files()) == 1


def test_the_library_tables_arrive_by_migration_on_an_older_database(tmp_path):
    from core_model.store.schema import MIGRATIONS

    path = tmp_path / "vidi.sqlite3"
    with sqlite3.connect(path) as raw:
        for script in MIGRATIONS[:3]:
            raw.executescript(script)
        raw.execute("PRAGMA user_version = 3")
    with LibraryStore(path) as library:
        assert library.folders() == [] and library.files() == []
