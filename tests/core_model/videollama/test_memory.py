"""Memory planner: parameter arithmetic checked against real modules; the full-size 7B figure under 8 GiB."""

from __future__ import annotations

import pytest

from core_model.videollama.configuration_videollama import videollama2_config
from core_model.videollama.memory import format_plan, plan_from_config


def _numel(*modules_or_params) -> int:
    total = 0
    for item in modules_or_params:
        total += item.numel() if hasattr(item, "numel") else sum(p.numel() for p in item.parameters())
    return total


def test_weight_parts_match_the_loaded_tiny_model(tiny_model, converted_dir):
    plan = plan_from_config(converted_dir, device="cpu", load_in_4bit=False).parts_bytes  # fp32 everywhere
    m = tiny_model
    assert plan["vision encoder (EVA ViT-g)"] == 4 * _numel(m.vision_model)
    assert plan["image Q-Former (BLIP-2)"] == 4 * _numel(m.qformer, m.query_tokens)
    assert plan["video Q-Former + frame positions + llama_proj"] == 4 * _numel(
        m.video_qformer, m.video_query_tokens, m.video_frame_position_embedding, m.llama_proj)
    assert plan["audio encoder (ImageBind audio only)"] == 4 * (_numel(m.audio_encoder) + 1)  # + log_logit_scale
    assert plan["audio Q-Former + clip positions + audio_llama_proj"] == 4 * _numel(
        m.audio_qformer, m.audio_query_tokens, m.audio_position_embedding, m.audio_llama_proj)
    assert plan["LLM weights"] == 4 * _numel(m.llm)
    assert "CUDA context + allocator slack" not in plan


def test_full_size_7b_counts_and_target():
    from core_model.videollama.memory import qformer_params

    config = videollama2_config("7b")
    # trainable parameters the released VL/AL files hold (spec 5.2): 22,104,064 and 22,855,680
    vl = qformer_params(config.video_qformer_config) + 32 * 768 + 768 * 4096 + 4096
    al = qformer_params(config.audio_qformer_config) + 8 * 1024 + 768 * 4096 + 4096
    assert (vl, al) == (22_104_064, 22_855_680)
    estimate = plan_from_config(config, device="cuda", load_in_4bit=True)
    assert 5 * 2**30 < estimate.total_bytes < 8 * 2**30
    bf16 = plan_from_config(config, device="cuda", load_in_4bit=False)
    assert bf16.parts_bytes["LLM weights"] > 3 * estimate.parts_bytes["LLM weights"]
    assert "total on cuda" in format_plan(estimate)


def test_plan_from_dict_and_vision_only():
    config = videollama2_config("7b", with_audio=False)
    estimate = plan_from_config(config.to_dict(), device="cuda", load_in_4bit=True)
    assert not any("audio" in name for name in estimate.parts_bytes)
    with pytest.raises(ValueError, match="unknown keys"):
        plan_from_config({"bogus": 1})
