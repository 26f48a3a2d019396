"""Answers left "pending" by a process that died become "interrupted" when the store is next opened; answers whose
writer still streams (the GUI while a ``vidi ask`` opens the store) stay pending."""

import signal
import sqlite3
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import core_model
from core_model.store import ConversationStore
from core_model.store.conversation_store import INTERRUPTED_ERROR
from core_model.store.schema import SCHEMA_V1, SCHEMA_VERSION

REPO_ROOT = Path(core_model.__file__).resolve().parents[1]

_WRITER = textwrap.dedent(
    """
    import sys, time
    from core_model.store import ConversationStore

    store = ConversationStore(sys.argv[1])
    chat = store.new_chat(None, "streaming")
    store.add_user_turn(chat.id, "What happens?")
    answer = store.begin_answer(chat.id, "tiny")
    store.append(answer.id, "So far so")
    print(answer.id, flush=True)
    time.sleep(120)  # streaming on, until killed
    """
)


def test_a_live_writers_answer_stays_pending_and_a_killed_ones_becomes_interrupted(tmp_path):
    db_path = tmp_path / "vidi.sqlite3"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(db_path)], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        answer_id = int(writer.stdout.readline())
        with ConversationStore(db_path) as other:  # e.g. `vidi ask` opening the store while the GUI streams
            assert other.interrupted_count == 0
            assert other.get_turn(answer_id).status == "pending"
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
    with ConversationStore(db_path) as reopened:
        assert reopened.interrupted_count == 1
        answer = reopened.get_turn(answer_id)
        assert (answer.status, answer.error, answer.text) == ("error", INTERRUPTED_ERROR, "So far so")
        assert answer.error.startswith("interrupted")
        assert answer.completed_at is not None
    with ConversationStore(db_path) as again:
        assert again.interrupted_count == 0  # marked once


def test_a_reused_pid_does_not_keep_a_dead_writers_answer_pending(tmp_path):
    db_path = tmp_path / "vidi.sqlite3"
    with ConversationStore(db_path) as store:
        chat = store.new_chat(None, "pid reuse")
        ours = store.begin_answer(chat.id, "tiny").id
        reused = store.begin_answer(chat.id, "tiny").id
    with sqlite3.connect(db_path) as raw:  # the same pid, but a process that started at another time
        raw.execute("UPDATE turns SET owner_started = '12.000' WHERE id = ?", (reused,))
    with ConversationStore(db_path) as store:
        assert store.interrupted_count == 1
        assert store.get_turn(ours).status == "pending"  # this very process: alive
        assert store.get_turn(reused).status == "error"


def test_writers_that_cannot_be_checked_count_as_dead_only_when_long_silent(tmp_path):
    db_path = tmp_path / "vidi.sqlite3"
    long_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="microseconds")
    with ConversationStore(db_path) as store:
        chat = store.new_chat(None, "other hosts")
        fresh, silent = store.begin_answer(chat.id, "tiny").id, store.begin_answer(chat.id, "tiny").id
    with sqlite3.connect(db_path) as raw:  # written from another machine sharing the data folder
        raw.execute("UPDATE turns SET owner_host = 'another-host'")
        raw.execute("UPDATE turns SET updated_at = ? WHERE id = ?", (long_ago, silent))
    with ConversationStore(db_path) as store:
        assert [store.get_turn(fresh).status, store.get_turn(silent).status] == ["pending", "error"]


def test_a_version_1_database_is_migrated_and_its_old_pending_answers_closed(tmp_path):
    db_path = tmp_path / "vidi.sqlite3"
    long_ago = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat(timespec="microseconds")
    with sqlite3.connect(db_path) as raw:
        raw.executescript(SCHEMA_V1 + "PRAGMA user_version = 1;")
        raw.execute("INSERT INTO chats (title, created_at, updated_at) VALUES ('old', ?, ?)", (long_ago, long_ago))
        raw.execute(
            "INSERT INTO turns (chat_id, role, text, status, created_at, updated_at)"
            " VALUES (1, 'assistant', 'half', 'pending', ?, ?)", (long_ago, long_ago),
        )
    with ConversationStore(db_path) as store:
        assert store.interrupted_count == 1
        [turn] = store.list_turns(1)
        assert (turn.status, turn.text) == ("error", "half")
        assert store._query_one("PRAGMA user_version")[0] == SCHEMA_VERSION
