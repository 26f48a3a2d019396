"""Benchmark of the library: the scan (first and unchanged) and search across many indexed videos.

    .venv/bin/python bench/library_bench.py [--videos 1000] [--lines 200] [--queries 200]

Synthetic: ``--videos`` files of 64 KB with a video's name in a folder (the scan reads files, it never decodes
them), each given ``--lines`` transcript lines of 8 words drawn from a Zipf-distributed vocabulary of 20k words
(so common words are everywhere and rare ones name a few moments, as in speech). Queries are the 3 rarest words of
one line (what a person names when looking for a moment): "hit@1" is the share whose first result is that line's
video and covers the line's time; "unambiguous" counts only the queries whose three words are together in that one
line (with this vocabulary a line's rarest words are often common ones that other lines hold too).

Columns: files or lines, seconds for the first scan (every file fingerprinted), seconds for a scan with nothing
changed (only stat), p50/p95 search time in ms (one thread), hit@1 (all queries, unambiguous ones).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core_model.library.library_store import LibraryStore  # noqa: E402
from core_model.library.scan import scan_library  # noqa: E402
from core_model.library.search import search  # noqa: E402
from core_model.store.index_records import Cue  # noqa: E402
from core_model.store.index_store import IndexStore  # noqa: E402

VOCABULARY = 20_000
WORDS_PER_LINE = 8
LINE_EVERY_S = 6.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=1000)
    parser.add_argument("--lines", type=int, default=200, help="transcript lines per video")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    words = [f"w{n}x" for n in range(VOCABULARY)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "videos"
        for n in range(args.videos):
            folder = root / f"{n // 100:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"clip{n:05d}.mp4").write_bytes(rng.bytes(64 * 1024))
        db = Path(tmp) / "vidi.sqlite3"
        with LibraryStore(db) as library, IndexStore(db) as index:
            library.add_folder(root)
            start = time.perf_counter()
            scan_library(library)
            first_scan_s = time.perf_counter() - start
            start = time.perf_counter()
            report = scan_library(library)
            again_scan_s = time.perf_counter() - start
            assert report.fingerprinted == 0
            lines: list[tuple[str, str, float]] = []
            for video in library.files():
                ranks = np.minimum(rng.zipf(1.3, size=(args.lines, WORDS_PER_LINE)), VOCABULARY) - 1
                cues = [Cue(i * LINE_EVERY_S, i * LINE_EVERY_S + 3.0, " ".join(words[r] for r in row))
                        for i, row in enumerate(ranks)]
                index.add_cues(video.fingerprint, cues, until_s=args.lines * LINE_EVERY_S, done=True,
                               source="sidecar", model_id="bench.srt")
                library.update_file(video.id, state="indexed", duration_s=args.lines * LINE_EVERY_S)
                picks = rng.integers(0, args.lines, size=2)
                lines += [(video.path, cues[p].text, cues[p].start_s) for p in picks]
            times_ms, hits, unique, unique_hits = [], 0, 0, 0
            for q in rng.choice(len(lines), size=args.queries, replace=False):
                path, text, start_s = lines[q]
                # the line's three rarest words: what a person names when looking for a moment
                query = " ".join(sorted(set(text.split()), key=lambda w: -int(w[1:-1]))[:3])
                start = time.perf_counter()
                results = search(library, query, limit=10)
                times_ms.append((time.perf_counter() - start) * 1000)
                hit = bool(results) and str(results[0].video) == path and \
                    results[0].start_s <= start_s < results[0].end_s
                hits += hit
                with library.reading() as db:  # how many lines hold all three words: 1 = the query is unambiguous
                    (holders,) = db.execute("SELECT count(*) FROM index_text WHERE index_text MATCH ?",
                                            (" AND ".join(f'"{w}"' for w in query.split()),)).fetchone()
                unique += holders == 1
                unique_hits += hit and holders == 1
    times_ms.sort()
    p95 = times_ms[min(len(times_ms) - 1, int(0.95 * len(times_ms)))]
    print("| videos | lines | first scan s | unchanged scan s | search p50 ms | search p95 ms | hit@1 |"
          " hit@1 (unambiguous) |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {args.videos} | {args.videos * args.lines} | {first_scan_s:.2f} | {again_scan_s:.3f} | "
          f"{statistics.median(times_ms):.1f} | {p95:.1f} | {hits / args.queries:.2f} | "
          f"{unique_hits / max(1, unique):.2f} ({unique} queries) |")


if __name__ == "__main__":
    main()
