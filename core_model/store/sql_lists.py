""""This column is one of these values" for any number of values: one JSON parameter, not one parameter a value.

    rows = db.execute(f"SELECT * FROM keyframe_vectors WHERE {one_of('fingerprint')}", (as_json(fingerprints),))

SQLite caps the host parameters of one statement (SQLITE_MAX_VARIABLE_NUMBER: 999 before SQLite 3.32, 32766 since,
250000 in Debian's build), so ``IN (?, ?, ...)`` with a parameter per video fails for a library of more videos than
that. ``json_each`` reads the list from a single JSON array instead: as fast as the IN-list it replaces, and
several times faster than a TEMP table of the values filled for each query (bench/sql_list_bench.py measures the
three on an FTS5 match narrowed to every video of a 1k and a 40k library).
"""

from __future__ import annotations

import json
from typing import Iterable


def one_of(column: str) -> str:
    """SQL true when ``column`` is one of the values of the statement's next parameter (``as_json(values)``)."""
    return f"{column} IN (SELECT value FROM json_each(?))"


def as_json(values: Iterable[str | int]) -> str:
    """The parameter for ``one_of``: the values as a JSON array (ints as numbers, texts as strings)."""
    return json.dumps([v if isinstance(v, str) else int(v) for v in values])
