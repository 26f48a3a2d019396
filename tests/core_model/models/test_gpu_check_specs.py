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
