"""bench/gpu_videollama.py: its measure() runs (planner only without a GPU; the whole path on a shrunken config)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench" / "gpu_videollama.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("gpu_videollama", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dry_run_reports_the_planner_figure(bench, capsys):
    row = bench.measure(dry_run=True)
    assert 7.5 < row["params_b"] < 8.5  # EVA 0.99 B + Q-Formers + ImageBind audio + LLaMA-2-7B 6.74 B
    assert row["planned_peak_gb"] < 8.0 and "note" in row
    bench.print_row(row)
    assert "planned peak" in capsys.readouterr().out


def test_smoke_runs_the_gpu_code_path_on_the_cpu(bench):
    row = bench.measure(smoke=True, new_tokens=4)
    assert row["used_audio"] and row["new_tokens"] == 4
    assert row["prompt_tokens"] > 40 and row["ttft_s"] > 0 and row["load_s"] > 0
