"""ConversationStore: videos, chats, segments and turns in one SQLite file (stdlib sqlite3, WAL).

    store = ConversationStore()                          # $VIDI_DATA_DIR/vidi.sqlite3, else the user data folder
    video = store.add_video("/home/me/talk.mp4")         # found again by content after a rename or move
    chat = store.new_chat(video.id, title="The talk")
    store.add_user_turn(chat.id, "What is on the slide?", media=[SegmentRef(video.path, 65.0, 80.0)])
    answer = store.begin_answer(chat.id, model_id="Qwen2.5-VL-7B-Instruct")   # status "pending", written now
    for piece in backend.answer(...):
        store.append(answer.id, piece)                   # each piece is committed: a crash keeps the partial text
    store.complete_answer(answer.id, status="complete", run=asdict(backend.last_run))
    print(store.export_markdown(chat.id))

The CLI and the GUI do not make these calls themselves: core_model.chat_session makes them in the right order.

Durability: WAL journal with synchronous=NORMAL, one short transaction per call. A process killed mid-answer
leaves the question, and the answer turn with status "pending" and the text streamed so far; the file opens fine
afterwards. Opening the store turns such leftovers into "error" turns ("interrupted") once their writer is gone
(``mark_interrupted``: each pending answer records its writer's host, pid and start time).

Errors: every sqlite3 error (a full disk mid-answer, a damaged file, a read-only file, a data folder that is a
file) becomes one ``StoreError`` line, translated in one place (core_model.store.sqlite_errors).

Threads: one connection shared behind a lock, so the GUI thread and its worker thread may both call the store.
Several processes (the GUI and a ``vidi ask``) may use the same file at once: WAL lets readers and one writer work
together, and writers wait up to ``BUSY_TIMEOUT_MS`` for each other.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

from core_model.backends.base import MediaRef, SegmentRef, Turn
from core_model.errors import StoreError  # noqa: F401  (the store's one error type, re-exported)
from core_model.store.fingerprint import fingerprint_file
from core_model.store.records import (
    TURN_STATUSES,
    ChatRecord,
    SegmentRecord,
    TurnRecord,
    TurnStatus,
    VideoRecord,
    chat_from_row,
    media_to_json,
    segment_from_row,
    turn_from_row,
    video_from_row,
)
from core_model.store.connection import BUSY_TIMEOUT_MS  # noqa: F401  (API)
from core_model.store.database import DATA_DIR_ENV, DB_FILENAME, Database, default_db_path, utc_now  # noqa: F401
from core_model.store.owner import ProcessOwner, is_alive, this_process

INTERRUPTED_ERROR = "interrupted: Vidi stopped before the answer ended"
UNKNOWN_OWNER_STALE_S = 600.0
"""A pending answer whose writer cannot be checked counts as interrupted after this long without a write."""


class ConversationStore(Database):
    """The conversation database. ``path``: the SQLite file (default: ``default_db_path()``); created if missing."""

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__(path)
        try:
            self.interrupted_count = self.mark_interrupted()
            """How many answers of processes that died were marked interrupted when this store opened."""
        except BaseException:
            self._db.close()
            raise

    # ------------------------------------------------------------------------------------------------------------
    # Plumbing (the rest is core_model.store.database's: every statement under the lock, sqlite3 errors as StoreError)
    # ------------------------------------------------------------------------------------------------------------

    @property
    def journal_mode(self) -> str:
        return str(self._query_one("PRAGMA journal_mode")[0])

    # ------------------------------------------------------------------------------------------------------------
    # Videos
    # ------------------------------------------------------------------------------------------------------------

    def add_video(self, path: str | Path, duration_s: float | None = None) -> VideoRecord:
        """Register (or find again) the video at ``path`` by its content fingerprint.

        A known fingerprint at a new path (the file was renamed or moved) updates the stored path, so the video
        keeps its chats. Raises StoreError if the file cannot be read.
        """
        path = Path(path).expanduser().resolve()
        try:
            fingerprint = fingerprint_file(path)
            size_bytes = path.stat().st_size
        except OSError as exc:
            raise StoreError(f"Cannot read the video '{path}': {exc.strerror or exc}") from exc
        now = utc_now()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO videos (fingerprint, path, size_bytes, duration_s, added_at, last_opened_at)"
                " VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (fingerprint) DO UPDATE SET path = excluded.path,"
                " last_opened_at = excluded.last_opened_at,"
                " duration_s = COALESCE(excluded.duration_s, videos.duration_s)",
                (fingerprint, str(path), size_bytes, duration_s, now, now),
            )
            row = db.execute("SELECT * FROM videos WHERE fingerprint = ?", (fingerprint,)).fetchone()
        return video_from_row(row)

    def get_video(self, video_id: int) -> VideoRecord:
        row = self._query_one("SELECT * FROM videos WHERE id = ?", (video_id,))
        if row is None:
            raise StoreError(f"No video with id {video_id}.")
        return video_from_row(row)

    def find_video(self, path: str | Path) -> VideoRecord | None:
        """The stored video whose content matches the file at ``path`` (None if unknown or unreadable)."""
        try:
            fingerprint = fingerprint_file(Path(path).expanduser())
        except OSError:
            return None
        row = self._query_one("SELECT * FROM videos WHERE fingerprint = ?", (fingerprint,))
        return None if row is None else video_from_row(row)

    def list_videos(self) -> list[VideoRecord]:
        """All videos, most recently opened first."""
        rows = self._query_all("SELECT * FROM videos ORDER BY last_opened_at DESC, id DESC")
        return [video_from_row(r) for r in rows]

    # ------------------------------------------------------------------------------------------------------------
    # Chats
    # ------------------------------------------------------------------------------------------------------------

    def new_chat(self, video_id: int | None, title: str = "") -> ChatRecord:
        """Start a chat about video ``video_id`` (None: a chat about images only)."""
        now = utc_now()
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT INTO chats (video_id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (video_id, title, now, now),
            )
            row = db.execute("SELECT * FROM chats WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return chat_from_row(row)

    def get_chat(self, chat_id: int) -> ChatRecord:
        row = self._query_one("SELECT * FROM chats WHERE id = ?", (chat_id,))
        if row is None:
            raise StoreError(f"No chat with id {chat_id}.")
        return chat_from_row(row)

    def list_chats(self, video_id: int | None) -> list[ChatRecord]:
        """The chats about ``video_id`` (None: image-only chats), most recently active first."""
        rows = self._query_all(
            "SELECT * FROM chats WHERE video_id IS ? ORDER BY updated_at DESC, id DESC", (video_id,)
        )
        return [chat_from_row(r) for r in rows]

    def rename_chat(self, chat_id: int, title: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE chats SET title = ? WHERE id = ?", (title, chat_id))

    def delete_chat(self, chat_id: int) -> None:
        """Delete a chat and its turns."""
        with self._transaction() as db:
            db.execute("DELETE FROM chats WHERE id = ?", (chat_id,))

    # ------------------------------------------------------------------------------------------------------------
    # Segments
    # ------------------------------------------------------------------------------------------------------------

    def add_segment(self, video_id: int, start_s: float, end_s: float, label: str = "") -> SegmentRecord:
        """The segment [start_s, end_s] of a video, created on first use (same bounds -> same row)."""
        with self._transaction() as db:
            return segment_from_row(self._upsert_segment(db, video_id, start_s, end_s, label))

    def list_segments(self, video_id: int) -> list[SegmentRecord]:
        rows = self._query_all("SELECT * FROM segments WHERE video_id = ? ORDER BY start_s, end_s", (video_id,))
        return [segment_from_row(r) for r in rows]

    @staticmethod
    def _upsert_segment(db: sqlite3.Connection, video_id: int, start_s: float, end_s: float, label: str = ""):
        db.execute(
            "INSERT INTO segments (video_id, start_s, end_s, label, created_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (video_id, start_s, end_s) DO NOTHING",
            (video_id, float(start_s), float(end_s), label, utc_now()),
        )
        return db.execute(
            "SELECT * FROM segments WHERE video_id = ? AND start_s = ? AND end_s = ?",
            (video_id, float(start_s), float(end_s)),
        ).fetchone()

    # ------------------------------------------------------------------------------------------------------------
    # Turns
    # ------------------------------------------------------------------------------------------------------------

    def add_user_turn(self, chat_id: int, text: str, media: Sequence[MediaRef] = ()) -> TurnRecord:
        """Store the user's question with its attachments (complete at once).

        The first segment in ``media`` is recorded as the turn's segment (start/end; a known segment row of the
        chat's video when both bounds are given).
        """
        segment = next((m for m in media if isinstance(m, SegmentRef)), None)
        return self._insert_turn(chat_id, "user", text, media, segment, model_id="", status="complete")

    def begin_answer(self, chat_id: int, model_id: str, segment: SegmentRef | None = None) -> TurnRecord:
        """Write the assistant's turn before the answer streams: empty text, status "pending", this process as its
        writer (see ``mark_interrupted``)."""
        return self._insert_turn(chat_id, "assistant", "", (), segment, model_id=model_id, status="pending")

    def append(self, turn_id: int, text: str) -> None:
        """Add a streamed piece to a pending answer (committed at once)."""
        with self._transaction() as db:
            db.execute(
                "UPDATE turns SET text = text || ?, updated_at = ? WHERE id = ?", (text, utc_now(), turn_id)
            )

    def complete_answer(
        self,
        turn_id: int,
        status: TurnStatus = "complete",
        *,
        text: str | None = None,
        error: str = "",
        run: dict[str, Any] | None = None,
    ) -> TurnRecord:
        """Close an answer: ``status`` complete/stopped/error, optionally the final ``text`` (replacing the streamed
        text), an ``error`` message, and the run's info (e.g. ``dataclasses.asdict(backend.last_run)``)."""
        if status not in TURN_STATUSES or status == "pending":
            raise ValueError(f"an answer is completed as complete, stopped or error, not {status!r}")
        now = utc_now()
        with self._transaction() as db:
            db.execute(
                "UPDATE turns SET status = ?, text = COALESCE(?, text), error = ?, run_json = ?, updated_at = ?,"
                " completed_at = ? WHERE id = ?",
                (status, text, error, json.dumps(run or {}), now, now, turn_id),
            )
            row = db.execute("SELECT * FROM turns WHERE id = ?", (turn_id,)).fetchone()
        if row is None:
            raise StoreError(f"No turn with id {turn_id}.")
        return turn_from_row(row)

    def get_turn(self, turn_id: int) -> TurnRecord:
        row = self._query_one("SELECT * FROM turns WHERE id = ?", (turn_id,))
        if row is None:
            raise StoreError(f"No turn with id {turn_id}.")
        return turn_from_row(row)

    def list_turns(self, chat_id: int) -> list[TurnRecord]:
        """The chat's turns in order."""
        rows = self._query_all("SELECT * FROM turns WHERE chat_id = ? ORDER BY id", (chat_id,))
        return [turn_from_row(r) for r in rows]

    def conversation(self, chat_id: int) -> list[Turn]:
        """The chat as backend Turns (for asking a follow-up): failed and empty answers are left out."""
        turns = []
        for record in self.list_turns(chat_id):
            if record.role == "assistant" and (record.status in ("error", "pending") or not record.text.strip()):
                continue
            turns.append(Turn(role=record.role, text=record.text, media=record.media))
        return turns

    def mark_interrupted(self) -> int:
        """Mark answers left "pending" by a process that died as failed with the error "interrupted".

        A pending answer records its writer (host, pid, start time); one whose writer still runs (the GUI streaming
        while ``vidi ask`` opens the store) is left alone. When liveness cannot be known (an answer from an older
        Vidi, another host, no psutil) an answer untouched for ``UNKNOWN_OWNER_STALE_S`` counts as dead. Runs each
        time a store opens; returns how many answers it marked.
        """
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=UNKNOWN_OWNER_STALE_S)
        cutoff_text = cutoff.isoformat(timespec="microseconds")
        rows = self._query_all(
            "SELECT id, owner_host, owner_pid, owner_started, updated_at FROM turns WHERE status = 'pending'"
        )
        dead = []
        for row in rows:
            alive = is_alive(ProcessOwner(row["owner_host"], row["owner_pid"] or 0, row["owner_started"]))
            if alive is False or (alive is None and row["updated_at"] < cutoff_text):
                dead.append(row["id"])
        if not dead:
            return 0  # no write: a read-only database still opens
        now = utc_now()
        with self._transaction() as db:  # "AND status = 'pending'": its writer may have finished it meanwhile
            db.executemany(
                "UPDATE turns SET status = 'error', error = ?, updated_at = ?, completed_at = ?"
                " WHERE id = ? AND status = 'pending'",
                [(INTERRUPTED_ERROR, now, now, turn_id) for turn_id in dead],
            )
        return len(dead)

    def _insert_turn(
        self,
        chat_id: int,
        role: str,
        text: str,
        media: Sequence[MediaRef],
        segment: SegmentRef | None,
        *,
        model_id: str,
        status: str,
    ) -> TurnRecord:
        now = utc_now()
        owner = this_process() if status == "pending" else ProcessOwner("", 0, "")
        with self._transaction() as db:
            chat = db.execute("SELECT video_id FROM chats WHERE id = ?", (chat_id,)).fetchone()
            if chat is None:
                raise StoreError(f"No chat with id {chat_id}.")
            segment_id = None
            if segment is not None and chat["video_id"] is not None and None not in (segment.start_s, segment.end_s):
                segment_id = self._upsert_segment(db, chat["video_id"], segment.start_s, segment.end_s)["id"]
            cursor = db.execute(
                "INSERT INTO turns (chat_id, role, text, media_json, segment_id, segment_start_s, segment_end_s,"
                " model_id, status, created_at, updated_at, completed_at, owner_host, owner_pid, owner_started)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    chat_id, role, text, media_to_json(media), segment_id,
                    None if segment is None else segment.start_s, None if segment is None else segment.end_s,
                    model_id, status, now, now, now if status != "pending" else None,
                    owner.host, owner.pid or None, owner.started,
                ),
            )
            db.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
            row = db.execute("SELECT * FROM turns WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return turn_from_row(row)

    # ------------------------------------------------------------------------------------------------------------
    # Export
    # ------------------------------------------------------------------------------------------------------------

    def export_markdown(self, chat_id: int) -> str:
        """The chat as Markdown: a title, the video, then each turn with its segment, images and status."""
        from core_model.store.markdown import chat_to_markdown

        chat = self.get_chat(chat_id)
        video = self.get_video(chat.video_id) if chat.video_id is not None else None
        return chat_to_markdown(chat, video, self.list_turns(chat_id))

    def iter_all_turns(self) -> Iterator[TurnRecord]:
        """Every turn in the store, oldest first (for tools and tests)."""
        yield from (turn_from_row(r) for r in self._query_all("SELECT * FROM turns ORDER BY id"))
