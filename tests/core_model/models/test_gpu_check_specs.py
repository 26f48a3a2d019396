"""bench/gpu_check.py stays in step with the catalog (cheap checks: no torch, no model built)."""

import importlib.util
import sys
from pathlib import Path

from core_model.models.catalog import CATALOG

_PATH = Path(__file__).resolve().parents[3] / "bench" / "gpu_check.py"
_spec = importlib.util.spec_from_file_location("gpu_check", _PATH)
gpu_check = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("gpu_check", gpu_check)  # its dataclasses look their module up there
_spec.loader.exec_module(gpu_check)


def test_every_downloadable_catalog_model_is_benchmarked():
    bench_ids = {spec.id for spec in gpu_check.SPECS}
    assert bench_ids == {entry.id for entry in CATALOG if entry.downloadable}
    families = {spec.id: spec.family for spec in gpu_check.SPECS}
    for entry in CATALOG:
        if entry.backend in ("qwen2_5_omni", "gemma4"):
            assert families[entry.id] in ("qwen_omni", "gemma4")
            assert next(s for s in gpu_check.SPECS if s.id == entry.id).hears


def test_targets_of_the_issue():
    targets = {spec.id: spec.target_gb for spec in gpu_check.SPECS if spec.target_gb}
    assert targets == {"qwen2.5-omni-7b": 10.0, "gemma-4-e2b": 4.0}


def test_tiny_configs_shrink_every_tower_and_keep_the_token_ids():
    for spec in gpu_check.SPECS:
        full = gpu_check.config_dict(spec, tiny=False, configs_dir=None)
        tiny = gpu_check.config_dict(spec, tiny=True, configs_dir=None)
        assert tiny["text_config"]["hidden_size"] == 64 < full["text_config"]["hidden_size"]
        assert tiny["text_config"]["vocab_size"] == full["text_config"]["vocab_size"]
        assert {k: v for k, v in tiny.items() if k.endswith(("token_id", "token_index"))} == {
            k: v for k, v in full.items() if k.endswith(("token_id", "token_index"))}
        assert full == gpu_check.config_dict(spec, tiny=False, configs_dir=None)  # built-ins never mutated


def test_skip_rule_matches_module_names_like_transformers():
    skip = ("model.visual", "lm_head")
    assert gpu_check.is_skipped("model.visual.blocks.0.mlp.up_proj", skip)
    assert gpu_check.is_skipped("lm_head", skip)
    assert not gpu_check.is_skipped("model.language_model.layers.0.mlp.up_proj", skip)


def test_cpu_placement_follows_the_gemma_4_backend():
    from core_model.backends import gemma4

    for spec in gpu_check.SPECS:
        data = gpu_check.config_dict(spec, tiny=False, configs_dir=None)
        expected = (gemma4.PER_LAYER_EMBEDDINGS,) if spec.family == "gemma4" else ()
        assert gpu_check.cpu_modules_for(spec, data) == expected, spec.id


def test_catalog_gemma_4_figures_are_the_dry_runs_gpu_and_cpu_shares():
    """The catalog's GPU figure is the dry run's planned GPU peak with the per-layer table left out, and its RAM
    figure is that table in bf16 (vocabulary x layers x 256 values x 2 bytes, from the config)."""
    from argparse import Namespace

    from core_model.models.catalog import GB, get_entry

    args = Namespace(configs=None, new_tokens=64)
    for model_id in ("gemma-4-e2b", "gemma-4-e4b"):
        spec = next(s for s in gpu_check.SPECS if s.id == model_id)
        row = gpu_check.dry_run(spec, args)
        text = spec.config["text_config"]
        table_bytes = (text["vocab_size_per_layer_input"] * text["num_hidden_layers"]
                       * text["hidden_size_per_layer_input"] * 2)
        assert abs(row.planned_cpu_gb * GB - table_bytes) < 1e-3 * GB
        entry = get_entry(model_id)
        assert abs(entry.memory_4bit_bytes - row.planned_peak_gb * GB) <= 0.01 * GB, (model_id, row.planned_peak_gb)
        assert abs(entry.cpu_memory_bytes - row.planned_cpu_gb * GB) <= 0.01 * GB, (model_id, row.planned_cpu_gb)
        if spec.target_gb:  # the issue's target for E2B: under 4 GB
            assert row.planned_peak_gb < spec.target_gb
