"""bench/search_bench.py still runs and prints its table (tiny sizes; the real figures are in docs/vector-index.md)."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[3] / "bench" / "search_bench.py"


def test_search_bench_prints_its_table(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("search_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--sizes", "3000", "--queries", "20", "--engines", "vidi", "exact", "--shortlists", "300",
                       "--tmp", str(tmp_path)]) == 0
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("|     3,000 |")]
    assert [line.split("|")[2].strip() for line in table] == ["vidi (shortlist 300)", "exact", "fts5 (BM25, 2 words)"]
    recall = {line.split("|")[2].strip(): line.split("|")[8].strip() for line in table}
    assert float(recall["exact"]) == 1.0 and float(recall["vidi (shortlist 300)"]) >= 0.95
