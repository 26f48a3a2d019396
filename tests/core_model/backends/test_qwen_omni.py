"""Qwen2.5-Omni Thinker backend on a tiny random-weight copy of the real architecture (CPU, no network).

The folder is laid out like the real release (full ``qwen2_5_omni`` config, Thinker weights under ``thinker.``) and
goes through the real loading code (registry -> QwenOmniBackend -> Thinker class), the real processor and generate.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from core_model.backends import OutOfMemoryError, SegmentRef, Turn, load_backend
from core_model.device import CPU_NOTICE
from core_model.backends.qwen_omni import QwenOmniBackend
from core_model.budget import SAFETY
from tests.core_model.backends.omni_checks import (
    OPTIONS,
    answer_about_image_and_recording,
    answer_about_segment,
    check_four_bit_on_cpu,
    count_tokens,
    loaded_on_cpu,
)
from tests.fixtures.tiny_omni import tiny_qwen_omni_dir  # noqa: F401  (fixture)
from tests.asking import with_media


@pytest.fixture(scope="module")
def qwen(tiny_qwen_omni_dir):  # noqa: F811
    yield from loaded_on_cpu(tiny_qwen_omni_dir)


def _rope_deltas(model, inputs, use_audio_in_video: bool):
    """What the Thinker's 3-D positions give for ``inputs`` with the flag set one way or the other."""
    audio_seqlens = inputs["feature_attention_mask"].sum(-1) if "feature_attention_mask" in inputs else None
    _, deltas = model.model.get_rope_index(
        inputs["input_ids"], inputs.get("image_grid_thw"), inputs.get("video_grid_thw"), inputs["attention_mask"],
        use_audio_in_video, audio_seqlens, inputs.get("video_second_per_grid"),
    )
    return deltas


def test_registry_loads_only_the_thinker_of_a_full_omni_folder(qwen):
    from transformers import Qwen2_5OmniThinkerForConditionalGeneration

    assert isinstance(qwen, QwenOmniBackend)
    assert type(qwen.model) is Qwen2_5OmniThinkerForConditionalGeneration
    assert qwen.capabilities.video and qwen.capabilities.audio and qwen.capabilities.image
    assert qwen.notice == CPU_NOTICE and qwen.policy.dtype == torch.float32 and not qwen.load_in_4bit


def test_answers_about_a_segment_with_its_audio_streaming(qwen, video_with_audio):
    run = answer_about_segment(qwen, video_with_audio)
    assert run.num_new_tokens == 6 and not run.stopped and run.used_audio
    assert run.plan == "3 s at 1.3 fps, 308 px, with audio"
    assert len(run.frame_timestamps_s) == 4 and all(1.0 <= t <= 4.0 for t in run.frame_timestamps_s)
    assert run.notice == CPU_NOTICE


def test_segment_audio_is_interleaved_with_its_frames(qwen, video_with_audio):
    request = qwen.prepare(with_media([Turn("user", "what is said ?")], [SegmentRef(str(video_with_audio), 1.0, 4.0)]), OPTIONS)
    tokenizer = qwen.processor.tokenizer
    ids = request.inputs["input_ids"][0].tolist()
    vision_bos = ids.index(tokenizer.convert_tokens_to_ids("<|vision_bos|>"))
    assert ids[vision_bos + 1] == tokenizer.convert_tokens_to_ids("<|audio_bos|>")  # audio inside the video block
    # the planner's counts are the processor's: 4 frames of 252x308 -> 2 temporal patches x 99 tokens; 3 s -> 75
    segment_plan = request.plan.segments[0]
    assert count_tokens(request.inputs, tokenizer, "<|VIDEO|>") == segment_plan.video_tokens == 198
    assert count_tokens(request.inputs, tokenizer, "<|AUDIO|>") == segment_plan.audio_tokens == 75
    assert request.processor_kwargs["videos_kwargs"]["fps"] == pytest.approx(4 / 3)


def test_use_audio_in_video_is_the_same_in_processor_and_generate_over_two_turns(
    qwen, video_with_audio, monkeypatch
):
    segment = SegmentRef(str(video_with_audio), 1.0, 4.0)
    first = [Turn("user", "what is in this video ?", (segment,))]
    answer = "".join(qwen.answer(with_media(first, [segment]), OPTIONS))
    second = first + [Turn("assistant", answer), Turn("user", "and what is the sound ?")]

    generate_calls = []
    real_generate = qwen.model.generate

    def spy(**kwargs):
        generate_calls.append(kwargs)
        return real_generate(**kwargs)

    monkeypatch.setattr(qwen.model, "generate", spy)
    # the GUI attaches the segment again to a follow-up about it; the earlier turn travels as text
    for conversation, media in ((first, [segment]), (second, [segment])):
        request = qwen.prepare(with_media(conversation, media), OPTIONS)
        assert request.processor_kwargs["load_audio_from_video"] is True
        assert request.processor_kwargs["audio_from_video_indices"] == [0]
        assert request.generate_kwargs["use_audio_in_video"] is True

        "".join(qwen.answer(with_media(conversation, media), OPTIONS))
        assert generate_calls[-1]["use_audio_in_video"] is True
        # the positions generate used are those of audio-in-video, which differ from the plain layout's
        used = qwen.model.model.rope_deltas
        assert torch.equal(used, _rope_deltas(qwen.model, request.inputs, True))
        assert not torch.equal(used, _rope_deltas(qwen.model, request.inputs, False))
    assert len(generate_calls) == 2


