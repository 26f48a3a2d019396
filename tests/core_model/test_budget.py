"""The token/memory budget planner and the out-of-memory retry policy (no model weights: configs only).

Costs come from config dicts of the released sizes: Qwen2.5-Omni-7B's Thinker (as in its config.json) and Gemma 4
E2B (transformers' Gemma4Text/Vision/Audio defaults, which it documents as gemma-4-e2b-it). Free memory is injected.
"""

from __future__ import annotations

import pytest
import torch

from core_model.backends.base import OutOfMemoryError
from core_model.budget import (
    CPU_TOKEN_CAP,
    SAFETY,
    BudgetPlanner,
    SegmentSpec,
    stream_with_oom_retry,
)
from core_model.backends.costs import gemma4_costs, qwen_omni_costs

GIB = 2**30
HD = (1280, 720)


QWEN_OMNI_7B_THINKER = {
    "text_config": {
        "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28, "num_attention_heads": 28,
        "num_key_value_heads": 4, "max_position_embeddings": 32768,
    },
    "vision_config": {
        "depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "patch_size": 14, "spatial_merge_size": 2,
        "temporal_patch_size": 2,
    },
}


@pytest.fixture(scope="module")
def qwen_7b():
    return qwen_omni_costs(QWEN_OMNI_7B_THINKER)


@pytest.fixture(scope="module")
def gemma_e2b():
    from transformers import Gemma4AudioConfig, Gemma4TextConfig, Gemma4VisionConfig

    config = {
        "text_config": Gemma4TextConfig().to_dict(),
        "vision_config": Gemma4VisionConfig().to_dict(),
        "audio_config": Gemma4AudioConfig().to_dict(),
    }
    return gemma4_costs(config)


def _plan(costs, free_bytes, duration_s, *, device="cuda", max_frames=32, with_audio=True, scale=1.0):
    planner = BudgetPlanner(costs, device, free_memory=lambda: free_bytes)
    return planner.plan([SegmentSpec(duration_s, *HD, with_audio=with_audio)], max_frames=max_frames, scale=scale)


def test_costs_are_read_from_the_config(qwen_7b, gemma_e2b):
    # Qwen2.5-Omni-7B: 28 layers x 4 KV heads x 128 x 2 (K, V) x 2 bytes
    assert qwen_7b.kv_bytes_per_token == 28 * 4 * 128 * 2 * 2
    # a 720p frame at the 336 level: 336x336 px at most -> 252x448 -> 9 x 16 = 144 tokens per 2 frames
    assert qwen_7b.frame_cost(1280, 720, 336).tokens == 72
    assert gemma_e2b.frame_cost(1280, 720, 70).tokens <= 70


def test_a_15_s_segment_with_audio_on_a_24_gb_gpu_gets_the_full_plan(qwen_7b):
    plan = _plan(qwen_7b, 16 * GIB, 15.0, max_frames=16)  # 24 GB card, ~8 GB taken by the 4-bit weights
    assert plan.description == "15 s at 1.1 fps, 588 px, with audio"
    segment = plan.segments[0]
    assert segment.num_frames == 16 and plan.level == 448
    assert segment.audio_tokens == 375  # 15 s x 25 tokens/s
    assert plan.prompt_tokens == segment.video_tokens + segment.audio_tokens + 256
    assert plan.bytes_needed <= plan.bytes_available


def test_a_frame_cap_of_2_fps_applies_to_short_segments(qwen_7b):
    plan = _plan(qwen_7b, 16 * GIB, 4.0, max_frames=32)
    assert plan.segments[0].num_frames == 8 and plan.description.startswith("4 s at 2 fps")


def test_little_free_memory_lowers_resolution_then_frame_rate(qwen_7b):
    roomy = _plan(qwen_7b, 16 * GIB, 15.0)
    tight = _plan(qwen_7b, 1 * GIB, 15.0)
    assert tight.bytes_needed <= 1 * GIB * SAFETY
    assert tight.level < roomy.level or tight.segments[0].num_frames < roomy.segments[0].num_frames
    assert tight.prompt_tokens < roomy.prompt_tokens
    assert tight.description == "15 s at 2 fps, 280 px, with audio"  # the frame rate kept, the resolution lowered


def test_a_long_segment_on_a_small_gpu_keeps_few_frames(qwen_7b):
    plan = _plan(qwen_7b, 1 * GIB, 60.0)
    assert plan.segments[0].num_frames <= 8 and plan.bytes_needed <= 1 * GIB * SAFETY
    assert plan.description == "60 s at 0.13 fps, 280 px, with audio"


def test_when_nothing_fits_the_error_says_what_to_do(qwen_7b):
    with pytest.raises(OutOfMemoryError, match=r"needs about .* GB of CUDA memory and only 0\.3 GB is free.*audio"):
        _plan(qwen_7b, int(0.3 * GIB / SAFETY), 15.0)


