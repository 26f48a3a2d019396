"""Every SQLite failure after (or while) the store opens is one StoreError line: a full disk mid-answer, damaged
pages, a data folder that is a file, a read-only database. The store stays usable where the file allows it."""

import os
import shutil
import sqlite3
import subprocess
from contextlib import contextmanager

import pytest

from core_model.errors import StoreError
from core_model.store import DATA_DIR_ENV, ConversationStore

PAGE_SIZE = 4096


def _one_line(exc_info) -> str:
    message = str(exc_info.value)
    assert "\n" not in message and message, message
    assert exc_info.value.kind == "store"
    return message


def test_a_full_disk_mid_answer_is_one_store_error_and_the_store_goes_on(tmp_path):
    with ConversationStore(tmp_path / "vidi.sqlite3") as store:
        chat = store.new_chat(None, "big answer")
        answer = store.begin_answer(chat.id, "tiny")
        (pages,) = store._query_one("PRAGMA page_count")
        store._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from here on
        with pytest.raises(StoreError) as caught:
            for _ in range(100):
                store.append(answer.id, "x" * 2000)
        assert "disk is full" in _one_line(caught)
        assert not store._db.in_transaction  # rolled back: the next call is not stuck in a dead transaction
        kept = store.get_turn(answer.id).text  # reading works on a full disk
        store._db.execute("PRAGMA max_page_count = 1073741823")  # space freed
        store.append(answer.id, "!")
        assert store.complete_answer(answer.id, "complete").text == kept + "!"


def _filled_store(path, turns=300):
    with ConversationStore(path) as store:
        chat = store.new_chat(None, "to be damaged")
        for index in range(turns):
            store.add_user_turn(chat.id, f"question {index} " + "words " * 50)
    return chat.id


def test_damaged_pages_are_one_store_error(tmp_path):
    path = tmp_path / "vidi.sqlite3"
    chat_id = _filled_store(path)
    size = path.stat().st_size
    assert size > 20 * PAGE_SIZE
    with open(path, "r+b") as damaged:  # keep page 1 (the header and schema), write garbage over the rest
        damaged.seek(2 * PAGE_SIZE)
        damaged.write(os.urandom(size - 2 * PAGE_SIZE))
    with pytest.raises(StoreError) as caught:
        with ConversationStore(path) as store:
            store.list_turns(chat_id)
    assert "is damaged" in _one_line(caught) and str(path) in str(caught.value)


def test_a_file_that_is_not_a_database_is_one_store_error(tmp_path):
    path = tmp_path / "vidi.sqlite3"
    path.write_bytes(os.urandom(3 * PAGE_SIZE))
    with pytest.raises(StoreError) as caught:
        ConversationStore(path)
    assert "is damaged" in _one_line(caught)


def test_a_data_folder_that_is_a_file_is_one_store_error(tmp_path, monkeypatch):
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("I am a file")
    monkeypatch.setenv(DATA_DIR_ENV, str(not_a_folder))
    with pytest.raises(StoreError) as caught:
        ConversationStore()
    assert f"'{not_a_folder}' is a file" in _one_line(caught)
    monkeypatch.setenv(DATA_DIR_ENV, str(not_a_folder / "deeper"))
    with pytest.raises(StoreError) as caught:
        ConversationStore()
    _one_line(caught)


@contextmanager
def _read_only(path):
    """Make ``path`` unwritable for this process: chmod for a normal user; root ignores modes, so chattr +i."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        yield
        path.chmod(0o644)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("running as root on a file system without immutable files: cannot make a read-only file")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def test_a_read_only_wal_database_reads_and_its_writes_fail_in_one_line(tmp_path):
    path = tmp_path / "vidi.sqlite3"
    chat_id = _filled_store(path, turns=3)
    with _read_only(path):
        with ConversationStore(path) as store:  # the -wal and -shm files beside it are writable: it reads
            assert len(store.list_turns(chat_id)) == 3
            with pytest.raises(StoreError) as caught:
                store.add_user_turn(chat_id, "one more")
    assert "read-only" in _one_line(caught)


def test_a_read_only_database_in_rollback_mode_is_one_store_error_at_open(tmp_path):
    path = tmp_path / "vidi.sqlite3"
    _filled_store(path, turns=3)
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA journal_mode = DELETE")  # as another tool may leave it: switching to WAL must write
    with _read_only(path):
        with pytest.raises(StoreError) as caught:
            ConversationStore(path)
    assert "read-only" in _one_line(caught)
