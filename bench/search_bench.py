"""Benchmark of library search at 10k, 100k and 1M moments: the vector index, its rivals, and full-text search.

    .venv/bin/python bench/search_bench.py [--sizes 10000 100000 1000000] [--queries 200] [--engines vidi ...]

sqlite-vec, apsw and usearch are not Vidi's dependencies: for their rows install them aside, e.g.
``pip install --target /tmp/bench-pkgs apsw sqlite-vec usearch`` and run with ``PYTHONPATH=/tmp/bench-pkgs``.
The 1M case needs about 3 GB of disk in the temp folder (``--tmp``) and 2 GB of RAM, and takes about 5 minutes here.

Synthetic but shaped like a library's SigLIP keyframe embeddings (768-d, L2-normalised): every vector shares a
common "image" direction (SigLIP's embeddings are far from centred), the dimensions have a decaying spectrum
(variance ~ 1/sqrt(rank), not isotropic), moments come in videos of 250 and scenes of 10 near-duplicate keyframes.
Queries are "text" embeddings: another common direction (the modality gap), a scene's direction, and noise.
Vectors are generated in chunks of 10k from seeded generators, so 1M never sits in RAM as float32 (3 GB); the exact
float top-10 of every query is kept chunk by chunk and is what recall@10 is measured against.

Engines (each skipped with a note when its package is missing):
- ``vidi``: core_model.index.vectors (1-bit codes in RAM + int8 rows in SQLite, re-scored), at shortlists 250 and
  1000 (``--shortlists``);
- ``sqlite-vec``: the sqlite-vec extension through apsw: the same rotated 1-bit codes in a ``vec0`` ``bit[768]``
  table (its brute-force KNN in C) + the same int8 re-scoring from a plain table;
- ``usearch``: an HNSW graph file (usearch; connectivity 16, expansion 128 to build and 256 to search) of float16
  vectors (its int8 maps [-1, 1] to [-127, 127] without scaling each vector, which leaves a 768-d unit vector's
  ~0.04 components a handful of levels: recall@10 0.88 at 10k), built only up to ``--usearch-max`` vectors (its
  build is the slow part on two cores);
- ``exact``: float32 numpy matrix product over everything (only where the floats fit: up to 100k).
And ``fts5``: SQLite FTS5 with BM25 over one synthetic 12-word caption per moment (Zipf-distributed words),
2-word queries, top 50 — the other half of hybrid search.

Columns: build time (s), size on disk (MB), open time (s: reading the index back, what a new process pays),
p50/p95 query time (ms, wall clock, one thread of a shared machine), recall@10 against exact float search.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core_model.index import quantize  # noqa: E402
from core_model.index.vectors import VectorIndex  # noqa: E402

DIM = 768
CHUNK = 10_000
VIDEO_MOMENTS = 250
SCENE_MOMENTS = 10
K = 10


# ---- synthetic data ------------------------------------------------------------------------------------------

class Synthetic:
    """Deterministic SigLIP-like vectors (module docstring), generated chunk by chunk."""

    def __init__(self, num_vectors: int, num_queries: int, seed: int = 7) -> None:
        self.num_vectors, self.seed = num_vectors, seed
        rng = np.random.default_rng([seed, 0])
        self.spectrum = (1.0 / np.sqrt(1.0 + np.arange(DIM)))[rng.permutation(DIM)].astype(np.float32)
        self.image_mean = _unit(rng.normal(size=DIM) * self.spectrum) * 0.55
        self.text_mean = _unit(rng.normal(size=DIM) * self.spectrum) * 0.45
        num_scenes = num_vectors // SCENE_MOMENTS
        self.query_scenes = rng.choice(num_scenes, size=num_queries, replace=num_queries > num_scenes)
        self.queries = np.zeros((num_queries, DIM), dtype=np.float32)

    def chunks(self):
        """Yield (ids int64 [n], vectors float32 [n, DIM]); fills ``self.queries`` as their scenes go by."""
        for chunk_index, start in enumerate(range(0, self.num_vectors, CHUNK)):
            count = min(CHUNK, self.num_vectors - start)
            rng = np.random.default_rng([self.seed, 1, chunk_index])
            ids = np.arange(start, start + count, dtype=np.int64)
            video_dirs = rng.normal(size=(count // VIDEO_MOMENTS + 1, DIM)).astype(np.float32) * self.spectrum
            scene_dirs = rng.normal(size=(count // SCENE_MOMENTS + 1, DIM)).astype(np.float32) * self.spectrum
            local = np.arange(count)
            scenes = _unit(video_dirs[local // VIDEO_MOMENTS] + 0.8 * scene_dirs[local // SCENE_MOMENTS])
            noise = _unit(rng.normal(size=(count, DIM)).astype(np.float32) * self.spectrum)
            vectors = _unit(self.image_mean + 0.6 * scenes + 0.35 * noise)
            first_scene = start // SCENE_MOMENTS
            for q, scene in enumerate(self.query_scenes):
                if first_scene <= scene < first_scene + count // SCENE_MOMENTS:
                    direction = scenes[(scene - first_scene) * SCENE_MOMENTS]
                    noise_q = _unit(np.random.default_rng([self.seed, 2, q]).normal(size=DIM) * self.spectrum)
                    self.queries[q] = _unit(self.text_mean + 0.6 * direction + 0.5 * noise_q)
            yield ids, vectors


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def exact_top_k(data: Synthetic, chunks) -> np.ndarray:
    """Exact float top-K ids of every query (int64 [Q, K]) over ``chunks`` of (ids, vectors)."""
    best_scores = np.full((len(data.queries), K), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(data.queries), K), dtype=np.int64)
    for ids, vectors in chunks:
        scores = data.queries @ vectors.T  # (Q, n)
        merged_scores = np.concatenate([best_scores, scores], axis=1)
        merged_ids = np.concatenate([best_ids, np.broadcast_to(ids, scores.shape)], axis=1)
        order = np.argsort(-merged_scores, axis=1)[:, :K]
        best_scores = np.take_along_axis(merged_scores, order, axis=1)
        best_ids = np.take_along_axis(merged_ids, order, axis=1)
    return best_ids


# ---- engines -------------------------------------------------------------------------------------------------

class VidiEngine:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "vectors.sqlite"
        self.index = VectorIndex.open(self.path, DIM)

    def add(self, ids, vectors):
        self.index.add(ids, vectors)

    def reopen(self):
        self.index.close()
        self.index = VectorIndex.open(self.path, DIM)

    def search(self, query, shortlist):
        return [i for i, _ in self.index.search(query, K, shortlist=shortlist)]

    def size_bytes(self):
        return sum(p.stat().st_size for p in self.path.parent.glob("vectors.sqlite*"))

    def close(self):
        self.index.close()


class SqliteVecEngine:
    """sqlite-vec's brute-force bit KNN (in C) on the same centred codes, then the same int8 re-scoring."""

    def __init__(self, folder: Path) -> None:
        import apsw
        import sqlite_vec

        self.apsw, self.sqlite_vec = apsw, sqlite_vec
        self.path = folder / "sqlitevec.sqlite"
        self.centre = None
        self.rotation = quantize.random_rotation(DIM)
        self._connect()
        self.db.execute(f"CREATE VIRTUAL TABLE codes USING vec0(code bit[{DIM}])")
        self.db.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, q8 BLOB NOT NULL, scale REAL NOT NULL)")

    def _connect(self):
        self.db = self.apsw.Connection(str(self.path))
        self.db.enable_load_extension(True)
        self.db.load_extension(self.sqlite_vec.loadable_path())
        self.db.execute("PRAGMA journal_mode = WAL")

    def add(self, ids, vectors):
        vectors = quantize.rotate(vectors, self.rotation)
        if self.centre is None:
            self.centre = vectors.mean(axis=0)
        codes = quantize.binary_codes(vectors, self.centre)
        rows, scales = quantize.int8_rows(vectors)
        with self.db:
            self.db.executemany("INSERT INTO codes(rowid, code) VALUES (?, vec_bit(?))",
                                zip(ids.tolist(), (c.tobytes() for c in codes)))
            self.db.executemany("INSERT INTO rows VALUES (?, ?, ?)",
                                zip(ids.tolist(), (r.tobytes() for r in rows), scales.tolist()))

    def reopen(self):
        self.db.close()
        self._connect()

    def search(self, query, shortlist):
        query = quantize.rotate(query, self.rotation)
        code = quantize.query_code(query).tobytes()
        near = [r[0] for r in self.db.execute(
            "SELECT rowid FROM codes WHERE code MATCH vec_bit(?) AND k = ?", (code, shortlist))]
        found, blobs, scales = [], [], []
        for row_id, q8, scale in self.db.execute(
                f"SELECT id, q8, scale FROM rows WHERE id IN ({','.join('?' * len(near))})", near):
            found.append(row_id), blobs.append(q8), scales.append(scale)
        rows = np.frombuffer(b"".join(blobs), dtype=np.int8).reshape(len(found), DIM)
        scores = quantize.int8_scores(query, rows, np.asarray(scales, dtype=np.float32))
        return [found[i] for i in np.argsort(-scores)[:K]]

    def size_bytes(self):
        return sum(p.stat().st_size for p in self.path.parent.glob("sqlitevec.sqlite*"))

    def close(self):
        self.db.close()


