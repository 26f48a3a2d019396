"""IndexStore: a video's index (transcript, scenes, captions, chapters, the state of each part) in Vidi's database.

    index = IndexStore()                                  # the conversation database's file ($VIDI_DATA_DIR)
    fingerprint = fingerprint_file("wedding.mp4")         # the key: a renamed or moved file keeps its index
    index.add_cues(fingerprint, cues, until_s=30.0, done=False, source="asr", model_id="whisper-base")
    index.part(fingerprint, "transcript")                 # PartState(state="partial", done_until_s=30.0, ...)
    index.search_text(fingerprint, "castle guide")        # BM25 over cue and caption text (FTS5)

Resumption: each write of rows also records, in the same transaction, how far its part got (``done_until_s``) and
whether it is done, so a process killed between two writes leaves an index that is exactly as far as its last
commit says; building again starts there. Every sqlite3 error becomes one StoreError line (sqlite_errors).
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Sequence

from core_model.errors import StoreError
from core_model.store.database import Database, utc_now
from core_model.store.index_records import (
    CUE_SOURCES,
    PART_NAMES,
    PART_STATES,
    Caption,
    Chapter,
    Cue,
    KeyframePicture,
    PartState,
    Scene,
    TextHit,
)
from core_model.store.sql_lists import as_json, one_of
from core_model.store.sqlite_errors import store_errors

_ROWS_OF_PART = {"transcript": "transcript_cues", "scenes": "scenes", "captions": "captions",
                 "chapters": "chapters"}
_TEXT_KIND_OF_PART = {"transcript": "cue", "captions": "caption"}



class IndexStore(Database):
    """The index tables of the database at ``path`` (default: the conversation store's file)."""

    def __init__(self, path: str | Path | None = None) -> None:
        super().__init__(path)
        self._vector_indexes: dict[int, Any] = {}

    # ------------------------------------------------------------------------------------------------------------
    # Parts
    # ------------------------------------------------------------------------------------------------------------

    def part(self, fingerprint: str, part: str) -> PartState:
        _check_part(part)
        row = self._query_one("SELECT * FROM index_parts WHERE fingerprint = ? AND part = ?", (fingerprint, part))
        return _part_from_row(row) if row is not None else PartState(part)

    def parts(self, fingerprint: str) -> dict[str, PartState]:
        """Every part's state, in PART_NAMES order (parts never started are "missing")."""
        rows = self._query_all("SELECT * FROM index_parts WHERE fingerprint = ?", (fingerprint,))
        found = {row["part"]: _part_from_row(row) for row in rows}
        return {name: found.get(name, PartState(name)) for name in PART_NAMES}

    def has_index(self, fingerprint: str) -> bool:
        """True when any part has something built (done or partial)."""
        return any(state.state != "missing" for state in self.parts(fingerprint).values())

    def set_part(self, fingerprint: str, part: str, state: str, *, model_id: str = "", source: str = "",
                 done_until_s: float = 0.0, notice: str = "") -> None:
        with self._transaction() as db:
            _write_part(db, fingerprint, part, state, model_id, source, done_until_s, notice)

    def reset_part(self, fingerprint: str, part: str, notice: str = "") -> None:
        """Forget what was built of ``part`` (its rows and their text-search entries): it becomes missing."""
        _check_part(part)
        with self._transaction() as db:
            if part == "embeddings":
                self._remove_keyframe_vectors(db, fingerprint)
            if part == "scenes":
                db.execute("DELETE FROM keyframe_pictures WHERE fingerprint = ?", (fingerprint,))
            table = _ROWS_OF_PART.get(part)
            if table is not None:
                db.execute(f"DELETE FROM {table} WHERE fingerprint = ?", (fingerprint,))
            kind = _TEXT_KIND_OF_PART.get(part)
            if kind is not None:
                db.execute("DELETE FROM index_text WHERE fingerprint = ? AND kind = ?", (fingerprint, kind))
            _write_part(db, fingerprint, part, "missing", "", "", 0.0, notice)

    # ------------------------------------------------------------------------------------------------------------
    # Rows, each batch committed with its part's progress
    # ------------------------------------------------------------------------------------------------------------

    def add_cues(self, fingerprint: str, cues: Iterable[Cue], *, until_s: float, done: bool, source: str,
                 model_id: str = "") -> None:
        """Append transcript cues; the transcript is then built up to ``until_s`` (``done``: to the end)."""
        if source not in CUE_SOURCES:
            raise StoreError(f"unknown transcript source {source!r}")
        with self._transaction() as db:
            for cue in cues:
                cursor = db.execute(
                    "INSERT INTO transcript_cues (fingerprint, start_s, end_s, text, source, language)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (fingerprint, float(cue.start_s), float(cue.end_s), cue.text, cue.source, cue.language),
                )
                _add_text(db, fingerprint, "cue", cursor.lastrowid, cue.start_s, cue.end_s, cue.text)
            _write_part(db, fingerprint, "transcript", "done" if done else "partial", model_id, source, until_s, "")

    def add_scenes(self, fingerprint: str, scenes: Iterable[Scene], *, until_s: float, done: bool,
                   model_id: str = "", pictures: Iterable[KeyframePicture] = ()) -> None:
        """Append scenes and their keyframes' ``pictures``, in one transaction with how far the part got."""
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO scenes (fingerprint, start_s, end_s, keyframes_json) VALUES (?, ?, ?, ?)",
                [(fingerprint, float(s.start_s), float(s.end_s), json.dumps([round(t, 3) for t in s.keyframes_s]))
                 for s in scenes],
            )
            db.executemany(  # REPLACE: a scene found again after a kill brings the same keyframe times
                "INSERT OR REPLACE INTO keyframe_pictures (fingerprint, time_s, shown_s, jpeg) VALUES (?, ?, ?, ?)",
                [(fingerprint, round(float(p.time_s), 3), float(p.shown_s), sqlite3.Binary(p.jpeg))
                 for p in pictures],
            )
            _write_part(db, fingerprint, "scenes", "done" if done else "partial", model_id, "", until_s, "")

    def add_captions(self, fingerprint: str, captions: Iterable[Caption], *, until_s: float, done: bool,
                     model_id: str = "") -> None:
        with self._transaction() as db:
            for caption in captions:
                cursor = db.execute(
                    "INSERT INTO captions (fingerprint, start_s, end_s, text, model_id) VALUES (?, ?, ?, ?, ?)",
                    (fingerprint, float(caption.start_s), float(caption.end_s), caption.text, caption.model_id),
                )
                _add_text(db, fingerprint, "caption", cursor.lastrowid, caption.start_s, caption.end_s,
                          caption.text)
            _write_part(db, fingerprint, "captions", "done" if done else "partial", model_id, "", until_s, "")

    def replace_chapters(self, fingerprint: str, chapters: Sequence[Chapter], *, model_id: str = "") -> None:
        """The new list replaces the old one, titled, and the part is done."""
        end_s = max((c.end_s for c in chapters), default=0.0)
        with self._transaction() as db:
            db.execute("DELETE FROM chapters WHERE fingerprint = ?", (fingerprint,))
            db.executemany(
                "INSERT INTO chapters (fingerprint, start_s, end_s, title, summary) VALUES (?, ?, ?, ?, ?)",
                [(fingerprint, float(c.start_s), float(c.end_s), c.title, c.summary) for c in chapters],
            )
            _write_part(db, fingerprint, "chapters", "done", model_id, "", end_s, "")

    def plan_chapters(self, fingerprint: str, spans: Sequence[tuple[float, float]], *, model_id: str) -> None:
        """Save the grouping (start_s, end_s) of the chapters, none titled yet, replacing any earlier chapters: the
        part is then partial (done at once when there are no spans), to be completed by ``add_chapter_title``."""
        with self._transaction() as db:
            db.execute("DELETE FROM chapters WHERE fingerprint = ?", (fingerprint,))
            db.executemany(
                "INSERT INTO chapters (fingerprint, start_s, end_s, titled) VALUES (?, ?, ?, 0)",
                [(fingerprint, round(float(a), 3), round(float(b), 3)) for a, b in spans],
            )
            _write_part(db, fingerprint, "chapters", "partial" if spans else "done", model_id, "", 0.0, "")

    def chapter_spans(self, fingerprint: str) -> list[tuple[float, float, bool]]:
        """(start_s, end_s, titled) of every chapter saved, titled or not, in time order."""
        rows = self._query_all(
            "SELECT start_s, end_s, titled FROM chapters WHERE fingerprint = ? ORDER BY start_s, id", (fingerprint,))
        return [(float(r["start_s"]), float(r["end_s"]), bool(r["titled"])) for r in rows]

    def add_chapter_title(self, fingerprint: str, chapter: Chapter, *, done: bool, model_id: str) -> None:
        """Title the planned chapter starting at ``chapter.start_s``, committed with how far the part got (the
        chapter's end; ``done``: every chapter is titled). StoreError when no such chapter was planned."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE chapters SET title = ?, summary = ?, titled = 1"
                " WHERE fingerprint = ? AND abs(start_s - ?) < 1e-6",
                (chapter.title, chapter.summary, fingerprint, float(chapter.start_s)),
            )
            if cursor.rowcount != 1:
                raise StoreError(f"no planned chapter starts at {chapter.start_s:.3f} s")
            _write_part(db, fingerprint, "chapters", "done" if done else "partial", model_id, "", chapter.end_s, "")

    def add_keyframe_vectors(self, fingerprint: str, times_s: Sequence[float], vectors, *, until_s: float,
                             done: bool, model_id: str, source: str = "") -> None:
        """Store the embeddings (float [N, D], L2-normalised) of the keyframes at ``times_s``, together with how far
        the embeddings part got: one transaction, so a kill leaves no vector without its time (nor the reverse)."""
        import numpy as np

        vectors = np.asarray(vectors, dtype=np.float32)
        if len(times_s) != len(vectors) or (len(vectors) and vectors.ndim != 2):
            raise StoreError(f"{len(times_s)} keyframe times for {len(vectors)} vectors")
        with self._transaction() as db:
            ids = [db.execute("INSERT INTO keyframe_vectors (fingerprint, time_s, model_id, dim) VALUES (?, ?, ?, ?)",
                              (fingerprint, float(t), model_id, int(vectors.shape[1]))).lastrowid for t in times_s]
            if ids:
                self._vector_index(int(vectors.shape[1])).add(ids, vectors)  # a savepoint inside this transaction
            _write_part(db, fingerprint, "embeddings", "done" if done else "partial", model_id, source, until_s, "")

    def keyframe_times(self, fingerprint: str) -> list[float]:
        rows = self._query_all("SELECT time_s FROM keyframe_vectors WHERE fingerprint = ? ORDER BY time_s, id",
                               (fingerprint,))
        return [float(r["time_s"]) for r in rows]

    def search_keyframes(self, fingerprint: str, query, *, model_id: str, limit: int = 10) -> list[tuple[float, float]]:
        """(time_s, cosine) of the keyframes of one video embedded by ``model_id`` nearest to ``query`` (a float
        [D] embedding of the same model), best first; [] when it has none."""
        hits = self.search_keyframes_of([fingerprint], query, model_id=model_id, limit=limit)
        return [(time_s, score) for _fingerprint, time_s, score in hits]

    def search_keyframes_of(self, fingerprints: Sequence[str], query, *, model_id: str,
                            limit: int = 10) -> list[tuple[str, float, float]]:
        """(fingerprint, time_s, cosine) of the keyframes of these videos embedded by ``model_id`` nearest to
        ``query``, best first, across all of them (a library search); [] when they have none."""
        import numpy as np

        query = np.asarray(query, dtype=np.float32).reshape(-1)
        rows = self._query_all(f"SELECT id, fingerprint, time_s FROM keyframe_vectors WHERE {one_of('fingerprint')}"
                               " AND model_id = ? AND dim = ?", (as_json(fingerprints), model_id, int(query.size)))
        if not rows:
            return []
        where = {int(r["id"]): (str(r["fingerprint"]), float(r["time_s"])) for r in rows}
        with self._lock, store_errors(self.path):
            hits = self._vector_index(int(query.size)).search(query, k=limit, filter_ids=list(where))
        return [(*where[item_id], float(score)) for item_id, score in hits]

    def embedding_models(self, fingerprints: Sequence[str]) -> dict[str, str]:
        """model id -> its folder (the embeddings part's source, "" when unknown) for the keyframe embeddings of
        these videos."""
        rows = self._query_all(f"SELECT DISTINCT model_id, source FROM index_parts WHERE part = 'embeddings' AND "
                               f"state != 'missing' AND model_id != '' AND {one_of('fingerprint')}",
                               (as_json(fingerprints),))
        return {str(r["model_id"]): str(r["source"] or "") for r in rows}

    def _vector_index(self, dim: int):
        """The vector index of ``dim``-d keyframe embeddings, on this store's own connection (so its writes join
        this store's transactions). One per dimension: vectors of different models never share a space."""
        from core_model.index.vectors import VectorIndex

        with self._lock:
            if dim not in self._vector_indexes:
                self._vector_indexes[dim] = VectorIndex.open(self._db, dim, name=f"keyframes_{dim}")
            return self._vector_indexes[dim]

    def _remove_keyframe_vectors(self, db: sqlite3.Connection, fingerprint: str) -> None:
        rows = db.execute("SELECT id, dim FROM keyframe_vectors WHERE fingerprint = ?", (fingerprint,)).fetchall()
        for dim in {int(r["dim"]) for r in rows}:
            self._vector_index(dim).remove([int(r["id"]) for r in rows if int(r["dim"]) == dim])
        db.execute("DELETE FROM keyframe_vectors WHERE fingerprint = ?", (fingerprint,))

    # ------------------------------------------------------------------------------------------------------------
    # Reads
    # ------------------------------------------------------------------------------------------------------------

    def cues(self, fingerprint: str) -> list[Cue]:
        rows = self._query_all(
            "SELECT * FROM transcript_cues WHERE fingerprint = ? ORDER BY start_s, id", (fingerprint,))
        return [Cue(r["start_s"], r["end_s"], r["text"], r["source"], r["language"]) for r in rows]

    def scenes(self, fingerprint: str) -> list[Scene]:
        rows = self._query_all("SELECT * FROM scenes WHERE fingerprint = ? ORDER BY start_s, id", (fingerprint,))
        return [Scene(r["start_s"], r["end_s"], tuple(json.loads(r["keyframes_json"]))) for r in rows]

    def keyframe_pictures(self, fingerprint: str, start_s: float, end_s: float) -> list[KeyframePicture]:
        """The stored keyframe pictures whose keyframe time is within [start_s, end_s], in time order."""
        rows = self._query_all("SELECT time_s, shown_s, jpeg FROM keyframe_pictures WHERE fingerprint = ?"
                               " AND time_s BETWEEN ? AND ? ORDER BY time_s",
                               (fingerprint, float(start_s) - 1e-3, float(end_s) + 1e-3))
        return [KeyframePicture(float(r["time_s"]), float(r["shown_s"]), bytes(r["jpeg"])) for r in rows]

    def captions(self, fingerprint: str) -> list[Caption]:
        rows = self._query_all("SELECT * FROM captions WHERE fingerprint = ? ORDER BY start_s, id", (fingerprint,))
        return [Caption(r["start_s"], r["end_s"], r["text"], r["model_id"]) for r in rows]

    def chapters(self, fingerprint: str) -> list[Chapter]:
        """The video's chapters once every one is titled; [] while some still wait for their title (a summary or a
        timeline drawn from the first few would leave out the rest of the video)."""
        rows = self._query_all("SELECT * FROM chapters WHERE fingerprint = ? ORDER BY start_s, id", (fingerprint,))
        if any(not r["titled"] for r in rows):
            return []
        return [Chapter(r["start_s"], r["end_s"], r["title"], r["summary"]) for r in rows]

    def search_text(self, fingerprint: str, query: str, limit: int = 10, *, prefix: bool = False) -> list[TextHit]:
        """Cues and captions of one video matching any word of ``query``, best first (FTS5 BM25).

        The query is taken as plain words (FTS5 syntax in it is not interpreted), so any text the user typed is
        a valid search. ``prefix``: each word also matches the words it begins (a stem such as "danc" finds
        "dance" and "dancing").
        """
        match = fts_query(query, prefix=prefix)
        if not match:
            return []
        rows = self._query_all(
            "SELECT kind, start_s, end_s, text, bm25(index_text) AS score FROM index_text"
            " WHERE index_text MATCH ? AND fingerprint = ? ORDER BY score LIMIT ?",
            (match, fingerprint, int(limit)),
        )
        return [TextHit(r["kind"], float(r["start_s"]), float(r["end_s"]), r["text"], rank, float(r["score"]))
                for rank, r in enumerate(rows)]


_WORD = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str, prefix: bool = False) -> str:
    """An FTS5 MATCH expression for plain words: each word quoted (so AND/OR/NEAR/quotes/stars are just words),
    any of them matching; ``prefix``: as the start of a word (``"danc"*``)."""
    words = _WORD.findall(text)
    star = "*" if prefix else ""
    return " OR ".join(f'"{word}"{star}' for word in words)


