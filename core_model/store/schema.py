"""The conversation database's schema and its migrations.

The schema version lives in SQLite's ``PRAGMA user_version``. ``MIGRATIONS[i]`` takes a database from version
``i`` to ``i + 1``; ``migrate`` runs the missing ones in one transaction each, so a database is never left half
migrated. To change the schema, append a migration (never edit a released one) and bump nothing else.

Tables (times are ISO 8601 UTC text, e.g. "2026-11-26T12:34:56.789012+00:00"; durations and positions in seconds):
    videos    one row per distinct video content (fingerprint), with the path it was last seen at
    chats     conversations, each about one video (or about images only: video_id NULL)
    segments  segments of a video that were asked about (start_s, end_s), one row per distinct span
    turns     messages: role user|assistant, text, media refs (JSON), the segment asked about, model id,
              status pending|complete|stopped|error, run info (JSON: frames' timestamps, timings, tokens);
              (v2) the process writing a pending answer: owner_host, owner_pid, owner_started (its start time), so
              the next opening can tell an answer whose writer died (interrupted) from one still streaming
    (v3) a video's index: index_parts, transcript_cues, scenes, captions, chapters, index_text (FTS5)
    (v4) keyframe_vectors: what each keyframe embedding is (a video's fingerprint, a time, the model); the vectors
         themselves are in core_model.index.vectors' tables vectors_keyframes_<dim>_*, under the same ids
    (v5) library_folders, library_files: the folders a person keeps videos in, and what was found there
    (v6) chapters.titled: 0 for a chapter grouped but not titled yet (the grouping is saved before the model titles
         each chapter, so a stopped or killed build titles only the rest); rows before v6 were all titled
    (v7) keyframe_pictures: the scenes' keyframe pictures (JPEG, taken during the scene pass, written with their
         scene), keyed by (fingerprint, time_s: the keyframe's time in its scene); shown_s: when the picture was
         shown. Indexes built before v7 have none: the embeddings part then decodes the video
"""

from __future__ import annotations

import sqlite3

from core_model.errors import StoreError

SCHEMA_V1 = """
CREATE TABLE videos (
    id              INTEGER PRIMARY KEY,
    fingerprint     TEXT NOT NULL UNIQUE,
    path            TEXT NOT NULL,
    size_bytes      INTEGER NOT NULL,
    duration_s      REAL,
    added_at        TEXT NOT NULL,
    last_opened_at  TEXT NOT NULL
);
CREATE INDEX videos_path ON videos(path);

CREATE TABLE chats (
    id          INTEGER PRIMARY KEY,
    video_id    INTEGER REFERENCES videos(id) ON DELETE CASCADE,
    title       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX chats_video ON chats(video_id, updated_at);

CREATE TABLE segments (
    id          INTEGER PRIMARY KEY,
    video_id    INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    start_s     REAL NOT NULL,
    end_s       REAL NOT NULL,
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    UNIQUE (video_id, start_s, end_s)
);

CREATE TABLE turns (
    id               INTEGER PRIMARY KEY,
    chat_id          INTEGER NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    role             TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text             TEXT NOT NULL DEFAULT '',
    media_json       TEXT NOT NULL DEFAULT '[]',
    segment_id       INTEGER REFERENCES segments(id) ON DELETE SET NULL,
    segment_start_s  REAL,
    segment_end_s    REAL,
    model_id         TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'complete'
                     CHECK (status IN ('pending', 'complete', 'stopped', 'error')),
    error            TEXT NOT NULL DEFAULT '',
    run_json         TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    completed_at     TEXT
);
CREATE INDEX turns_chat ON turns(chat_id, id);
"""

SCHEMA_V2_OWNER = """
ALTER TABLE turns ADD COLUMN owner_host TEXT NOT NULL DEFAULT '';
ALTER TABLE turns ADD COLUMN owner_pid INTEGER;
ALTER TABLE turns ADD COLUMN owner_started TEXT NOT NULL DEFAULT '';
CREATE INDEX turns_pending ON turns(status) WHERE status = 'pending';
"""