class UsearchEngine:
    def __init__(self, folder: Path) -> None:
        from usearch.index import Index

        self.Index, self.path = Index, folder / "vectors.usearch"
        # wider than usearch's defaults (expansion 128/64), which gave recall@10 0.82 at 100k here
        self.index = Index(ndim=DIM, metric="ip", dtype="f16", connectivity=16, expansion_add=128,
                           expansion_search=256)

    def add(self, ids, vectors):
        self.index.add(ids, vectors, threads=1)

    def reopen(self):
        self.index.save(str(self.path))
        self.index = self.Index.restore(str(self.path))
        self.index.expansion_search = 256

    def search(self, query, shortlist):
        return [int(i) for i in self.index.search(query, K, threads=1).keys]

    def size_bytes(self):
        return self.path.stat().st_size

    def close(self):
        pass


class ExactEngine:
    def __init__(self, folder: Path) -> None:
        self.parts: list = []

    def add(self, ids, vectors):
        self.parts.append((ids, vectors))

    def reopen(self):
        self.ids = np.concatenate([p[0] for p in self.parts])
        self.vectors = np.concatenate([p[1] for p in self.parts])
        self.parts = []

    def search(self, query, shortlist):
        return self.ids[np.argpartition(-(self.vectors @ query), K)[:K]].tolist()

    def size_bytes(self):
        return self.vectors.nbytes

    def close(self):
        pass


