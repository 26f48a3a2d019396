"""Opening the conversation database: the data folder, the SQLite connection, its settings, the schema.

Several processes may open the same file at the same moment (the GUI and a ``vidi ask``, or two ``vidi ask``): the
switch to WAL is retried while another process holds the new file, and ``migrate`` takes the write lock before it
changes the schema. Every failure is one StoreError line.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from core_model.errors import StoreError
from core_model.store.schema import migrate
from core_model.store.sqlite_errors import store_errors

BUSY_TIMEOUT_MS = 10_000
"""How long a writer waits for another one (another thread or process) before giving up."""


def open_connection(path: Path) -> sqlite3.Connection:
    """A connection to the database at ``path`` (created with its folder if missing), in WAL mode, migrated.

    Autocommit (isolation_level=None: the store opens its own transactions), usable from several threads (the
    store serialises them), rows as sqlite3.Row. Raises StoreError.
    """
    folder = path.parent
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"Vidi's data folder '{folder}' is a file, not a folder.")
    with store_errors(path):
        folder.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                     timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        with store_errors(path):
            connection.row_factory = sqlite3.Row
            _use_wal(connection)
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute("PRAGMA foreign_keys = ON")
            migrate(connection)
    except BaseException:
        connection.close()
        raise
    return connection


def _use_wal(connection: sqlite3.Connection) -> None:
    """Switch to WAL. The switch needs the file to itself and SQLite does not wait for that (no busy handler):
    when another process opens the same new file at this moment, try again for up to BUSY_TIMEOUT_MS."""
    deadline_s = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline_s:
                raise
            time.sleep(0.01)