SCHEMA_V3_INDEX = """
CREATE TABLE index_parts (
    fingerprint   TEXT NOT NULL,
    part          TEXT NOT NULL
                  CHECK (part IN ('transcript', 'scenes', 'captions', 'embeddings', 'chapters')),
    state         TEXT NOT NULL DEFAULT 'missing' CHECK (state IN ('done', 'partial', 'missing')),
    model_id      TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    done_until_s  REAL NOT NULL DEFAULT 0,
    notice        TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (fingerprint, part)
);

CREATE TABLE transcript_cues (
    id           INTEGER PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    start_s      REAL NOT NULL,
    end_s        REAL NOT NULL,
    text         TEXT NOT NULL,
    source       TEXT NOT NULL CHECK (source IN ('sidecar', 'embedded', 'asr')),
    language     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX transcript_cues_time ON transcript_cues(fingerprint, start_s);

CREATE TABLE scenes (
    id              INTEGER PRIMARY KEY,
    fingerprint     TEXT NOT NULL,
    start_s         REAL NOT NULL,
    end_s           REAL NOT NULL,
    keyframes_json  TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX scenes_time ON scenes(fingerprint, start_s);

CREATE TABLE captions (
    id           INTEGER PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    start_s      REAL NOT NULL,
    end_s        REAL NOT NULL,
    text         TEXT NOT NULL,
    model_id     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX captions_time ON captions(fingerprint, start_s);

CREATE TABLE chapters (
    id           INTEGER PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    start_s      REAL NOT NULL,
    end_s        REAL NOT NULL,
    title        TEXT NOT NULL DEFAULT '',
    summary      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX chapters_time ON chapters(fingerprint, start_s);

CREATE VIRTUAL TABLE index_text USING fts5(
    text, fingerprint UNINDEXED, kind UNINDEXED, ref_id UNINDEXED, start_s UNINDEXED, end_s UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);
"""

SCHEMA_V4_KEYFRAMES = """
CREATE TABLE keyframe_vectors (
    id           INTEGER PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    time_s       REAL NOT NULL,
    model_id     TEXT NOT NULL DEFAULT '',
    dim          INTEGER NOT NULL
);
CREATE INDEX keyframe_vectors_video ON keyframe_vectors(fingerprint, model_id, time_s);
"""

SCHEMA_V5_LIBRARY = """
CREATE TABLE library_folders (
    id        INTEGER PRIMARY KEY,
    path      TEXT NOT NULL UNIQUE,
    added_at  TEXT NOT NULL
);

CREATE TABLE library_files (
    id           INTEGER PRIMARY KEY,
    folder_id    INTEGER NOT NULL REFERENCES library_folders(id) ON DELETE CASCADE,
    path         TEXT NOT NULL UNIQUE,
    fingerprint  TEXT NOT NULL DEFAULT '',
    size_bytes   INTEGER NOT NULL DEFAULT 0,
    mtime_ns     INTEGER NOT NULL DEFAULT 0,
    duration_s   REAL,
    state        TEXT NOT NULL DEFAULT 'new' CHECK (state IN ('new', 'indexed', 'failed')),
    note         TEXT NOT NULL DEFAULT '',
    seen_at      TEXT NOT NULL
);
CREATE INDEX library_files_fingerprint ON library_files(fingerprint);
CREATE INDEX library_files_state ON library_files(state, id);
"""

SCHEMA_V6_CHAPTER_TITLED = """
ALTER TABLE chapters ADD COLUMN titled INTEGER NOT NULL DEFAULT 1 CHECK (titled IN (0, 1));
"""

SCHEMA_V7_KEYFRAME_PICTURES = """
CREATE TABLE keyframe_pictures (
    fingerprint  TEXT NOT NULL,
    time_s       REAL NOT NULL,
    shown_s      REAL NOT NULL,
    jpeg         BLOB NOT NULL,
    PRIMARY KEY (fingerprint, time_s)
);
"""

MIGRATIONS: tuple[str, ...] = (
    SCHEMA_V1, SCHEMA_V2_OWNER, SCHEMA_V3_INDEX, SCHEMA_V4_KEYFRAMES, SCHEMA_V5_LIBRARY, SCHEMA_V6_CHAPTER_TITLED,
    SCHEMA_V7_KEYFRAME_PICTURES,
)
SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(StoreError):
    """The database was written by a newer Vidi than this one."""


def migrate(connection: sqlite3.Connection) -> int:
    """Bring ``connection``'s database up to SCHEMA_VERSION. Returns the version it was at before.

    ``connection`` must be in autocommit mode (isolation_level=None). When a step is missing, the write lock is
    taken (BEGIN IMMEDIATE) and the version read again under it: two processes opening a new file at once would
    otherwise both act on version 0 and the second would fail creating tables the first just made ("table videos
    already exists"). The one that waited reads the new version and does nothing. All missing steps run in that
    one transaction, so a database is never left half migrated.
    """
    (version,) = connection.execute("PRAGMA user_version").fetchone()
    _check_not_too_new(version)
    if version == SCHEMA_VERSION:
        return version  # nothing to do, and no write lock taken (a read-only file still opens for reading)
    connection.execute("BEGIN IMMEDIATE")
    try:
        (version,) = connection.execute("PRAGMA user_version").fetchone()  # again: another process may have won
        _check_not_too_new(version)
        for target in range(version + 1, SCHEMA_VERSION + 1):
            # statement by statement: executescript() would COMMIT first and give the lock away
            for statement in _statements(MIGRATIONS[target - 1]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {target}")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return version


def _check_not_too_new(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"The conversation database is from a newer Vidi (schema {version}, this one knows {SCHEMA_VERSION})."
        )


def _statements(script: str) -> list[str]:
    """The SQL statements of ``script``, each whole (sqlite3.complete_statement finds where each one ends)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in a migration: {pending.strip()[:60]}")
    return statements