ENGINES = {"vidi": VidiEngine, "sqlite-vec": SqliteVecEngine, "usearch": UsearchEngine, "exact": ExactEngine}


# ---- full-text half ------------------------------------------------------------------------------------------

def fts5_row(num_moments: int, folder: Path, num_queries: int) -> dict:
    words = [f"w{i}" for i in range(20_000)]
    zipf = 1.0 / np.arange(1, len(words) + 1)
    zipf /= zipf.sum()
    rng = np.random.default_rng(11)
    path = folder / "fts.sqlite"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE VIRTUAL TABLE captions USING fts5(text)")
    started = time.perf_counter()
    db.execute("BEGIN")
    for start in range(0, num_moments, CHUNK):
        count = min(CHUNK, num_moments - start)
        picks = rng.choice(len(words), size=(count, 12), p=zipf)
        db.executemany("INSERT INTO captions(rowid, text) VALUES (?, ?)",
                       ((start + i, " ".join(words[w] for w in row)) for i, row in enumerate(picks)))
    db.execute("COMMIT")
    build_s = time.perf_counter() - started
    queries = [" ".join(words[w] for w in rng.choice(2000, size=2, replace=False) + 50) for _ in range(num_queries)]
    times = []
    for text in queries:
        started = time.perf_counter()
        db.execute("SELECT rowid FROM captions WHERE captions MATCH ? ORDER BY rank LIMIT 50", (text,)).fetchall()
        times.append(time.perf_counter() - started)
    db.close()
    return {"engine": "fts5 (BM25, 2 words)", "build_s": build_s, "size": path.stat().st_size, "open_s": None,
            "p50_ms": _ms(times, 50), "p95_ms": _ms(times, 95), "recall": None}


# ---- running -------------------------------------------------------------------------------------------------

def _ms(times, percent):
    return float(np.percentile(times, percent)) * 1000