def test_gemma_e2b_on_a_4_gb_gpu_and_on_the_cpu(gemma_e2b):
    roomy = _plan(gemma_e2b, 2 * GIB, 15.0, max_frames=16)  # a 4 GB card with E2B's ~2 GB of 4-bit weights
    assert roomy.description == "15 s at 1 fps, 720 px, with audio" and roomy.level == 140
    tight = _plan(gemma_e2b, int(1.5 * GIB), 15.0, max_frames=16)  # the frame rate is kept, the resolution goes
    assert tight.description == "15 s at 1 fps, 528 px, with audio" and tight.level == 70
    cpu = _plan(gemma_e2b, None, 120.0, device="cpu", max_frames=128)
    assert cpu.bytes_available is None and cpu.prompt_tokens <= CPU_TOKEN_CAP
    assert cpu.segments[0].num_frames < 120  # 120 s x 1 fps would not fit the CPU's token cap
    with pytest.raises(OutOfMemoryError, match="more than 8192 tokens"):
        _plan(gemma_e2b, None, 600.0, device="cpu")  # 600 s of audio alone is 15000 tokens


def test_half_the_budget_never_plans_more(qwen_7b, gemma_e2b):
    for costs in (qwen_7b, gemma_e2b):
        for free in (2 * GIB, 4 * GIB, 8 * GIB):
            full, half = _plan(costs, free, 30.0), _plan(costs, free, 30.0, scale=0.5)
            assert half.bytes_needed <= full.bytes_needed and half.bytes_needed <= free * SAFETY * 0.5
            assert "lowered after running out of memory" in half.description


def test_several_segments_and_images_share_the_budget(qwen_7b):
    planner = BudgetPlanner(qwen_7b, "cuda", free_memory=lambda: 1 * GIB)
    one = planner.plan([SegmentSpec(15.0, *HD, True)], max_frames=16)
    two = planner.plan([SegmentSpec(15.0, *HD, True), SegmentSpec(15.0, *HD, True)], max_frames=16,
                       images=[(1024, 768)])
    assert len(two.segments) == 2 and two.prompt_tokens > one.prompt_tokens
    assert two.bytes_needed <= 1 * GIB * SAFETY
    assert two.description.count("with audio") == 2


def test_cuda_free_memory_comes_from_mem_get_info(monkeypatch, qwen_7b):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda *args: (1 * GIB, 80 * GIB))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda *args: 0)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda *args: 0)
    plan = BudgetPlanner(qwen_7b, "cuda").plan([SegmentSpec(15.0, *HD, True)], max_frames=16)
    assert plan.bytes_available == int(1 * GIB * SAFETY)


# ----------------------------------------------------------------------------------------------------------------
# The out-of-memory retry
# ----------------------------------------------------------------------------------------------------------------


class _Attempts:
    """An ``attempt(scale)`` that raises torch's OOM on the first ``failures`` calls, after ``pieces_first`` pieces."""

    def __init__(self, failures: int, pieces_first: int = 0) -> None:
        self.failures, self.pieces_first = failures, pieces_first
        self.scales: list[float] = []
        self.freed = 0

    def __call__(self, scale: float):
        self.scales.append(scale)
        if len(self.scales) <= self.failures:
            yield from ["partial"] * self.pieces_first
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 3.00 GiB")
        yield from ["an", " answer"]

    def free(self) -> None:
        self.freed += 1


def test_one_oom_frees_the_cache_and_retries_with_half_the_budget():
    attempts = _Attempts(failures=1)
    assert list(stream_with_oom_retry(attempts, attempts.free)) == ["an", " answer"]
    assert attempts.scales == [1.0, 0.5] and attempts.freed == 1


def test_a_second_oom_becomes_a_clear_error():
    attempts = _Attempts(failures=2)
    with pytest.raises(OutOfMemoryError, match="even after lowering the frame rate and resolution") as caught:
        list(stream_with_oom_retry(attempts, attempts.free))
    assert attempts.scales == [1.0, 0.5] and attempts.freed == 2
    assert isinstance(caught.value.__cause__, torch.OutOfMemoryError)


def test_no_retry_once_text_was_streamed():
    attempts = _Attempts(failures=1, pieces_first=2)
    stream = stream_with_oom_retry(attempts, attempts.free)
    assert [next(stream), next(stream)] == ["partial", "partial"]
    with pytest.raises(OutOfMemoryError, match="in the middle of the answer"):
        next(stream)
    assert attempts.scales == [1.0]


def test_other_errors_are_not_retried():
    def broken(scale):
        raise ValueError("bad input")
        yield  # pragma: no cover

    with pytest.raises(ValueError):
        list(stream_with_oom_retry(broken, lambda: None))
