"""What every table family of Vidi's one SQLite file shares (chats, the per-video index, the library): where the file
is, one connection behind a lock, short write transactions, reads, and every sqlite3 error as one StoreError line.

    class ConversationStore(Database): ...        # likewise IndexStore, LibraryStore
    with ConversationStore() as store:            # $VIDI_DATA_DIR/vidi.sqlite3, else the user data folder
        ...

Subclasses write inside ``with self._transaction() as db:`` and read with ``_query_one`` / ``_query_all``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

from core_model.store.connection import open_connection
from core_model.store.sqlite_errors import store_errors

DATA_DIR_ENV = "VIDI_DATA_DIR"
DB_FILENAME = "vidi.sqlite3"


def default_db_path() -> Path:
    """``$VIDI_DATA_DIR/vidi.sqlite3`` if that variable is set, else the platform's user data folder for Vidi."""
    folder = os.environ.get(DATA_DIR_ENV)
    if not folder:
        from platformdirs import user_data_dir

        folder = user_data_dir("vidi", appauthor=False)
    return Path(folder).expanduser() / DB_FILENAME


def utc_now() -> str:
    """Now, as the store writes times: ISO 8601 in UTC with microseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class Database:
    """The database at ``path`` (default: ``default_db_path()``), created and migrated if needed; StoreError when it
    cannot be opened. Usable from several threads: every statement runs under one lock."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self._lock = threading.RLock()
        self._db = open_connection(self.path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on error), under the lock."""
        with self._lock, store_errors(self.path):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise

    def _rollback(self) -> None:
        # SQLite may already have rolled back by itself (e.g. after "disk is full"); the first error is the news
        if self._db.in_transaction:
            try:
                self._db.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def _query_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock, store_errors(self.path):
            return self._db.execute(sql, params).fetchone()

    def _query_all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock, store_errors(self.path):
            return self._db.execute(sql, params).fetchall()