def run_size(num_vectors: int, args) -> list[dict]:
    data = Synthetic(num_vectors, args.queries)
    work = Path(tempfile.mkdtemp(prefix="search_bench_", dir=args.tmp))
    engines, rows = {}, []
    for name in args.engines:
        if name == "usearch" and num_vectors > args.usearch_max or name == "exact" and num_vectors > 100_000:
            rows.append({"engine": name, "note": "skipped at this size"})
            continue
        folder = work / name
        folder.mkdir()
        try:
            engines[name] = [ENGINES[name](folder), 0.0]
        except ImportError as exc:
            rows.append({"engine": name, "note": f"not installed ({exc.name})"})
    generate_s = 0.0
    started = time.perf_counter()
    for ids, vectors in data.chunks():
        generate_s += time.perf_counter() - started
        for label, slot in engines.items():
            t = time.perf_counter()
            slot[0].add(ids, vectors)
            slot[1] += time.perf_counter() - t
        started = time.perf_counter()
    # the queries are known once their scenes went by: a second, identical pass gives the exact top-K
    truth = exact_top_k(data, data.chunks())
    print(f"  {num_vectors:,} vectors generated in {generate_s:.1f} s; exact top-{K} in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    for label, (engine, build_s) in engines.items():
        t = time.perf_counter()
        engine.reopen()
        open_s = time.perf_counter() - t
        shortlists = {"vidi": args.shortlists, "sqlite-vec": args.sqlite_vec_shortlists}.get(label, [0])
        for shortlist in shortlists:
            for query in data.queries[:5]:  # warm-up: caches, lazy loading
                engine.search(query, shortlist)
            times, hits = [], 0
            for query, expected in zip(data.queries, truth):
                t = time.perf_counter()
                found = engine.search(query, shortlist)
                times.append(time.perf_counter() - t)
                hits += len(set(found) & set(expected.tolist()))
            rows.append({"engine": f"{label} (shortlist {shortlist})" if shortlist else label, "build_s": build_s,
                         "size": engine.size_bytes(), "open_s": open_s, "p50_ms": _ms(times, 50),
                         "p95_ms": _ms(times, 95), "recall": hits / (K * len(truth))})
            print("  " + format_row(num_vectors, rows[-1]), flush=True)
        engine.close()
    engines.clear()
    gc.collect()
    if args.fts:
        rows.append(fts5_row(num_vectors, work, args.queries))
        print("  " + format_row(num_vectors, rows[-1]), flush=True)
    shutil.rmtree(work, ignore_errors=True)
    return rows


def format_row(num_vectors: int, row: dict) -> str:
    if "note" in row:
        return f"| {num_vectors:>9,} | {row['engine']:<28} | {row['note']} |"
    def opt(value, fmt):
        return "-" if value is None else format(value, fmt)
    return (f"| {num_vectors:>9,} | {row['engine']:<28} | {row['build_s']:8.1f} | {row['size'] / 1e6:9.1f} | "
            f"{opt(row['open_s'], '6.2f')} | {row['p50_ms']:7.1f} | {row['p95_ms']:7.1f} | "
            f"{opt(row['recall'], '.3f')} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--engines", nargs="+", default=["vidi", "sqlite-vec", "usearch", "exact"],
                        choices=sorted(ENGINES))
    parser.add_argument("--shortlists", type=int, nargs="+", default=[250, 1000])
    parser.add_argument("--sqlite-vec-shortlists", type=int, nargs="+", default=[250, 1000],
                        help="its KNN slows with k: 1.6 s a query for k=1000 at 1M")
    parser.add_argument("--usearch-max", type=int, default=100_000)
    parser.add_argument("--no-fts", dest="fts", action="store_false")
    parser.add_argument("--tmp", default=None, help="folder for the indexes (default: the system's temp folder)")
    args = parser.parse_args(argv)
    print(f"search bench: {DIM}-d, {args.queries} queries, k={K}, {os.cpu_count()} CPUs", flush=True)
    rows = []
    for size in args.sizes:
        print(f"{size:,} moments:", flush=True)
        rows += [(size, row) for row in run_size(size, args)]
    print()
    print("| moments | engine | build s | size MB | open s | p50 ms | p95 ms | recall@10 |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for size, row in rows:
        print(format_row(size, row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