def _check_part(part: str) -> None:
    if part not in PART_NAMES:
        raise StoreError(f"unknown index part {part!r} (known: {', '.join(PART_NAMES)})")


def _write_part(db: sqlite3.Connection, fingerprint: str, part: str, state: str, model_id: str, source: str,
                done_until_s: float, notice: str) -> None:
    _check_part(part)
    if state not in PART_STATES:
        raise StoreError(f"unknown index part state {state!r}")
    db.execute(
        "INSERT INTO index_parts (fingerprint, part, state, model_id, source, done_until_s, notice, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (fingerprint, part) DO UPDATE SET state = excluded.state, model_id = excluded.model_id,"
        " source = excluded.source, done_until_s = excluded.done_until_s, notice = excluded.notice,"
        " updated_at = excluded.updated_at",
        (fingerprint, part, state, model_id, source, float(done_until_s), notice, utc_now()),
    )


def _add_text(db: sqlite3.Connection, fingerprint: str, kind: str, ref_id: int | None, start_s: float,
              end_s: float, text: str) -> None:
    db.execute(
        "INSERT INTO index_text (text, fingerprint, kind, ref_id, start_s, end_s) VALUES (?, ?, ?, ?, ?, ?)",
        (text, fingerprint, kind, ref_id, float(start_s), float(end_s)),
    )


def _part_from_row(row: sqlite3.Row) -> PartState:
    return PartState(row["part"], row["state"], row["model_id"], row["source"], float(row["done_until_s"]),
                     row["notice"])