def test_a_silent_segment_turns_audio_in_video_off_for_the_whole_request(
    qwen, video_with_audio, video_no_audio
):
    sounding = SegmentRef(str(video_with_audio), 0.0, 2.0)
    silent = SegmentRef(str(video_no_audio), 0.0, 2.0)
    conversation = [Turn("user", "what is here and here ?", (sounding, silent))]
    request = qwen.prepare(conversation, OPTIONS)

    assert request.generate_kwargs["use_audio_in_video"] is False
    assert "load_audio_from_video" not in request.processor_kwargs
    tokenizer = qwen.processor.tokenizer
    assert count_tokens(request.inputs, tokenizer, "<|audio_bos|>") == 1  # the sounding segment's audio, on its own
    assert count_tokens(request.inputs, tokenizer, "<|AUDIO|>") == 50
    assert request.used_audio
    assert request.plan.description == "2 s at 2 fps, 308 px, with audio; 2 s at 2 fps, 308 px"
    assert len(list(qwen.answer(conversation, OPTIONS))) >= 3


def test_include_audio_false_leaves_the_sound_out(qwen, video_with_audio):
    segment = SegmentRef(str(video_with_audio), 1.0, 4.0, include_audio=False)
    request = qwen.prepare(with_media([Turn("user", "what is here ?")], [segment]), OPTIONS)
    assert not request.used_audio and request.generate_kwargs["use_audio_in_video"] is False
    assert "input_features" not in request.inputs


def test_answers_about_an_image_and_a_recording(qwen, image_png, audio_only):
    request = answer_about_image_and_recording(qwen, image_png, audio_only)
    assert qwen.last_run.num_new_tokens == 6  # prepare() leaves last_run as the answer left it
    tokenizer = qwen.processor.tokenizer
    assert count_tokens(request.inputs, tokenizer, "<|AUDIO|>") == 75  # 3 s of recording
    assert request.generate_kwargs["use_audio_in_video"] is False


def _binding_budget(backend, conversation, media):
    """A free-memory figure where the top plan just fits and half of it does not."""
    top = backend.planner
    free_memory = top.free_memory
    try:
        top.free_memory = lambda: None
        plan = backend.prepare(with_media(conversation, media), OPTIONS).plan
    finally:
        top.free_memory = free_memory
    return int(plan.bytes_needed / SAFETY) + 1, plan


def test_an_injected_oom_retries_once_with_a_lower_budget(qwen, video_with_audio, monkeypatch):
    segment = SegmentRef(str(video_with_audio), 0.0, 4.0)
    conversation = [Turn("user", "what is here ?")]
    # a tiny model's activations are far below the fixed allowance; without it the budget binds on the media
    monkeypatch.setattr(qwen.planner, "costs", dataclasses.replace(qwen.planner.costs, fixed_bytes=0))
    free_bytes, top_plan = _binding_budget(qwen, conversation, [segment])
    monkeypatch.setattr(qwen.planner, "free_memory", lambda: free_bytes)

    seen_tokens = []
    real_generate = qwen.model.generate

    def oom_once(**kwargs):
        seen_tokens.append(int(kwargs["input_ids"].shape[1]))
        if len(seen_tokens) == 1:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_generate(**kwargs)

    monkeypatch.setattr(qwen.model, "generate", oom_once)
    pieces = list(qwen.answer(with_media(conversation, [segment]), OPTIONS))

    assert len(pieces) >= 3 and len(seen_tokens) == 2
    assert seen_tokens[1] < seen_tokens[0]  # the retry asked for less
    assert "lowered after running out of memory" in qwen.last_run.plan
    assert qwen.last_run.plan != top_plan.description


def test_a_second_oom_becomes_a_clear_error(qwen, video_with_audio, monkeypatch):
    def always_oom(**kwargs):
        raise torch.OutOfMemoryError("CUDA out of memory.")

    monkeypatch.setattr(qwen.model, "generate", always_oom)
    with pytest.raises(OutOfMemoryError, match="ran out of memory .RAM., even after lowering"):
        list(qwen.answer(with_media([Turn("user", "what is here ?")], [SegmentRef(str(video_with_audio), 0, 2)]), OPTIONS))


def test_four_bit_on_cpu_keeps_the_towers_and_head_in_16_bit(tiny_qwen_omni_dir, image_png):  # noqa: F811
    from bitsandbytes.nn import Linear4bit

    check_four_bit_on_cpu(tiny_qwen_omni_dir, image_png, {
        "model.language_model.layers.0.mlp.gate_proj": Linear4bit,
        "model.visual.blocks.0.mlp.gate_proj": torch.nn.Linear,
        "model.audio_tower.layers.0.fc1": torch.nn.Linear,
        "lm_head": torch.nn.Linear,
    })


def test_a_folder_missing_weights_is_refused_in_plain_words(tiny_qwen_omni_dir, tmp_path):  # noqa: F811
    import shutil

    from safetensors.torch import load_file, save_file

    from core_model.backends import ModelLoadError

    broken = tmp_path / "broken"
    shutil.copytree(tiny_qwen_omni_dir, broken)
    weights = load_file(broken / "model.safetensors")
    del weights["thinker.lm_head.weight"]
    save_file(weights, broken / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelLoadError, match="missing 1 of the model's weights"):
        load_backend(str(broken), device="cpu").load()


def test_memory_estimate_has_weights_and_a_typical_question(qwen):
    estimate = qwen.memory_estimate()
    assert estimate.device == "cpu"
    assert estimate.parts_bytes["weights"] > 0 and estimate.parts_bytes["kv_cache"] > 0
