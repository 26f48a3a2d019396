"""LibraryStore: the folders a person added to Vidi's library and the videos found in them, in Vidi's database.

    library = LibraryStore()                          # the conversation database's file ($VIDI_DATA_DIR)
    library.add_folder("~/Videos/holidays")           # FolderRecord(id=1, path='/home/me/Videos/holidays', ...)
    library.files()                                   # [LibraryFile(path=..., fingerprint=..., state='new'), ...]

A video is known by its path (what the scan sees) and its content fingerprint (what its index and its chats are
keyed by, so a renamed or moved file keeps both). The scan (core_model.library.scan) fills ``library_files``; the
queue (core_model.library.queue) marks each file indexed or failed with a note. Every sqlite3 error becomes one
StoreError line.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from core_model.errors import UsageError
from core_model.store.database import Database, utc_now
from core_model.store.sqlite_errors import store_errors

FILE_STATES = ("new", "indexed", "failed")



@dataclass(frozen=True)
class FolderRecord:
    id: int
    path: str
    added_at: str


@dataclass(frozen=True)
class LibraryFile:
    """A video of the library. ``state``: new (to index), indexed, failed (``note`` says why); ``mtime_ns`` and
    ``size_bytes`` are what the scan compares to notice a change cheaply."""

    id: int
    folder_id: int
    path: str
    fingerprint: str
    size_bytes: int
    mtime_ns: int
    duration_s: float | None
    state: str
    note: str


class LibraryUsageError(UsageError):
    """A folder that cannot be added or removed (not a folder, not in the library)."""


class LibraryStore(Database):
    """The library tables of the database at ``path`` (default: the conversation store's file)."""

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__(path)

    # ------------------------------------------------------------------------------------------------------------
    # Folders
    # ------------------------------------------------------------------------------------------------------------

    def add_folder(self, folder: str | Path) -> FolderRecord:
        """Add ``folder`` (made absolute); adding it again is no error. LibraryUsageError when it is no folder."""
        path = Path(folder).expanduser().resolve()
        if not path.exists():
            raise LibraryUsageError(f"folder not found: {path}")
        if not path.is_dir():
            raise LibraryUsageError(f"{path} is not a folder")
        with self._transaction() as db:
            db.execute("INSERT INTO library_folders (path, added_at) VALUES (?, ?) ON CONFLICT (path) DO NOTHING",
                       (str(path), utc_now()))
            row = db.execute("SELECT * FROM library_folders WHERE path = ?", (str(path),)).fetchone()
        return _folder(row)

    def remove_folder(self, folder: str | Path) -> FolderRecord:
        """Take ``folder`` out of the library with the videos found in it (their index and chats stay, keyed by
        content, for when the video is opened or added again). LibraryUsageError when it is not in the library."""
        path = Path(folder).expanduser().resolve()
        with self._transaction() as db:
            row = db.execute("SELECT * FROM library_folders WHERE path = ?", (str(path),)).fetchone()
            if row is None:
                raise LibraryUsageError(f"{path} is not in the library (see 'vidi library list')")
            db.execute("DELETE FROM library_files WHERE folder_id = ?", (row["id"],))
            db.execute("DELETE FROM library_folders WHERE id = ?", (row["id"],))
        return _folder(row)

    def folders(self) -> list[FolderRecord]:
        return [_folder(r) for r in self._query_all("SELECT * FROM library_folders ORDER BY path")]

    # ------------------------------------------------------------------------------------------------------------
    # Files
    # ------------------------------------------------------------------------------------------------------------

    def files(self, folder_id: int | None = None) -> list[LibraryFile]:
        if folder_id is None:
            rows = self._query_all("SELECT * FROM library_files ORDER BY path")
        else:
            rows = self._query_all("SELECT * FROM library_files WHERE folder_id = ? ORDER BY path", (folder_id,))
        return [_file(r) for r in rows]

    def file(self, path: str | Path) -> LibraryFile | None:
        row = self._query_one("SELECT * FROM library_files WHERE path = ?", (str(path),))
        return None if row is None else _file(row)

    def to_index(self) -> list[LibraryFile]:
        """The files still to index, oldest found first (the order the queue takes them in)."""
        return [_file(r) for r in self._query_all("SELECT * FROM library_files WHERE state = 'new' ORDER BY id")]

    def retry_failed(self) -> int:
        """Put the videos that failed back in the queue (a file fixed without its content changing, e.g. its
        permissions, is not noticed by the scan). Returns how many."""
        with self._transaction() as db:
            return db.execute("UPDATE library_files SET state = 'new', note = '' WHERE state = 'failed'").rowcount

    def add_file(self, folder_id: int, path: Path, fingerprint: str, size_bytes: int, mtime_ns: int, *,
                 state: str = "new", note: str = "") -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO library_files (folder_id, path, fingerprint, size_bytes, mtime_ns, state, note, seen_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (folder_id, str(path), fingerprint, size_bytes, mtime_ns, state, note, utc_now()),
            )

    def update_file(self, file_id: int, **values: Any) -> None:
        """Set columns of one file (path, fingerprint, size_bytes, mtime_ns, duration_s, state, note, folder_id)."""
        allowed = {"path", "fingerprint", "size_bytes", "mtime_ns", "duration_s", "state", "note", "folder_id"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"unknown library file columns: {sorted(unknown)}")
        columns = ", ".join(f"{name} = ?" for name in values)
        with self._transaction() as db:
            db.execute(f"UPDATE library_files SET {columns}, seen_at = ? WHERE id = ?",
                       (*values.values(), utc_now(), file_id))

    def move_file(self, file_id: int, folder_id: int, new_path: Path, size_bytes: int, mtime_ns: int) -> None:
        """A known video found at a new path (renamed or moved): the row follows it, and so does the conversation
        store's record of the video, so its chats are shown under the new path too."""
        with self._transaction() as db:
            db.execute("UPDATE library_files SET folder_id = ?, path = ?, size_bytes = ?, mtime_ns = ?, seen_at = ?"
                       " WHERE id = ?", (folder_id, str(new_path), size_bytes, mtime_ns, utc_now(), file_id))
            db.execute("UPDATE videos SET path = ? WHERE fingerprint ="
                       " (SELECT fingerprint FROM library_files WHERE id = ?)", (str(new_path), file_id))

    def remove_file(self, file_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM library_files WHERE id = ?", (file_id,))

    # ------------------------------------------------------------------------------------------------------------
    # Plumbing (the rest is core_model.store.database's)
    # ------------------------------------------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, for the read-only queries of a neighbour module (search), under the lock."""
        with self._lock, store_errors(self.path):
            yield self._db


def _folder(row: sqlite3.Row) -> FolderRecord:
    return FolderRecord(row["id"], row["path"], row["added_at"])


def _file(row: sqlite3.Row) -> LibraryFile:
    return LibraryFile(row["id"], row["folder_id"], row["path"], row["fingerprint"], row["size_bytes"],
                       row["mtime_ns"], row["duration_s"], row["state"], row["note"])
