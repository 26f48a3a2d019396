"""The embedded vector index (core_model.index.vectors) on real SQLite files and real child processes."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core_model.errors import StoreError, UsageError
from core_model.index import quantize
from core_model.index.vectors import VectorIndex

REPO_ROOT = Path(__file__).resolve().parents[3]
DIM = 96


def clustered(num_vectors: int, dim: int = DIM, seed: int = 0, per_cluster: int = 20) -> np.ndarray:
    """L2-normalised vectors in clusters of ``per_cluster`` around a shared offset (embeddings are not centred),
    with a decaying spectrum across dimensions (not isotropic)."""
    rng = np.random.default_rng(seed)
    spectrum = 1.0 / np.sqrt(1.0 + np.arange(dim))
    common = rng.normal(size=dim) * spectrum
    centres = rng.normal(size=(num_vectors // per_cluster + 1, dim)) * spectrum
    noise = rng.normal(size=(num_vectors, dim)) * spectrum
    vectors = 2.0 * common + centres[np.arange(num_vectors) // per_cluster] * 1.5 + noise * 0.8
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def exact_top(vectors: np.ndarray, ids: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    return ids[np.argsort(-(vectors @ query))[:k]].tolist()


def test_recall_at_10_against_exact_float_search(tmp_path):
    vectors = clustered(6000)
    ids = np.arange(6000, dtype=np.int64) * 7 + 3  # ids are the caller's, not positions
    rng = np.random.default_rng(1)
    queries = vectors[rng.choice(6000, 40, replace=False)] + rng.normal(size=(40, DIM)).astype(np.float32) * 0.05
    with VectorIndex.open(tmp_path / "v.sqlite", DIM) as index:
        index.add(ids, vectors)
        hits = sum(len(set(exact_top(vectors, ids, q, 10)) & {i for i, _ in index.search(q, 10, shortlist=300)})
                   for q in queries)
    # the shortlist (300 of 6000) forces the 1-bit scan to do the finding, the int8 re-scoring the ordering
    assert hits / (10 * len(queries)) >= 0.95


def test_scores_are_close_to_the_float_dot_products(tmp_path):
    vectors = clustered(300)
    with VectorIndex.open(tmp_path / "v.sqlite", DIM) as index:
        index.add(np.arange(300), vectors)
        results = index.search(vectors[42], 300)
    assert results[0][0] == 42
    assert results[0][1] == pytest.approx(1.0, abs=0.01)
    scores = dict(results)
    exact = vectors @ vectors[42]
    assert max(abs(scores[i] - exact[i]) for i in range(300)) < 0.01
    assert [s for _, s in results] == sorted((s for _, s in results), reverse=True)


def test_persists_across_reopen_in_a_new_process(tmp_path):
    vectors = clustered(500)
    with VectorIndex.open(tmp_path / "v.sqlite", DIM) as index:
        index.add(np.arange(500), vectors)
        before = index.search(vectors[7], 5, shortlist=50)
    np.save(tmp_path / "query.npy", vectors[7])
    child = subprocess.run(
        [sys.executable, "-c",
         "import sys, numpy as np; from core_model.index.vectors import VectorIndex;"
         "ix = VectorIndex.open(sys.argv[1], 96); print(len(ix), ix.search(np.load(sys.argv[2]), 5, shortlist=50))",
         str(tmp_path / "v.sqlite"), str(tmp_path / "query.npy")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == f"500 {before}"


def test_remove_and_replace(tmp_path):
    vectors = clustered(200)
    path = tmp_path / "v.sqlite"
    with VectorIndex.open(path, DIM) as index:
        index.add(np.arange(200), vectors)
        assert index.remove([5, 6, 9999]) == 2
        assert len(index) == 198
        found = [i for i, _ in index.search(vectors[5], 200)]
        assert 5 not in found and 6 not in found and len(found) == 198
        index.add([7], vectors[100:101])  # id 7 now holds vector 100
        assert len(index) == 198
        assert index.search(vectors[100], 2)[0][1] == pytest.approx(1.0, abs=0.01)
        assert {i for i, _ in index.search(vectors[100], 2)} == {7, 100}
    with VectorIndex.open(path, DIM) as reopened:
        assert len(reopened) == 198
        assert set(reopened.ids().tolist()) == set(range(200)) - {5, 6}


def test_the_centre_follows_the_first_vectors_one_at_a_time(tmp_path):
    """Codes made while vectors arrive one by one end up as those of one batch add: the centre is the mean of the
    first CENTRE_SAMPLE vectors, whatever the first add held."""
    vectors = clustered(1200)
    one_by_one = VectorIndex.open(tmp_path / "a.sqlite", DIM)
    for i in range(60):
        one_by_one.add([i], vectors[i:i + 1])
    one_by_one.add(np.arange(60, 1200), vectors[60:])
    batch = VectorIndex.open(tmp_path / "b.sqlite", DIM)
    batch.add(np.arange(1200), vectors)
    centre = {name: np.frombuffer(index._read_meta()["centre"], dtype=np.float32)
              for name, index in (("one", one_by_one), ("batch", batch))}
    assert np.allclose(centre["one"], centre["batch"], atol=2e-3)  # int8 rounding of the re-coded vectors only
    order = np.argsort(one_by_one.ids())
    mismatched_bits = np.bitwise_count(one_by_one._codes[:, order] ^ batch._codes).sum()
    assert mismatched_bits < 0.001 * 1200 * DIM
    with VectorIndex.open(tmp_path / "a.sqlite", DIM) as reopened:  # what was stored, not only what is in RAM
        assert (reopened._codes[:, np.argsort(reopened.ids())] == one_by_one._codes[:, order]).all()
    for q in vectors[:20]:
        found = [[i for i, _ in index.search(q, 5, shortlist=100)] for index in (one_by_one, batch)]
        assert found[0] == found[1]
    one_by_one.close()
    batch.close()


def test_filter_ids_limits_the_search(tmp_path):
    vectors = clustered(2000)
    with VectorIndex.open(tmp_path / "v.sqlite", DIM) as index:
        index.add(np.arange(2000), vectors)
        allowed = list(range(1000, 2000))
        # a large filter still goes through the 1-bit scan (shortlist < 1000), a small one is re-scored whole
        for shortlist in (100, 5000):
            found = index.search(vectors[3], 10, filter_ids=allowed, shortlist=shortlist)
            assert len(found) == 10 and all(1000 <= i < 2000 for i, _ in found)
        assert index.search(vectors[3], 10, filter_ids=[]) == []
        assert [i for i, _ in index.search(vectors[3], 10, filter_ids=[3, 4])][0] == 3


def test_empty_index_and_bad_input(tmp_path):
    with VectorIndex.open(tmp_path / "v.sqlite", DIM) as index:
        assert index.search(np.ones(DIM), 5) == []
        assert len(index) == 0
        with pytest.raises(UsageError, match="shape"):
            index.add([1, 2], np.ones((3, DIM)))
        with pytest.raises(UsageError, match="twice"):
            index.add([1, 1], np.ones((2, DIM)))
        with pytest.raises(UsageError, match="NaN"):
            index.add([1], np.full((1, DIM), np.nan))
        with pytest.raises(UsageError, match="96-d"):
            index.search(np.ones(DIM + 1), 5)
        with pytest.raises(UsageError, match="integers"):
            index.add([1.5], np.ones((1, DIM)))
        assert len(index) == 0  # nothing half-written by the refused calls
    with pytest.raises(StoreError, match="96-d vectors, not 128-d"):
        VectorIndex.open(tmp_path / "v.sqlite", 128)
    with pytest.raises(UsageError):
        VectorIndex.open(tmp_path / "v.sqlite", DIM, name="Robert'); DROP TABLE x;--")


def test_a_damaged_file_is_one_store_error_line(tmp_path):
    path = tmp_path / "v.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match="damaged") as raised:
        VectorIndex.open(path, DIM)
    assert "\n" not in str(raised.value)


def test_on_an_open_connection_beside_other_tables(tmp_path):
    """The index can live in an existing database (e.g. the store's), on its autocommit connection or inside the
    caller's own transaction (a savepoint then)."""
    connection = sqlite3.connect(tmp_path / "vidi.db", isolation_level=None)
    connection.execute("CREATE TABLE moments (id INTEGER PRIMARY KEY, start_s REAL)")
    vectors = clustered(50)
    index = VectorIndex.open(connection, DIM)
    index.add(np.arange(50), vectors)
    connection.execute("BEGIN")
    connection.execute("INSERT INTO moments VALUES (1, 2.5)")
    index.add([50], vectors[:1])
    connection.execute("ROLLBACK")  # the caller's rollback takes the vector with it
    assert connection.execute("SELECT count(*) FROM moments").fetchone()[0] == 0
    assert len(index) == 50 and index.search(vectors[0], 1)[0][0] == 0
    reopened = VectorIndex.open(connection, DIM)
    assert len(reopened) == 50
    other = VectorIndex.open(connection, 8, name="text_vectors")  # a second index, another dimension
    other.add([1], np.ones((1, 8)))
    assert len(other) == 1 and len(VectorIndex.open(connection, DIM)) == 50
    connection.close()


def test_sees_another_process_writes(tmp_path):
    vectors = clustered(100)
    path = tmp_path / "v.sqlite"
    index = VectorIndex.open(path, DIM)
    index.add(np.arange(50), vectors[:50])
    writer = VectorIndex.open(path, DIM)  # another connection stands for another process
    writer.add(np.arange(50, 100), vectors[50:])
    writer.remove([0])
    assert len(index) == 99
    assert index.search(vectors[77], 1)[0][0] == 77
    index.add([0], vectors[:1])  # and the two stay in step when both write
    assert len(writer) == 100 and writer.search(vectors[0], 1)[0][0] == 0
    index.close()
    writer.close()


_WRITER = """
import sys, numpy as np
from core_model.index.vectors import VectorIndex
index = VectorIndex.open(sys.argv[1], 96)
rng = np.random.default_rng(0)
batch = 0
while True:
    vectors = rng.normal(size=(200, 96)).astype(np.float32)
    index.add(np.arange(batch * 200, batch * 200 + 200), vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    batch += 1
    print(batch, flush=True)
"""


def test_a_killed_writer_leaves_a_usable_index(tmp_path):
    path = tmp_path / "v.sqlite"
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        committed = 0
        deadline = time.monotonic() + 120
        while committed < 5 and time.monotonic() < deadline:
            line = writer.stdout.readline()
            assert line, writer.stderr.read()
            committed = int(line)
        # let it get into the middle of the next batches, then kill it without warning
        time.sleep(0.05)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
    assert committed >= 5
    with VectorIndex.open(path, DIM) as index:
        count = len(index)
        assert count >= committed * 200 and count % 200 == 0  # whole batches only
        assert set(index.ids().tolist()) == set(range(count))
        assert index._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        probe = np.random.default_rng(5).normal(size=DIM).astype(np.float32)
        index.add([10**9], probe[None, :] / np.linalg.norm(probe))
        assert index.search(probe, 1)[0][0] == 10**9


def test_hamming_and_codes():
    codes = quantize._pack_signs(np.array([[True] * 70, [False] * 70]))
    assert codes.shape == (2, 2)  # 70 bits in two 64-bit words, padding zero
    assert quantize.hamming(codes.T.copy(), codes[1]).tolist() == [70, 0]
    many = np.random.default_rng(0).integers(0, 2**63, size=(2, 600_000), dtype=np.uint64)  # split over threads
    expected = np.bitwise_count(many ^ many[:, :1]).sum(axis=0)
    assert (quantize.hamming(many, many[:, 0]) == expected).all()
    distances = np.array([5, 1, 3, 1, 0, 9, 1], dtype=np.uint16)
    assert sorted(quantize.smallest(distances, 3).tolist()) in ([1, 3, 4], [1, 4, 6], [3, 4, 6])
    assert sorted(quantize.smallest(distances, 5).tolist()) == [1, 2, 3, 4, 6]
    rows, scales = quantize.int8_rows(np.array([[0.5, -1.0, 0.0]], dtype=np.float32))
    assert rows.tolist() == [[64, -127, 0]] and scales[0] == pytest.approx(1 / 127)
    rotation = quantize.random_rotation(16)
    assert np.allclose(rotation @ rotation.T, np.eye(16), atol=1e-5)
