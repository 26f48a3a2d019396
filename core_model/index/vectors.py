"""The embedded vector index: moments' embeddings in SQLite, searched by a 1-bit scan and an int8 re-scoring.

    index = VectorIndex.open(data_dir / "vectors.sqlite", dim=768)      # or an open sqlite3.Connection
    index.add([101, 102], vectors)             # float [2, 768], L2-normalised; ids are the caller's moment ids
    index.search(query, k=10)                  # [(102, 0.31), (101, 0.12)]: best first, cosine similarity
    index.search(query, k=10, filter_ids=ids_of_one_video)
    index.remove([101])

Ids are integers the caller maps to moments (a video's fingerprint and a time range). Adding an id again replaces
its vector.

Storage (docs/vector-index.md says why this and not sqlite-vec or an HNSW file): two tables per index in an
ordinary SQLite database, written by Python's own ``sqlite3`` (which cannot load extensions such as sqlite-vec):
``vectors_<name>_items(id, code, q8, scale)`` holds each vector's 1-bit code and int8 row, and
``vectors_<name>_meta`` the dimension, the random rotation applied to every vector and the centre the codes are
taken around (core_model.index.quantize says why). About 1 KB a 768-d vector on disk (a 96-byte code, a 768-byte
int8 row, its scale, SQLite's overhead). Every ``add``/``remove`` is one transaction, so a process killed in the
middle leaves the index as it was before that call.

Search: the 1-bit codes of all vectors are held in RAM (96 bytes each) and scanned by Hamming distance; the
``shortlist`` nearest (1000 by default) are read back from SQLite as int8 rows and re-scored by dot product with the float query.
Another process's writes are noticed (``PRAGMA data_version`` and a generation counter) and the codes reloaded.
numpy and the standard library only.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from core_model.errors import StoreError, UsageError, first_line
from core_model.index import quantize
from core_model.store.sql_lists import as_json, one_of

DEFAULT_NAME = "keyframes"
DEFAULT_SHORTLIST = 1000
"""Vectors re-scored in int8 per search: recall@10 >= 0.99 up to a million vectors (docs/vector-index.md)."""
CENTRE_SAMPLE = 1000
"""The centre of the 1-bit codes is the mean of the first this many vectors (re-made as they come, then fixed)."""
BUSY_TIMEOUT_S = 10.0
_FORMAT_VERSION = 1
_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


class VectorIndex:
    """One named set of same-sized vectors in a SQLite database. Not thread-safe: one thread at a time."""

    def __init__(self, connection: sqlite3.Connection, dim: int, name: str, *, owns_connection: bool,
                 label: str) -> None:
        self._db = connection
        self.dim = dim
        self.name = name
        self._owns_connection = owns_connection
        self._label = label
        self._items = f"vectors_{name}_items"
        self._meta = f"vectors_{name}_meta"
        self._rotation = np.eye(dim, dtype=np.float32)
        self._ids = np.empty(0, dtype=np.int64)
        self._codes = np.empty((quantize.code_words(dim), 0), dtype=np.uint64)  # word-major [W, N] (quantize.hamming)
        self._generation = -1
        self._data_version = -1

    # ---- opening -------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, target: str | Path | sqlite3.Connection, dim: int, name: str = DEFAULT_NAME) -> "VectorIndex":
        """The index ``name`` in the database file ``target`` (created when missing) or on an open connection.

        ``dim``: the vectors' dimension; opening an existing index with another one raises StoreError (the vectors
        come from another embedding model: build a new index under another ``name``).
        """
        if not isinstance(dim, int) or dim <= 0:
            raise UsageError(f"A vector index needs a positive dimension, not {dim!r}.")
        if not _NAME_PATTERN.match(name):
            raise UsageError(f"A vector index name is lower-case letters, digits and '_', not {name!r}.")
        if isinstance(target, sqlite3.Connection):
            index = cls(target, dim, name, owns_connection=False, label="the vector index")
        else:
            path = Path(target)
            with _errors(f"'{path}'"):
                path.parent.mkdir(parents=True, exist_ok=True)
                connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S,
                                             check_same_thread=False)  # one thread at a time, any thread
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = NORMAL")
            index = cls(connection, dim, name, owns_connection=True, label=f"'{path}'")
        try:
            index._create_or_check()
            index._reload()
        except BaseException:
            index.close()
            raise
        return index

    def _create_or_check(self) -> None:
        with self._transaction():
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {self._meta} (key TEXT PRIMARY KEY, value) WITHOUT ROWID")
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {self._items} (id INTEGER PRIMARY KEY, code BLOB NOT NULL,"
                             " q8 BLOB NOT NULL, scale REAL NOT NULL)")
            meta = self._read_meta()
            if not meta:  # the rotation is stored, not re-derived: another machine's LAPACK could differ
                self._write_meta({"format": _FORMAT_VERSION, "dim": self.dim, "generation": 0,
                                  "rotation": quantize.random_rotation(self.dim).tobytes()})
            elif meta.get("dim") != self.dim:
                raise StoreError(f"The vector index '{self.name}' in {self._label} holds {meta.get('dim')}-d vectors, "
                                 f"not {self.dim}-d: they come from another embedding model.")
            elif meta.get("format") != _FORMAT_VERSION:
                raise StoreError(f"The vector index '{self.name}' in {self._label} was written by another version of "
                                 "Vidi; index the videos again.")

    # ---- writing -------------------------------------------------------------------------------------------

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Store ``vectors`` float [N, dim] under ``ids`` (N distinct integers), replacing vectors already there.

        Vectors should be L2-normalised (core_model.index.embeddings makes them so): scores are then cosines.
        All or nothing: a failure or a kill leaves the index as it was.
        """
        ids_array = _as_ids(ids)
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (len(ids_array), self.dim):
            raise UsageError(f"Expected {len(ids_array)} vectors of {self.dim} numbers, got an array of shape "
                             f"{tuple(vectors.shape)}.")
        if len(np.unique(ids_array)) != len(ids_array):
            raise UsageError("The same id appears twice in one add.")
        if not np.isfinite(vectors).all():
            raise UsageError("A vector holds NaN or infinity; it cannot be indexed.")
        if not len(ids_array):
            return
        with self._transaction():
            meta = self._read_meta()
            rotated = quantize.rotate(vectors, self._rotation)
            count_before = self._db.execute(f"SELECT count(*) FROM {self._items}").fetchone()[0]
            recentred = count_before < CENTRE_SAMPLE
            if recentred:
                centre = self._recentre(rotated, ids_array)
            else:
                centre = np.frombuffer(meta["centre"], dtype=np.float32)
            codes = quantize.binary_codes(rotated, centre)
            rows, scales = quantize.int8_rows(rotated)
            self._db.executemany(
                f"INSERT OR REPLACE INTO {self._items} (id, code, q8, scale) VALUES (?, ?, ?, ?)",
                zip(ids_array.tolist(), (c.tobytes() for c in codes), (r.tobytes() for r in rows), scales.tolist()),
            )
            in_step = self._bump_generation(meta)
        if recentred or not in_step:  # codes re-made, or another process wrote since they were read
            self._reload()
            return
        keep = ~np.isin(self._ids, ids_array)
        self._ids = np.concatenate([self._ids[keep], ids_array])
        self._codes = np.concatenate([self._codes[:, keep], codes.T], axis=1)

    def _recentre(self, rotated: np.ndarray, ids: np.ndarray) -> np.ndarray:
        """While the index is small, the centre of the codes is the mean of everything in it: compute it again
        with ``rotated`` (the vectors being added under ``ids``) and re-code the vectors already stored.

        From CENTRE_SAMPLE vectors on it stays fixed, so one odd first video does not set it for a library."""
        old_ids, old_rows, old_scales = [], [], []
        for row_id, q8, scale in self._db.execute(f"SELECT id, q8, scale FROM {self._items}"):
            old_ids.append(row_id)
            old_rows.append(np.frombuffer(q8, dtype=np.int8))
            old_scales.append(scale)
        replaced = set(ids.tolist())
        kept = [i for i, row_id in enumerate(old_ids) if row_id not in replaced]
        old = (np.stack([old_rows[i] for i in kept]).astype(np.float32) * np.asarray(old_scales)[kept, None]
               if kept else np.zeros((0, self.dim), dtype=np.float32))
        centre = np.concatenate([old, rotated]).mean(axis=0).astype(np.float32)
        self._db.execute(f"INSERT OR REPLACE INTO {self._meta} VALUES ('centre', ?)", (centre.tobytes(),))
        if kept:
            old_codes = quantize.binary_codes(old, centre)
            self._db.executemany(f"UPDATE {self._items} SET code = ? WHERE id = ?",
                                 ((old_codes[n].tobytes(), old_ids[i]) for n, i in enumerate(kept)))
        return centre

    def remove(self, ids: Iterable[int]) -> int:
        """Delete the vectors of ``ids`` (unknown ids are ignored); returns how many were there."""
        ids_array = _as_ids(list(ids))
        if not len(ids_array):
            return 0
        with self._transaction():
            meta = self._read_meta()
            removed = self._db.execute(f"DELETE FROM {self._items} WHERE {one_of('id')}",
                                       (as_json(ids_array.tolist()),)).rowcount
            in_step = self._bump_generation(meta)
        if not in_step:
            self._reload()
        else:
            keep = ~np.isin(self._ids, ids_array)
            self._ids, self._codes = self._ids[keep], self._codes[:, keep]
        return removed

    # ---- reading -------------------------------------------------------------------------------------------

    def __len__(self) -> int:
        self._refresh()
        return len(self._ids)

    def ids(self) -> np.ndarray:
        """Every id in the index (int64, in no particular order)."""
        self._refresh()
        return self._ids.copy()

    def search(self, query: np.ndarray, k: int = 10, filter_ids: Iterable[int] | None = None,
               shortlist: int = DEFAULT_SHORTLIST) -> list[tuple[int, float]]:
        """The ``k`` vectors most similar to ``query`` float [dim], as (id, score) best first.

        ``filter_ids``: only these ids are considered (one video, a folder's videos). ``shortlist``: how many of
        the 1-bit scan's nearest are re-scored in int8 (more: slower, closer to exact).
        """
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if query.shape != (self.dim,):
            raise UsageError(f"The query has {query.size} numbers; this index holds {self.dim}-d vectors.")
        if not np.isfinite(query).all():
            raise UsageError("The query holds NaN or infinity.")
        if k <= 0:
            return []
        self._refresh()
        query = quantize.rotate(query, self._rotation)  # dot products are unchanged by the rotation
        candidate_ids, codes = self._ids, self._codes
        if filter_ids is not None:
            inside = np.isin(candidate_ids, _as_ids(list(filter_ids)))
            candidate_ids, codes = candidate_ids[inside], codes[:, inside]
        count = max(shortlist, k)
        if len(candidate_ids) > count:  # 1-bit scan; a small set is re-scored whole
            near = quantize.smallest(quantize.hamming(codes, quantize.query_code(query)), count)
            candidate_ids = candidate_ids[near]
        if not len(candidate_ids):
            return []
        found_ids, rows, scales = self._read_rows(candidate_ids)
        scores = quantize.int8_scores(query, rows, scales)
        best = np.argsort(-scores, kind="stable")[:k]
        return [(int(found_ids[i]), float(scores[i])) for i in best]

    def _read_rows(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(ids, int8 rows [N, dim], scales [N]) read from SQLite for ``ids``."""
        found, blobs, scales = [], [], []
        with _errors(self._label):
            for row_id, q8, scale in self._db.execute(
                    f"SELECT id, q8, scale FROM {self._items} WHERE {one_of('id')}", (as_json(ids.tolist()),)):
                found.append(row_id)
                blobs.append(q8)
                scales.append(scale)
        rows = np.frombuffer(b"".join(blobs), dtype=np.int8).reshape(len(found), self.dim)
        return np.asarray(found, dtype=np.int64), rows, np.asarray(scales, dtype=np.float32)

    # ---- keeping the codes in RAM in step with the database -----------------------------------------------

    def _refresh(self) -> None:
        """Reload the codes when another connection changed this index since they were read."""
        with _errors(self._label):
            data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
            if data_version == self._data_version:
                return
            self._data_version = data_version
            generation = self._read_meta().get("generation")
        if generation != self._generation:
            self._reload()

    def _reload(self) -> None:
        with self._transaction(write=False):  # one snapshot: the codes and the generation they belong to
            meta = self._read_meta()
            id_list, code_blobs = [], []
            for row_id, code in self._db.execute(f"SELECT id, code FROM {self._items}"):
                id_list.append(row_id)
                code_blobs.append(code)
            self._data_version = self._db.execute("PRAGMA data_version").fetchone()[0]
        self._rotation = np.frombuffer(meta["rotation"], dtype=np.float32).reshape(self.dim, self.dim).copy()
        self._generation = meta.get("generation", 0)
        self._ids = np.asarray(id_list, dtype=np.int64)
        words = quantize.code_words(self.dim)
        self._codes = np.frombuffer(b"".join(code_blobs), dtype=np.uint64).reshape(len(id_list), words).T.copy()

    def _read_meta(self) -> dict:
        return dict(self._db.execute(f"SELECT key, value FROM {self._meta}").fetchall())

    def _write_meta(self, values: dict) -> None:
        self._db.executemany(f"INSERT OR REPLACE INTO {self._meta} VALUES (?, ?)", values.items())

    def _bump_generation(self, meta: dict) -> bool:
        """Count one more change (inside the write transaction); True when the codes in RAM were up to date."""
        in_step = meta.get("generation") == self._generation
        self._db.execute(f"UPDATE {self._meta} SET value = value + 1 WHERE key = 'generation'")
        self._generation = meta.get("generation", 0) + 1
        self._data_version = -1  # our own commit does not change data_version; the generation says it was us
        return in_step

    @contextmanager
    def _transaction(self, write: bool = True) -> Iterator[None]:
        """One transaction (BEGIN IMMEDIATE for writes: the write lock first, so two writers queue, not deadlock);
        a savepoint inside the caller's transaction when the connection given to ``open`` is in one."""
        with _errors(self._label):
            nested = self._db.in_transaction
            self._db.execute("SAVEPOINT vector_index" if nested else ("BEGIN IMMEDIATE" if write else "BEGIN"))
            try:
                yield
            except BaseException:
                if nested:
                    self._db.execute("ROLLBACK TO vector_index")
                    self._db.execute("RELEASE vector_index")
                else:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("RELEASE vector_index" if nested else "COMMIT")
            if nested:  # the caller may still roll back: read the codes again next time rather than trust RAM
                self._generation = -1
                self._data_version = -1

    def close(self) -> None:
        if self._owns_connection:
            self._db.close()

    def __enter__(self) -> "VectorIndex":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _as_ids(ids) -> np.ndarray:
    array = np.asarray(ids)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise UsageError("Vector ids are integers.")
    return array.astype(np.int64).reshape(-1)


@contextmanager
def _errors(label: str) -> Iterator[None]:
    """SQLite and file-system errors as one StoreError line that names the file."""
    try:
        yield
    except sqlite3.Error as exc:
        text = str(exc).lower()
        if "full" in text:
            message = f"The disk is full: the vector index {label} could not be written. Free some space."
        elif "malformed" in text or "not a database" in text:
            message = f"The vector index {label} is damaged ({first_line(exc)}): move it aside and index again."
        else:
            message = f"The vector index {label} failed: {first_line(exc)}"
        raise StoreError(message) from exc
    except OSError as exc:
        raise StoreError(f"The vector index {label} cannot be used: {exc.strerror or exc}") from exc
