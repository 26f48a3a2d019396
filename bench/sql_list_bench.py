"""Benchmark: narrowing library search to many videos (core_model.store.sql_lists says why it matters).

    .venv/bin/python bench/sql_list_bench.py [--videos 1000 40000] [--lines 5] [--queries 40]

Synthetic rows written straight into a real database (no files): ``--videos`` library videos with ``--lines``
transcript lines each, 8 words drawn from a Zipf vocabulary (as bench/library_bench.py). For each library size:
the FTS5 match of 3 words narrowed to every video's fingerprint, three ways (an IN-list with a parameter per video,
``json_each`` of one JSON parameter, a TEMP table filled per query), then the real ``search()`` with a folder filter
(the path that narrows in SQL). p50/p95 in ms, one thread. The IN-list runs with the limit raised to 250000 host
parameters (Debian's build); SQLite's own default (32766) makes it fail at 40k videos.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core_model.library.library_store import LibraryStore  # noqa: E402
from core_model.library.search import SearchFilters, search  # noqa: E402
from core_model.store.database import utc_now  # noqa: E402
from core_model.store.index_store import IndexStore  # noqa: E402
from core_model.store.sql_lists import as_json, one_of  # noqa: E402

VOCABULARY = 20_000
MATCH = ("SELECT fingerprint, bm25(index_text) AS score FROM index_text WHERE index_text MATCH ?{among}"
         " ORDER BY score LIMIT 200")


def fill(db: Path, root: Path, videos: int, lines: int, rng) -> None:
    words = [f"w{n}x" for n in range(VOCABULARY)]
    with LibraryStore(db) as library, IndexStore(db):
        folder = library.add_folder(root)
        with library._transaction() as sql:  # one transaction: 40k add_file calls would be 40k commits
            sql.executemany("INSERT INTO library_files (folder_id, path, fingerprint, size_bytes, mtime_ns,"
                            " duration_s, state, seen_at) VALUES (?, ?, ?, 1, 1, ?, 'indexed', ?)",
                            [(folder.id, f"{root}/clip{n:06d}.mp4", f"fp{n:06d}", lines * 6.0, utc_now())
                             for n in range(videos)])
            ranks = np.minimum(rng.zipf(1.3, size=(videos, lines, 8)), VOCABULARY) - 1
            sql.executemany("INSERT INTO index_text (text, fingerprint, kind, ref_id, start_s, end_s)"
                            " VALUES (?, ?, 'cue', 0, ?, ?)",
                            [(" ".join(words[r] for r in ranks[n, i]), f"fp{n:06d}", i * 6.0, i * 6.0 + 3.0)
                             for n in range(videos) for i in range(lines)])


def narrowed(db: Path, fingerprints: list[str], queries: list[str], way: str) -> list[float]:
    sql = sqlite3.connect(db)
    sql.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 250_000)
    times_ms = []
    for query in queries:
        start = time.perf_counter()
        if way == "IN-list":
            sql.execute(MATCH.format(among=f" AND fingerprint IN ({','.join('?' * len(fingerprints))})"),
                        (query, *fingerprints)).fetchall()
        elif way == "json_each":
            sql.execute(MATCH.format(among=f" AND {one_of('fingerprint')}"), (query, as_json(fingerprints))).fetchall()
        else:
            sql.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (fingerprint TEXT PRIMARY KEY) WITHOUT ROWID")
            sql.execute("DELETE FROM temp.wanted")
            sql.executemany("INSERT INTO temp.wanted VALUES (?)", ((f,) for f in fingerprints))
            sql.execute(MATCH.format(among=" AND fingerprint IN (SELECT fingerprint FROM temp.wanted)"),
                        (query,)).fetchall()
        times_ms.append((time.perf_counter() - start) * 1000)
    sql.close()
    return times_ms


def row(label: str, videos: int, times_ms: list[float]) -> str:
    times_ms = sorted(times_ms)
    p95 = times_ms[min(len(times_ms) - 1, int(0.95 * len(times_ms)))]
    return f"| {videos} | {label} | {statistics.median(times_ms):.1f} | {p95:.1f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, nargs="+", default=[1000, 40000])
    parser.add_argument("--lines", type=int, default=5, help="transcript lines per video")
    parser.add_argument("--queries", type=int, default=40)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print("| videos | way | p50 ms | p95 ms |")
    print("|---|---|---|---|")
    for videos in args.videos:
        with tempfile.TemporaryDirectory() as tmp:
            db, root = Path(tmp) / "vidi.sqlite3", Path(tmp) / "videos"
            root.mkdir()
            fill(db, root, videos, args.lines, rng)
            fingerprints = [f"fp{n:06d}" for n in range(videos)]
            picks = rng.integers(10, 3000, size=(args.queries, 3))
            queries = [" OR ".join(f'"w{w}x"*' for w in pick) for pick in picks]
            for way in ("IN-list", "json_each", "TEMP table"):
                print(row(way, videos, narrowed(db, fingerprints, queries, way)), flush=True)
            with LibraryStore(db) as library:
                times_ms = []
                for pick in picks:
                    start = time.perf_counter()
                    search(library, " ".join(f"w{w}x" for w in pick), limit=10, filters=SearchFilters(folder=root))
                    times_ms.append((time.perf_counter() - start) * 1000)
            print(row("search() with a folder filter", videos, times_ms), flush=True)


if __name__ == "__main__":
    main()
