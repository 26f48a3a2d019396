"""SQLite's errors as the one-line StoreError the user sees.

Every statement the store runs passes through ``store_errors(path)`` (the store's transaction and query helpers
use it), so a full disk in the middle of an answer, a damaged file, a read-only file or a data folder that is a
file all reach the CLI and the GUI as one line that names the file and says what to do, never a traceback.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from core_model.errors import StoreError, first_line


def describe_sqlite_error(exc: sqlite3.Error, path: Path) -> str:
    """One line for ``exc`` raised on the database at ``path``."""
    text = str(exc).lower()
    if "full" in text:  # "database or disk is full" (also when max_page_count is reached)
        return f"The disk is full: the chat could not be saved to '{path}'. Free some space and try again."
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return (
            f"The conversation database '{path}' is damaged ({first_line(exc)}). "
            "Move it aside and Vidi starts a new one."
        )
    if "readonly" in text or "read-only" in text:
        return f"The conversation database '{path}' is read-only: check the file's and its folder's permissions."
    if "locked" in text or "busy" in text:
        return f"The conversation database '{path}' is busy: another program keeps it locked."
    if "unable to open" in text:
        return f"The conversation database '{path}' cannot be opened: check that its folder exists and is writable."
    return f"The conversation database '{path}' failed: {first_line(exc)}"


@contextmanager
def store_errors(path: Path) -> Iterator[None]:
    """Turn sqlite3 errors (and OS errors on the database's folder) inside the block into StoreError."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(describe_sqlite_error(exc, path)) from exc
    except OSError as exc:
        raise StoreError(f"The conversation database '{path}' cannot be used: {exc.strerror or exc}") from exc
