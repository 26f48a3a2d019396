"""Gemma 4 backend on a tiny random-weight copy of the real architecture (vision + audio towers; CPU, no network)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core_model.backends import SegmentRef, Turn, load_backend
from core_model.backends.gemma4 import AUDIO_ITEM_SAMPLES, Gemma4Backend, split_audio
from core_model.device import CPU_NOTICE
from tests.core_model.backends.omni_checks import (
    OPTIONS,
    answer_about_image_and_recording,
    answer_about_segment,
    check_four_bit_on_cpu,
    count_tokens,
    loaded_on_cpu,
)
from tests.fixtures.tiny_omni import tiny_gemma4_dir  # noqa: F401  (fixture)
from tests.asking import with_media


@pytest.fixture(scope="module")
def gemma(tiny_gemma4_dir):  # noqa: F811
    yield from loaded_on_cpu(tiny_gemma4_dir)


def test_registry_picks_the_gemma4_backend(gemma):
    from transformers import Gemma4ForConditionalGeneration

    assert isinstance(gemma, Gemma4Backend) and type(gemma.model) is Gemma4ForConditionalGeneration
    assert gemma.capabilities.video and gemma.capabilities.audio and gemma.capabilities.image
    assert gemma.notice == CPU_NOTICE and gemma.last_run.notice == CPU_NOTICE


def test_answers_about_a_segment_with_audio_streaming(gemma, video_with_audio):
    run = answer_about_segment(gemma, video_with_audio)
    assert run.num_new_tokens == 6 and run.used_audio and not run.stopped
    assert run.plan == "3 s at 1 fps, 624 px, with audio"  # 140 soft tokens per frame for a 320x240 video
    assert len(run.frame_timestamps_s) == 3 and all(1.0 <= t <= 4.0 for t in run.frame_timestamps_s)


def test_frames_carry_their_file_times_and_audio_is_its_own_item(gemma, video_with_audio):
    request = gemma.prepare(with_media([Turn("user", "what is said ?")], [SegmentRef(str(video_with_audio), 1.0, 4.0)]), OPTIONS)
    tokenizer = gemma.processor.tokenizer
    text = tokenizer.decode(request.inputs["input_ids"][0])
    assert "00 : 01" in text and "00 : 03" in text  # "mm:ss" of frames at ~1.5 s and ~3.5 s in the file
    segment_plan = request.plan.segments[0]
    # the planner's counts are the processor's: 3 frames of 624x480 = 39x30 patches, pooled 3x3 -> 130 tokens
    # each; 3 s of audio at 40 ms a token -> 75
    assert count_tokens(request.inputs, tokenizer, "<|video|>") == segment_plan.video_tokens == 3 * 130
    assert count_tokens(request.inputs, tokenizer, "<|audio|>") == segment_plan.audio_tokens == 75
    assert request.processor_kwargs["videos_kwargs"] == {"do_sample_frames": False, "max_soft_tokens": 140}
    assert request.inputs["pixel_values_videos"].shape[0] == 3


def test_greedy_overrides_the_sampling_generation_config(gemma, video_with_audio):
    assert gemma.model.generation_config.do_sample  # as released
    segment = SegmentRef(str(video_with_audio), 0.0, 2.0)
    conversation = [Turn("user", "what is here ?")]
    first = "".join(gemma.answer(with_media(conversation, [segment]), OPTIONS))
    second = "".join(gemma.answer(with_media(conversation, [segment]), OPTIONS))
    assert first == second
    assert gemma.prepare(with_media(conversation, [segment]), OPTIONS).generate_kwargs["do_sample"] is False


def test_two_turns_keep_the_first_segment_and_its_audio(gemma, video_with_audio):
    segment = SegmentRef(str(video_with_audio), 1.0, 4.0)
    first = [Turn("user", "what is in this video ?", (segment,))]
    answer = "".join(gemma.answer(with_media(first, [segment]), OPTIONS))
    second = first + [Turn("assistant", answer), Turn("user", "and the sound ?", (segment,))]
    request = gemma.prepare(with_media(second, [segment]), OPTIONS)  # the GUI attaches the segment again: used once
    tokenizer = gemma.processor.tokenizer
    assert count_tokens(request.inputs, tokenizer, "<|audio>") == 1
    assert count_tokens(request.inputs, tokenizer, "<|video|>") == 390
    assert len(list(gemma.answer(with_media(second, [segment]), OPTIONS))) >= 3


def test_answers_about_an_image_and_a_recording(gemma, image_png, audio_only):
    answer_about_image_and_recording(gemma, image_png, audio_only)


def test_long_audio_is_cut_into_30_second_items():
    wave = np.zeros(AUDIO_ITEM_SAMPLES * 2 + 16000, np.float32)
    assert [len(piece) for piece in split_audio(wave)] == [AUDIO_ITEM_SAMPLES, AUDIO_ITEM_SAMPLES, 16000]


def test_four_bit_on_cpu_keeps_towers_projections_and_head_in_16_bit(tiny_gemma4_dir, image_png):  # noqa: F811
    from bitsandbytes.nn import Linear4bit

    check_four_bit_on_cpu(tiny_gemma4_dir, image_png, {
        "model.language_model.layers.0.mlp.gate_proj": Linear4bit,
        "model.vision_tower.encoder.layers.0.mlp.gate_proj.linear": torch.nn.Linear,
        "model.audio_tower.layers.0.feed_forward1.ffw_layer_1.linear": torch.nn.Linear,
        "model.embed_vision.embedding_projection": torch.nn.Linear,
        "model.embed_audio.embedding_projection": torch.nn.Linear,
        "lm_head": torch.nn.Linear,
    })


def test_on_cuda_the_per_layer_embeddings_stay_on_the_cpu(gemma, monkeypatch):
    from core_model.backends import gemma4
    from core_model.backends import policy as omni

    monkeypatch.setattr(omni, "compute_dtype", lambda device: torch.bfloat16)
    policy = omni.load_policy("cuda", True, Gemma4Backend.skip_modules)
    kwargs = gemma4.per_layer_embeddings_on_cpu(policy.from_pretrained_kwargs())
    assert kwargs["device_map"] == {"model.language_model.embed_tokens_per_layer": "cpu", "": 0}
    assert kwargs["quantization_config"].llm_int8_enable_fp32_cpu_offload
    assert gemma4.has_per_layer_embeddings(gemma.config)


def test_the_cpu_lookup_hooks_give_the_same_rows(tiny_gemma4_dir):  # noqa: F811
    from core_model.backends.gemma4 import PER_LAYER_EMBEDDINGS, return_to_device

    backend = load_backend(str(tiny_gemma4_dir), device="cpu")
    backend.load()
    table = backend.model.get_submodule(PER_LAYER_EMBEDDINGS)
    ids = torch.tensor([[3, 5, 8]])
    before = table(ids)
    return_to_device(table, "cpu")  # on a GPU machine: "cuda:0"
    assert torch.equal(table(ids), before)
    backend.unload()
