#!/usr/bin/env python
"""Every catalog model at full size with random weights: load time, peak GPU memory, time to first token, tokens/s.

    python bench/gpu_check.py                  # a CUDA GPU with bitsandbytes: 4-bit NF4, one table (not a test)
    python bench/gpu_check.py --dry-run        # anywhere, no GPU: build each model on the meta device; parameter
                                               # counts and the planned 4-bit memory
    python bench/gpu_check.py --smoke          # the CPU: the GPU run's code on shrunken configs (checks the inputs)
    python bench/gpu_check.py --only gemma-4-e2b qwen2.5-omni-7b --new-tokens 64

No weights are downloaded (none exist on the lent GPU machines): each model is built from its configuration, written
out below from the released config.json files (override one with ``--configs DIR``, holding ``DIR/<id>/config.json``),
with random weights, which cost the same memory and compute as the real ones. Building happens on the GPU in bf16,
then every linear layer outside the backend's ``skip_modules`` becomes a bitsandbytes NF4 ``Linear4bit`` (double
quantization, bf16 compute), exactly what the backend's ``from_pretrained(quantization_config=...)`` loads. "load s"
is that build + quantization time (the real load also reads the files from disk).

The question then runs through the real backend code (core_model.backends: the budget planner, the family's
processor inputs, ``stream_generate``): the backend object is built on a folder holding only the config, the model
and a processor (the real processor classes around a word-level tokenizer made here, its special tokens at the
config's ids) are handed to it, and only decoding is synthetic: ``core_model.media`` is replaced by a stand-in that
"decodes" a 15-s 1280x720 segment at 30 fps (random pixels) with 15 s of 16-kHz audio (random noise). Omni models
get the segment's audio; video-only models get its frames. Peak memory is torch's ``max_memory_allocated`` from
the end of loading to the end of the answer (weights included; the CUDA context, ~0.5 GB, is not).

Placement follows the backend: Gemma 4's per-layer embedding table stays in the CPU's memory under CUDA (16-bit,
with the backend's own hooks), so its bytes are shown as "CPU GB" and are not in the GPU figures, in the GPU run
and in --dry-run alike. The catalog's ``memory_4bit_bytes`` (GPU) and ``cpu_memory_bytes`` come from --dry-run.

The Video-LLaMA row comes from ``bench/gpu_videollama.py``'s ``measure()`` when that script exists.

Needs only torch, transformers (>= 5.17; its processors need torchvision) and, for the GPU run, bitsandbytes.
"""

from __future__ import annotations

import argparse
import copy
import gc
import importlib
import importlib.util
import inspect
import json
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

GB = 1e9
SEGMENT_S = 15.0
VIDEO_W, VIDEO_H, VIDEO_FPS = 1280, 720, 30.0
SAMPLE_RATE = 16000
NUM_FRAMES = 16
"""Frames the user asks for (the GUI's frame count); the omni planner may take fewer when memory is short."""
QUESTION = "what happens in this video and what is said ?"

# ----------------------------------------------------------------------------------------------------------------
# The models, at full size (from the released config.json files), and shrunken for --smoke
# ----------------------------------------------------------------------------------------------------------------

_QWEN_VISION = {  # Qwen2.5-VL / Qwen2.5-Omni vision tower (675 M parameters)
    "depth": 32, "hidden_size": 1280, "intermediate_size": 3420, "num_heads": 16, "in_channels": 3,
    "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": 112,
    "fullatt_block_indexes": [7, 15, 23, 31], "hidden_act": "silu",
}
_QWEN_7B_TEXT = {
    "vocab_size": 152064, "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
    "num_attention_heads": 28, "num_key_value_heads": 4, "max_position_embeddings": 32768, "rms_norm_eps": 1e-6,
    "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]},
    "tie_word_embeddings": False,
}
_TINY_TEXT = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
              "num_key_value_heads": 2}
_TINY_QWEN_TEXT = {**_TINY_TEXT, "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                                     "mrope_section": [2, 3, 3]}}
_TINY_QWEN_VISION = {"depth": 2, "hidden_size": 64, "intermediate_size": 128, "num_heads": 4,
                     "fullatt_block_indexes": [1], "out_hidden_size": 64}
_SIGLIP_SO400M = {"hidden_size": 1152, "intermediate_size": 4304, "num_hidden_layers": 27,
                  "num_attention_heads": 16, "patch_size": 14, "image_size": 384}
_SIGLIP_B16_512 = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                   "num_attention_heads": 12, "patch_size": 16, "image_size": 512}
_TINY_VISION = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4}


def _gemma4_text(hidden, layers, intermediate, kv_heads, shared, double_wide):
    """Gemma 4's decoder: 4 sliding-window layers then 1 global, the last one global, per-layer embeddings."""
    layer_types = ["full_attention" if (i + 1) % 5 == 0 else "sliding_attention" for i in range(layers)]
    layer_types[-1] = "full_attention"
    return {
        "vocab_size": 262144, "hidden_size": hidden, "intermediate_size": intermediate, "num_hidden_layers": layers,
        "num_attention_heads": 8, "num_key_value_heads": kv_heads, "head_dim": 256, "global_head_dim": 512,
        "hidden_size_per_layer_input": 256, "vocab_size_per_layer_input": 262144, "num_kv_shared_layers": shared,
        "use_double_wide_mlp": double_wide, "sliding_window": 512, "layer_types": layer_types,
        "max_position_embeddings": 131072, "final_logit_softcapping": 30.0,
    }


_GEMMA4_TINY = {
    "text_config": {**_TINY_TEXT, "head_dim": 16, "global_head_dim": 16, "hidden_size_per_layer_input": 16,
                    "num_kv_shared_layers": 0, "sliding_window": 64,
                    "layer_types": ["sliding_attention", "full_attention"]},
    "vision_config": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                      "num_key_value_heads": 4, "head_dim": 16},
    "audio_config": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                     "subsampling_conv_channels": [128, 8], "output_proj_dims": 64},
}


@dataclass
class Spec:
    """One catalog model: its family, full-size config, the overrides that shrink it, and published figures."""

    id: str
    family: str  # "qwen_omni" | "gemma4" | "qwen_vl" | "smolvlm" | "llava_ov"
    config: dict
    tiny: dict
    published_params_b: float
    target_gb: float | None = None
    hears: bool = False


SPECS: list[Spec] = [
    Spec("qwen2.5-omni-7b", "qwen_omni", {
        "model_type": "qwen2_5_omni_thinker",
        "text_config": _QWEN_7B_TEXT,
        "vision_config": {**_QWEN_VISION, "out_hidden_size": 3584},
        "audio_config": {"d_model": 1280, "encoder_layers": 32, "encoder_attention_heads": 20,
                         "encoder_ffn_dim": 5120, "num_mel_bins": 128, "max_source_positions": 1500,
                         "n_window": 100, "output_dim": 3584},
        "audio_token_index": 151646, "image_token_index": 151655, "video_token_index": 151656,
        "audio_start_token_id": 151647, "audio_end_token_id": 151648,
        "vision_start_token_id": 151652, "vision_end_token_id": 151653,
        "position_id_per_seconds": 25, "seconds_per_chunk": 2,
    }, {
        "text_config": _TINY_QWEN_TEXT, "vision_config": _TINY_QWEN_VISION,
        "audio_config": {"d_model": 64, "encoder_layers": 2, "encoder_attention_heads": 4, "encoder_ffn_dim": 128,
                         "output_dim": 64, "n_window": 50},
    }, published_params_b=8.93, target_gb=10.0, hears=True),
    Spec("gemma-4-e4b", "gemma4", {
        "model_type": "gemma4",
        "text_config": _gemma4_text(2560, 42, 10240, 2, 18, False),
        "vision_config": {}, "audio_config": {"output_proj_dims": 2560},
    }, _GEMMA4_TINY, published_params_b=8.0, hears=True),
    Spec("gemma-4-e2b", "gemma4", {
        "model_type": "gemma4",
        "text_config": _gemma4_text(1536, 35, 6144, 1, 20, True),
        "vision_config": {}, "audio_config": {"output_proj_dims": 1536},
    }, _GEMMA4_TINY, published_params_b=5.1, target_gb=4.0, hears=True),
    Spec("qwen2.5-vl-7b", "qwen_vl", {
        "model_type": "qwen2_5_vl", "text_config": _QWEN_7B_TEXT,
        "vision_config": {**_QWEN_VISION, "out_hidden_size": 3584},
        "image_token_id": 151655, "video_token_id": 151656, "vision_start_token_id": 151652,
        "vision_end_token_id": 151653,
    }, {"text_config": _TINY_QWEN_TEXT, "vision_config": _TINY_QWEN_VISION}, published_params_b=8.29),
    Spec("qwen2.5-vl-3b", "qwen_vl", {
        "model_type": "qwen2_5_vl",
        "text_config": {**_QWEN_7B_TEXT, "vocab_size": 151936, "hidden_size": 2048, "intermediate_size": 11008,
                        "num_hidden_layers": 36, "num_attention_heads": 16, "num_key_value_heads": 2,
                        "tie_word_embeddings": True},
        "vision_config": {**_QWEN_VISION, "out_hidden_size": 2048},
        "image_token_id": 151655, "video_token_id": 151656, "vision_start_token_id": 151652,
        "vision_end_token_id": 151653, "tie_word_embeddings": True,
    }, {"text_config": _TINY_QWEN_TEXT, "vision_config": _TINY_QWEN_VISION}, published_params_b=3.75),
    Spec("smolvlm2-2.2b", "smolvlm", {
        "model_type": "smolvlm", "scale_factor": 3, "image_token_id": 49190,
        "text_config": {"model_type": "llama", "vocab_size": 49280, "hidden_size": 2048, "intermediate_size": 8192,
                        "num_hidden_layers": 24, "num_attention_heads": 32, "num_key_value_heads": 32,
                        "max_position_embeddings": 16384, "rope_parameters": {"rope_type": "default",
                                                                               "rope_theta": 273768.0}},
        "vision_config": _SIGLIP_SO400M,
    }, {"text_config": _TINY_TEXT, "vision_config": _TINY_VISION}, published_params_b=2.25),
    Spec("llava-onevision-0.5b", "llava_ov", {
        "model_type": "llava_onevision", "image_token_index": 151646, "video_token_index": 151647,
        "vision_feature_select_strategy": "full", "vision_feature_layer": -1,
        "text_config": {"model_type": "qwen2", "vocab_size": 152000, "hidden_size": 896, "intermediate_size": 4864,
                        "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
                        "max_position_embeddings": 32768, "tie_word_embeddings": True},
        "vision_config": {**_SIGLIP_SO400M, "model_type": "siglip_vision_model", "num_hidden_layers": 26},
        "tie_word_embeddings": True,
    }, {"text_config": _TINY_TEXT, "vision_config": _TINY_VISION}, published_params_b=0.89),
    Spec("smolvlm2-500m", "smolvlm", {
        "model_type": "smolvlm", "scale_factor": 4, "image_token_id": 49190,
        "text_config": {"model_type": "llama", "vocab_size": 49280, "hidden_size": 960, "intermediate_size": 2560,
                        "num_hidden_layers": 32, "num_attention_heads": 15, "num_key_value_heads": 5,
                        "max_position_embeddings": 8192, "tie_word_embeddings": False,
                        "rope_parameters": {"rope_type": "default", "rope_theta": 100000.0}},
        "vision_config": _SIGLIP_B16_512,
    }, {"text_config": _TINY_TEXT, "vision_config": _TINY_VISION}, published_params_b=0.51),
    Spec("smolvlm2-256m", "smolvlm", {
        "model_type": "smolvlm", "scale_factor": 4, "image_token_id": 49190,
        "text_config": {"model_type": "llama", "vocab_size": 49280, "hidden_size": 576, "intermediate_size": 1536,
                        "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3,
                        "max_position_embeddings": 8192, "tie_word_embeddings": False,
                        "rope_parameters": {"rope_type": "default", "rope_theta": 100000.0}},
        "vision_config": _SIGLIP_B16_512,
    }, {"text_config": _TINY_TEXT, "vision_config": _TINY_VISION}, published_params_b=0.26),
]


def _merge(base: dict, overrides: dict) -> dict:
    merged = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def config_dict(spec: Spec, tiny: bool, configs_dir: Path | None) -> dict:
    """The config for ``spec``: a real config.json from ``configs_dir`` when there is one, else the one above."""
    if configs_dir is not None and (configs_dir / spec.id / "config.json").is_file():
        data = json.loads((configs_dir / spec.id / "config.json").read_text())
        if spec.family == "qwen_omni" and data.get("model_type") == "qwen2_5_omni":
            data = {**data["thinker_config"], "model_type": "qwen2_5_omni_thinker"}
    else:
        data = copy.deepcopy(spec.config)
    if tiny:
        data = _merge(data, spec.tiny)
        if spec.family == "gemma4":
            data["audio_config"]["output_proj_dims"] = data["text_config"]["hidden_size"]
        if spec.family == "llava_ov":
            data["vision_config"]["num_hidden_layers"] = 2
    return data


# ----------------------------------------------------------------------------------------------------------------
# Families: model class, backend class, processor
# ----------------------------------------------------------------------------------------------------------------

FAMILY_CLASSES = {
    "qwen_omni": ("Qwen2_5OmniThinkerConfig", "Qwen2_5OmniThinkerForConditionalGeneration",
                  "core_model.backends.qwen_omni:QwenOmniBackend"),
    "gemma4": ("Gemma4Config", "Gemma4ForConditionalGeneration", "core_model.backends.gemma4:Gemma4Backend"),
    "qwen_vl": ("Qwen2_5_VLConfig", "Qwen2_5_VLForConditionalGeneration",
                "core_model.backends.hf_image_text:ImageTextToTextBackend"),
    "smolvlm": ("SmolVLMConfig", "SmolVLMForConditionalGeneration",
                "core_model.backends.hf_image_text:ImageTextToTextBackend"),
    "llava_ov": ("LlavaOnevisionConfig", "LlavaOnevisionForConditionalGeneration",
                 "core_model.backends.hf_image_text:ImageTextToTextBackend"),
}
GENERIC_SKIP_MODULES = ("lm_head",)
"""What the generic backend's ``nf4_config()`` keeps in 16-bit (transformers' default: the output head)."""


def build_config(spec: Spec, data: dict):
    import transformers

    config_class = getattr(transformers, FAMILY_CLASSES[spec.family][0])
    kwargs = {k: v for k, v in data.items() if k != "model_type"}
    return config_class(**kwargs)


def model_class(spec: Spec):
    import transformers

    return getattr(transformers, FAMILY_CLASSES[spec.family][1])


def backend_class(spec: Spec):
    module_name, class_name = FAMILY_CLASSES[spec.family][2].split(":")
    return getattr(importlib.import_module(module_name), class_name)


def skip_modules_for(spec: Spec) -> tuple[str, ...]:
    """The modules the backend keeps in 16-bit under 4-bit loading (read from the backend class)."""
    if spec.family in ("qwen_omni", "gemma4"):
        return tuple(backend_class(spec).skip_modules)
    return GENERIC_SKIP_MODULES


def cpu_modules_for(spec: Spec, data: dict) -> tuple[str, ...]:
    """The modules the backend keeps in the CPU's memory under CUDA (read from the backend's own rule).

    Gemma 4: its per-layer embedding table (``core_model.backends.gemma4.PER_LAYER_EMBEDDINGS``), a lookup that stays
    in 16-bit on the CPU while only the looked-up rows travel to the GPU. Every other family: nothing.
    """
    if spec.family != "gemma4":
        return ()
    from core_model.backends import gemma4

    return (gemma4.PER_LAYER_EMBEDDINGS,) if gemma4.has_per_layer_embeddings(data) else ()


def module_bytes(model, names: tuple[str, ...]) -> int:
    """Bytes of the parameters of the modules ``names`` (as built: 16-bit, never quantized)."""
    total = 0
    for name in names:
        module = model.get_submodule(name)
        total += sum(p.numel() * p.element_size() for p in module.parameters())
    return total


def place_like_backend(model, cpu_modules: tuple[str, ...], device: str) -> None:
    """Move ``cpu_modules`` to the CPU with the backend's hooks (inputs there, outputs back on ``device``)."""
    if not cpu_modules or device != "cuda":
        return
    from core_model.backends.gemma4 import return_to_device

    for name in cpu_modules:
        module = model.get_submodule(name)
        module.to("cpu")
        return_to_device(module, "cuda:0")


_WORDS = ("what happens in this video and is said the a of to it at from on with by for frame second minute "
          "audio video image user assistant model system you are good . , ? ! : 0 1 2 3 4 5 6 7 8 9").split()

_TEMPLATES = {
    "qwen_omni": (
        "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
        "{% for item in message['content'] %}"
        "{% if item['type'] == 'image' %}<|vision_bos|><|IMAGE|><|vision_eos|>"
        "{% elif item['type'] == 'audio' %}<|audio_bos|><|AUDIO|><|audio_eos|>"
        "{% elif item['type'] == 'video' %}<|vision_bos|><|VIDEO|><|vision_eos|>"
        "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    ),
    "gemma4": (
        "{{ bos_token }}{% for message in messages %}<|turn>{{ 'model' if message['role'] == 'assistant' "
        "else message['role'] }}\n{% for item in message['content'] %}"
        "{% if item['type'] == 'image' %}<|image|>{% elif item['type'] == 'video' %}<|video|>"
        "{% elif item['type'] == 'audio' %}<|audio|>{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}"
        "{% endfor %}<turn|>\n{% endfor %}{% if add_generation_prompt %}<|turn>model\n{% endif %}"
    ),
    "qwen_vl": (
        "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{% for item in message['content'] %}"
        "{% if item['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
        "{% elif item['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
        "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    ),
    "smolvlm": (
        "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}: "
        "{% for item in message['content'] %}{% if item['type'] == 'image' %}<image>"
        "{% elif item['type'] == 'video' %}<video>{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}"
        "{% endfor %}<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}"
    ),
    "llava_ov": (
        "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{% for item in message['content'] %}"
        "{% if item['type'] == 'image' %}<image>\n{% elif item['type'] == 'video' %}<video>\n"
        "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    ),
}


def _special_tokens(spec: Spec, config) -> tuple[dict[str, int], dict[str, str], dict[str, str]]:
    """(token -> id at the config's ids, named tokens for the tokenizer, bos/eos/pad) for ``spec``'s family."""
    vocab = _text_config(config).vocab_size
    free = iter(range(vocab - 1, 0, -1))  # ids for tokens the model never looks up specially

    def ids(*names: str) -> dict[str, int]:
        return {name: next(free) for name in names}

    if spec.family == "qwen_omni":
        table = {"<|AUDIO|>": config.audio_token_index, "<|IMAGE|>": config.image_token_index,
                 "<|VIDEO|>": config.video_token_index, "<|audio_bos|>": config.audio_start_token_id,
                 "<|audio_eos|>": config.audio_end_token_id, "<|vision_bos|>": config.vision_start_token_id,
                 "<|vision_eos|>": config.vision_end_token_id,
                 "<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645}
        named = {"image_token": "<|IMAGE|>", "audio_token": "<|AUDIO|>", "video_token": "<|VIDEO|>",
                 "vision_bos_token": "<|vision_bos|>", "vision_eos_token": "<|vision_eos|>",
                 "audio_bos_token": "<|audio_bos|>", "audio_eos_token": "<|audio_eos|>"}
        return table, named, {"pad_token": "<|endoftext|>", "eos_token": "<|im_end|>"}
    if spec.family == "gemma4":
        table = {"<|image|>": config.image_token_id, "<|video|>": config.video_token_id,
                 "<|audio|>": config.audio_token_id, "<|image>": config.boi_token_id,
                 "<image|>": config.eoi_token_id, "<|audio>": config.boa_token_id, "<audio|>": config.eoa_token_index,
                 "<pad>": 0, "<eos>": 1, "<bos>": 2, **ids("<|turn>", "<turn|>")}
        named = {"image_token": "<|image|>", "boi_token": "<|image>", "eoi_token": "<image|>",
                 "audio_token": "<|audio|>", "boa_token": "<|audio>", "eoa_token": "<audio|>"}
        return table, named, {"pad_token": "<pad>", "eos_token": "<turn|>", "bos_token": "<bos>"}
    if spec.family == "qwen_vl":
        table = {"<|image_pad|>": config.image_token_id, "<|video_pad|>": config.video_token_id,
                 "<|vision_start|>": config.vision_start_token_id, "<|vision_end|>": config.vision_end_token_id,
                 "<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645}
        return table, {"image_token": "<|image_pad|>", "video_token": "<|video_pad|>"}, {
            "pad_token": "<|endoftext|>", "eos_token": "<|im_end|>"}
    if spec.family == "smolvlm":
        table = {"<image>": config.image_token_id,
                 **ids("<fake_token_around_image>", "<global-img>", "<end_of_utterance>", "<|im_start|>", "<video>",
                       "<|endoftext|>")}
        named = {"image_token": "<image>", "fake_image_token": "<fake_token_around_image>",
                 "global_image_token": "<global-img>", "end_of_utterance_token": "<end_of_utterance>"}
        return table, named, {"pad_token": "<|endoftext|>", "eos_token": "<end_of_utterance>"}
    if spec.family == "llava_ov":
        table = {"<image>": config.image_token_index, "<video>": config.video_token_index,
                 "<|endoftext|>": 151643, "<|im_start|>": 151644, "<|im_end|>": 151645}
        return table, {"image_token": "<image>", "video_token": "<video>"}, {
            "pad_token": "<|endoftext|>", "eos_token": "<|im_end|>"}
    raise ValueError(spec.family)


def _text_config(config):
    return getattr(config, "text_config", None) or config


def build_tokenizer(spec: Spec, config):
    """A word-level tokenizer whose special tokens have the ids the model's config expects."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    table, named, roles = _special_tokens(spec, config)
    vocab = {word: 1000 + i for i, word in enumerate(_WORDS)}
    vocab.update(table)
    vocab["[UNK]"] = 999
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in table])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="[UNK]", extra_special_tokens=named,
                                   **roles)
    fast.chat_template = _TEMPLATES[spec.family]
    return fast


def build_processor(spec: Spec, config):
    """The family's real processor classes (their default settings) around ``build_tokenizer``'s tokenizer."""
    import transformers as tf

    tokenizer = build_tokenizer(spec, config)
    template = _TEMPLATES[spec.family]
    if spec.family == "qwen_omni":
        return tf.Qwen2_5OmniProcessor(
            image_processor=tf.Qwen2VLImageProcessor(), video_processor=tf.Qwen2VLVideoProcessor(),
            feature_extractor=tf.WhisperFeatureExtractor(feature_size=128), tokenizer=tokenizer,
            chat_template=template)
    if spec.family == "gemma4":
        return tf.Gemma4Processor(
            feature_extractor=tf.Gemma4AudioFeatureExtractor(), image_processor=tf.Gemma4ImageProcessor(),
            tokenizer=tokenizer, video_processor=tf.Gemma4VideoProcessor(), chat_template=template)
    if spec.family == "qwen_vl":
        return tf.Qwen2_5_VLProcessor(
            image_processor=tf.Qwen2VLImageProcessor(), video_processor=tf.Qwen2VLVideoProcessor(),
            tokenizer=tokenizer, chat_template=template)
    if spec.family == "smolvlm":
        from transformers.models.smolvlm import processing_smolvlm

        if processing_smolvlm.num2words is None:  # only spells the frame count in the prompt's text
            processing_smolvlm.num2words = lambda n: str(n)
        image_size = config.vision_config.image_size
        size = {"longest_edge": image_size}
        return tf.SmolVLMProcessor(
            image_processor=tf.SmolVLMImageProcessor(size=size, max_image_size=size, do_image_splitting=False),
            video_processor=tf.SmolVLMVideoProcessor(size=size, max_image_size=size),
            tokenizer=tokenizer, chat_template=template,
            image_seq_len=int((image_size // config.vision_config.patch_size) ** 2 / config.scale_factor**2))
    if spec.family == "llava_ov":
        vision = config.vision_config
        return tf.LlavaOnevisionProcessor(
            image_processor=tf.LlavaOnevisionImageProcessor(), video_processor=tf.LlavaOnevisionVideoProcessor(),
            tokenizer=tokenizer, chat_template=template,
            num_image_tokens=(vision.image_size // vision.patch_size) ** 2,
            vision_feature_select_strategy=config.vision_feature_select_strategy)
    raise ValueError(spec.family)


# ----------------------------------------------------------------------------------------------------------------
# Building the model: full size, random weights, 4-bit NF4 like the backend's from_pretrained
# ----------------------------------------------------------------------------------------------------------------


def build_model(spec: Spec, config, device: str, dtype, skip: tuple[str, ...] | None):
    """The model on ``device`` in ``dtype`` with random weights; linear layers outside ``skip`` in 4-bit NF4
    (``skip`` None: no quantization)."""
    import torch

    cls = model_class(spec)
    with torch.device(device):
        model = cls._from_config(config, dtype=dtype)  # built directly on the device; buffers computed there
    model.eval()
    if device != "meta":
        randomize(model)
    if skip is not None:
        quantize_nf4(model, skip, dtype, device)
    model.generation_config.eos_token_id = None  # random weights: never stop before max_new_tokens
    return model


def randomize(model) -> None:
    """Every floating parameter drawn from N(0, 0.02): the same compute as trained weights, and no uninitialized
    memory (which may hold NaNs) whatever initializers a transformers version runs. Buffers are left as built."""
    import torch

    with torch.no_grad():
        for param in model.parameters():
            if param.is_floating_point():
                param.normal_(0.0, 0.02)


def is_skipped(name: str, skip: tuple[str, ...]) -> bool:
    """transformers' rule for ``llm_int8_skip_modules``: a module whose name contains one of them stays 16-bit."""
    return any(part == name or part in name for part in skip)


def quantize_nf4(model, skip: tuple[str, ...], compute_dtype, device: str) -> int:
    """Replace each ``nn.Linear`` outside ``skip`` by a bitsandbytes NF4 ``Linear4bit`` (double quantization).

    Returns the number of layers quantized. The 16-bit weight of each layer is freed as soon as it is quantized.
    """
    import bitsandbytes as bnb
    import torch

    count = 0
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            full_name = f"{parent_name}.{child_name}" if parent_name else child_name
            if type(child) is not torch.nn.Linear or is_skipped(full_name, skip):
                continue
            layer = bnb.nn.Linear4bit(child.in_features, child.out_features, bias=child.bias is not None,
                                      compute_dtype=compute_dtype, compress_statistics=True, quant_type="nf4",
                                      device="meta")
            layer.weight = bnb.nn.Params4bit(child.weight.data, requires_grad=False, compress_statistics=True,
                                             quant_type="nf4").to(device)
            if child.bias is not None:
                layer.bias = torch.nn.Parameter(child.bias.data, requires_grad=False)
            setattr(parent, child_name, layer)
            child.weight.data = torch.empty(0, dtype=child.weight.dtype, device=child.weight.device)  # free it now
            count += 1
    return count


# ----------------------------------------------------------------------------------------------------------------
# Synthetic decoding: a stand-in for core_model.media
# ----------------------------------------------------------------------------------------------------------------


def install_synthetic_media(seed: int = 0):
    """Replace ``core_model.media`` by a module that 'decodes' a 15-s 720p segment with audio (random content)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    module = types.ModuleType("core_model.media")

    class MediaError(Exception):
        pass

    @dataclass(frozen=True)
    class MediaInfo:
        duration_s: float = SEGMENT_S
        fps: float = VIDEO_FPS
        num_frames: int = int(SEGMENT_S * VIDEO_FPS)
        width: int = VIDEO_W
        height: int = VIDEO_H
        rotation: int = 0
        has_audio: bool = True
        video_codec: str = "h264"
        audio_codec: str = "aac"

    def probe(path):
        return MediaInfo()

    def sample_frames(path, start_s, end_s, num_frames):
        start = 0.0 if start_s is None else float(start_s)
        end = SEGMENT_S if end_s is None else float(end_s)
        times = [start + (i + 0.5) * (end - start) / num_frames for i in range(num_frames)]
        frames = rng.integers(0, 256, size=(num_frames, VIDEO_H, VIDEO_W, 3), dtype=np.uint8)
        return frames, times

    def load_audio(path, start_s, end_s, sample_rate=SAMPLE_RATE):
        start = 0.0 if start_s is None else float(start_s)
        end = SEGMENT_S if end_s is None else float(end_s)
        return (rng.standard_normal(int((end - start) * sample_rate)) * 0.1).astype(np.float32)

    def load_image(path):
        return rng.integers(0, 256, size=(VIDEO_H, VIDEO_W, 3), dtype=np.uint8)

    module.MediaError, module.MediaInfo, module.probe = MediaError, MediaInfo, probe
    # Submodules that need only torch/torchaudio (the Kaldi fbank of Video-LLaMA's audio) still come from the real
    # package folder; only the decoders, which need PyAV/decord, are synthetic.
    module.__path__ = [str(REPO_ROOT / "core_model" / "media")]
    module.sample_frames, module.load_audio, module.load_image = sample_frames, load_audio, load_image
    sys.modules["core_model.media"] = module
    import core_model

    core_model.media = module
    return module


# ----------------------------------------------------------------------------------------------------------------
# Measuring one model
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class Row:
    id: str
    params_b: float = 0.0
    published_b: float = 0.0
    quantized_b: float = 0.0
    planned_weights_gb: float = 0.0
    """GPU weights: what the backend places on the GPU under CUDA."""
    planned_peak_gb: float = 0.0
    """GPU peak: GPU weights + the question's activations."""
    planned_cpu_gb: float = 0.0
    """Weights the backend keeps in the CPU's memory under CUDA (16-bit)."""
    load_s: float = 0.0
    weights_gb: float = 0.0
    peak_gb: float = 0.0
    prompt_tokens: int = 0
    plan: str = ""
    prepare_s: float = 0.0
    ttft_s: float = 0.0
    tokens_per_s: float = 0.0
    target_gb: float | None = None
    error: str = ""
    notes: list[str] = field(default_factory=list)


def count_parameters(model, skip: tuple[str, ...]) -> tuple[int, int]:
    """(all parameters, those in linear layers that 4-bit NF4 quantizes)."""
    import torch

    total = sum(p.numel() for p in model.parameters())
    quantized = sum(m.weight.numel() for name, m in model.named_modules()
                    if type(m) is torch.nn.Linear and not is_skipped(name, skip))
    return total, quantized


def make_backend(spec: Spec, data: dict, folder: Path, device: str, load_in_4bit: bool):
    (folder / "config.json").write_text(json.dumps(data))
    cls = backend_class(spec)
    return cls(folder, device=device, load_in_4bit=load_in_4bit)


def backend_dtype(backend):
    import torch

    from core_model.device import compute_dtype

    policy = getattr(backend, "policy", None)
    if policy is not None:
        return policy.dtype
    return torch.bfloat16 if backend.load_in_4bit else compute_dtype(backend.device)


def planned_activation_bytes(spec: Spec, data: dict, prompt_tokens: int, new_tokens: int) -> int:
    """KV cache + one prefill pass + the vision encoder's peak + slack, as core_model.budget plans it."""
    from core_model.backends import costs

    text = data.get("text_config") or {}
    hidden, intermediate, layers, kv_heads, head_dim = costs.text_sizes(text)
    if spec.family == "gemma4":
        layers = max(layers - int(text.get("num_kv_shared_layers") or 0), 1)
    kv = 2 * layers * kv_heads * head_dim * 2 * (prompt_tokens + new_tokens)
    prefill = costs.prefill_bytes(hidden, intermediate, 2) * prompt_tokens
    return kv + prefill + 384 * 2**20


def measure(spec: Spec, args, workdir: Path) -> Row:
    """Build ``spec``'s model, answer one question about the synthetic segment through the backend, time it."""
    import torch

    from core_model.backends.base import GenerationOptions, SegmentRef, Turn

    row = Row(spec.id, published_b=spec.published_params_b, target_gb=spec.target_gb)
    cuda = args.device == "cuda"
    data = config_dict(spec, args.smoke, args.configs)
    folder = workdir / spec.id
    folder.mkdir(parents=True, exist_ok=True)
    backend = make_backend(spec, data, folder, args.device, load_in_4bit=not args.no_4bit)
    config = build_config(spec, data)
    skip = skip_modules_for(spec) if backend.load_in_4bit else None
    dtype = backend_dtype(backend)

    if cuda:
        torch.cuda.synchronize()
    started = time.perf_counter()
    model = build_model(spec, config, args.device, dtype, None)
    total, quantized = count_parameters(model, skip or ())  # before quantization replaces the linear layers
    cpu_modules = cpu_modules_for(spec, data) if cuda else ()
    row.planned_cpu_gb = module_bytes(model, cpu_modules) / GB
    place_like_backend(model, cpu_modules, args.device)  # before quantizing: CPU modules stay 16-bit there too
    if skip is not None:
        quantize_nf4(model, skip + cpu_modules, dtype, args.device)
    if cuda:
        torch.cuda.synchronize()
    row.load_s = time.perf_counter() - started
    row.params_b, row.quantized_b = total / 1e9, (quantized if skip else 0) / 1e9
    processor = build_processor(spec, config)
    backend._model, backend._processor = model, processor
    if hasattr(backend, "_dtype"):
        backend._dtype = dtype
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        row.weights_gb = torch.cuda.memory_allocated() / GB

    segment = SegmentRef("synthetic-720p.mp4", 0.0, SEGMENT_S, include_audio=spec.hears)
    options = GenerationOptions(max_new_tokens=args.new_tokens, num_frames=NUM_FRAMES)
    pieces = list(backend.answer([Turn("user", QUESTION, (segment,))], options))
    run = backend.last_run
    if cuda:
        torch.cuda.synchronize()
        row.peak_gb = torch.cuda.max_memory_allocated() / GB
    row.plan = run.plan
    row.prepare_s = run.prepare_s
    row.ttft_s = run.first_token_s
    decode_s = run.total_s - run.first_token_s
    row.tokens_per_s = (run.num_new_tokens - 1) / decode_s if run.num_new_tokens > 1 and decode_s > 0 else 0.0
    row.prompt_tokens = _last_prompt_tokens(backend)
    if run.num_new_tokens != args.new_tokens:
        row.notes.append(f"{run.num_new_tokens} tokens generated (asked {args.new_tokens})")
    del pieces  # random weights: the text is noise (often empty: ids outside the small word vocabulary)
    backend._model = None
    del model, backend
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()
    return row


def _last_prompt_tokens(backend) -> int:
    """Prompt length of the last question: wrap the processor call once to see its input_ids."""
    return int(getattr(backend, "_bench_prompt_tokens", 0))


def count_prompt_tokens(backend_cls) -> None:
    """Make every backend of ``backend_cls`` remember its last prompt length (for the table)."""
    if getattr(backend_cls, "_bench_wrapped", False):
        return
    for name in ("_run_processor", "_prepare"):
        original = getattr(backend_cls, name, None)
        if original is None:
            continue

        def wrapper(self, *a, _original=original, **kw):
            result = _original(self, *a, **kw)
            inputs = result[0] if isinstance(result, tuple) else result
            ids = inputs.get("input_ids") if hasattr(inputs, "get") else None
            if ids is not None:
                self._bench_prompt_tokens = int(ids.shape[-1])
            return result

        setattr(backend_cls, name, wrapper)
    backend_cls._bench_wrapped = True


# ----------------------------------------------------------------------------------------------------------------
# Dry run: meta device, parameter counts, planned 4-bit memory
# ----------------------------------------------------------------------------------------------------------------


def dry_run(spec: Spec, args) -> Row:
    """Build ``spec`` on the meta device; count parameters; plan its 4-bit memory for the 15-s question.

    The figures follow the backend's placement under CUDA: modules it keeps in the CPU's memory (Gemma 4's
    per-layer embeddings, ``cpu_modules_for``) count in ``planned_cpu_gb``, not in the GPU weights or peak.
    """
    from core_model.backends.quantization import NF4_BYTES_PER_PARAM

    row = Row(spec.id, published_b=spec.published_params_b, target_gb=spec.target_gb)
    data = config_dict(spec, False, args.configs)
    config = build_config(spec, data)
    skip = skip_modules_for(spec)
    import torch

    model = build_model(spec, config, "meta", torch.bfloat16, None)
    total, quantized = count_parameters(model, skip)
    row.params_b, row.quantized_b = total / 1e9, quantized / 1e9
    cpu_bytes = module_bytes(model, cpu_modules_for(spec, data))  # a lookup table: no linear layer in it
    weights = quantized * NF4_BYTES_PER_PARAM + (total - quantized) * 2 - cpu_bytes
    row.planned_weights_gb = weights / GB
    row.planned_cpu_gb = cpu_bytes / GB
    row.prompt_tokens, activations, row.plan = plan_request(spec, data, config, args.new_tokens)
    row.planned_peak_gb = (weights + activations) / GB
    del model
    return row


def plan_request(spec: Spec, data: dict, config, new_tokens: int) -> tuple[int, int, str]:
    """(prompt tokens, activation bytes, plan in words) for the 15-s 720p question, without a model.

    Omni families: core_model.budget's planner with an 80-GB GPU's free memory (it then picks its top level, the
    worst case). Video-only families: the processor is run on the frames the generic backend takes.
    """
    import numpy as np

    from core_model import budget
    from core_model.backends import costs

    if spec.family in ("qwen_omni", "gemma4"):
        family = costs.qwen_omni_costs(data) if spec.family == "qwen_omni" else costs.gemma4_costs(data)
        planner = budget.BudgetPlanner(family, "cuda", lambda: int(80 * GB), lambda: int(128 * GB))
        plan = planner.plan([budget.SegmentSpec(SEGMENT_S, VIDEO_W, VIDEO_H, with_audio=spec.hears)],
                            max_frames=NUM_FRAMES, max_new_tokens=new_tokens)
        return plan.prompt_tokens, plan.bytes_needed, plan.description
    processor = build_processor(spec, config)
    frames = np.zeros((NUM_FRAMES, VIDEO_H, VIDEO_W, 3), dtype=np.uint8)
    messages = [{"role": "user", "content": [{"type": "video"}, {"type": "text", "text": QUESTION}]}]
    prompt = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    from transformers.video_utils import VideoMetadata

    metadata = VideoMetadata(total_num_frames=int(SEGMENT_S * VIDEO_FPS), fps=VIDEO_FPS, width=VIDEO_W,
                             height=VIDEO_H, duration=SEGMENT_S,
                             frames_indices=[int((i + 0.5) * SEGMENT_S * VIDEO_FPS / NUM_FRAMES)
                                             for i in range(NUM_FRAMES)])
    inputs = processor(text=[prompt], videos=[frames], return_tensors="pt",
                       videos_kwargs={"video_metadata": [metadata], "do_sample_frames": False})
    tokens = int(inputs["input_ids"].shape[-1])
    vision = data.get("vision_config") or {}
    patches = sum(int(v.numel() // v.shape[-1]) for k, v in inputs.items() if k.startswith("pixel_values")
                  and hasattr(v, "numel") and v.dim() == 2) or tokens
    v_hidden = int(vision.get("hidden_size") or 1152)
    v_inter = int(vision.get("intermediate_size") or 4 * v_hidden)
    activations = planned_activation_bytes(spec, data, tokens, new_tokens)
    activations += costs.prefill_bytes(v_hidden, v_inter, 2) * min(patches, tokens * 16)
    return tokens, activations, f"{NUM_FRAMES} frames (generic backend)"


# ----------------------------------------------------------------------------------------------------------------
# Video-LLaMA (bench/gpu_videollama.py)
# ----------------------------------------------------------------------------------------------------------------


def videollama_row(args) -> Row | None:
    """The Video-LLaMA row from ``bench/gpu_videollama.py``'s ``measure()``, when that script exists."""
    path = Path(__file__).with_name("gpu_videollama.py")
    if not path.is_file():
        return None
    row = Row("videollama2-7b", target_gb=8.0)  # no single published total for the composite model
    try:
        spec = importlib.util.spec_from_file_location("gpu_videollama", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["gpu_videollama"] = module  # dataclasses in it look their module up there
        spec.loader.exec_module(module)
        measure_fn = getattr(module, "measure")
        params = inspect.signature(measure_fn).parameters
        kwargs = {}
        if "dry_run" in params:
            kwargs["dry_run"] = args.dry_run
        if "device" in params:
            kwargs["device"] = args.device
        if "smoke" in params:
            kwargs["smoke"] = args.smoke
        if "new_tokens" in params:
            kwargs["new_tokens"] = args.new_tokens
        if args.dry_run and "dry_run" not in params:
            row.error = "gpu_videollama.measure() has no dry-run mode"
            return row
        result = measure_fn(**kwargs)
    except Exception as exc:  # noqa: BLE001  one model's failure must not lose the table
        row.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        return row
    values = result if isinstance(result, dict) else getattr(result, "__dict__", {})
    aliases = {
        "load_s": ("load_s", "load_time_s"), "peak_gb": ("peak_gb", "peak_memory_gb"),
        "ttft_s": ("ttft_s", "first_token_s", "time_to_first_token_s"),
        "tokens_per_s": ("tokens_per_s", "tok_per_s"), "params_b": ("params_b",),
        "prompt_tokens": ("prompt_tokens",), "planned_peak_gb": ("planned_peak_gb", "planned_gb"),
        "planned_weights_gb": ("weights_gb",),  # its planner's weights; the measured ones are "loaded_gb"
        "weights_gb": ("loaded_gb",),
    }
    for attr, keys in aliases.items():
        for key in keys:
            if key in values and values[key] is not None:
                setattr(row, attr, values[key])
                break
    for key in ("peak_bytes", "peak_memory_bytes"):
        if key in values and values[key]:
            row.peak_gb = values[key] / GB
    row.notes += [str(values[key]) for key in ("note", "device") if values.get(key)]
    row.plan = "gpu_videollama.measure()"
    return row


# ----------------------------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------------------------


def _target_text(row: Row, measured: float | None) -> str:
    if row.target_gb is None:
        return ""
    if not measured:
        return f"< {row.target_gb:g} GB"
    verdict = "ok" if measured < row.target_gb else "OVER"
    return f"< {row.target_gb:g} GB: {verdict}"


def print_table(rows: list[Row], args, device_name: str) -> None:
    if args.dry_run:
        header = ("model", "params B", "published B", "4-bit B", "GPU weights GB", "CPU GB", "prompt tok",
                  "planned GPU GB", "target", "plan")
        lines = [(r.id, f"{r.params_b:.2f}", f"{r.published_b:.2f}" if r.published_b else "-",
                  f"{r.quantized_b:.2f}" if r.quantized_b else "-",
                  f"{r.planned_weights_gb:.2f}", f"{r.planned_cpu_gb:.2f}" if r.planned_cpu_gb else "-",
                  str(r.prompt_tokens), f"{r.planned_peak_gb:.2f}",
                  _target_text(r, r.planned_peak_gb), r.error or r.plan) for r in rows]
        title = ("Dry run (meta device): parameters, and planned 4-bit NF4 memory for a question about a 15-s 720p "
                 "segment (omni: with its audio), placed as the backends place it under CUDA (CPU GB: weights kept "
                 "in the CPU's memory)")
    else:
        header = ("model", "params B", "load s", "weights GB", "CPU GB", "peak GB", "prompt tok", "prepare s",
                  "TTFT s", "tok/s", "target", "plan / notes")
        lines = [(r.id, f"{r.params_b:.2f}", f"{r.load_s:.1f}", f"{r.weights_gb:.2f}",
                  f"{r.planned_cpu_gb:.2f}" if r.planned_cpu_gb else "-", f"{r.peak_gb:.2f}",
                  str(r.prompt_tokens), f"{r.prepare_s:.2f}", f"{r.ttft_s:.2f}", f"{r.tokens_per_s:.1f}",
                  _target_text(r, r.peak_gb), r.error or "; ".join([r.plan] + r.notes)) for r in rows]
        mode = "smoke (tiny configs)" if args.smoke else ("4-bit NF4" if not args.no_4bit else "16-bit")
        title = (f"{device_name}, {mode}: one question about a 15-s 1280x720 segment (omni: with its audio), "
                 f"{args.new_tokens} new tokens, greedy")
    widths = [max(len(str(x)) for x in column) for column in zip(header, *lines)]
    print(title)
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for line in lines:
        print("| " + " | ".join(str(x).ljust(w) for x, w in zip(line, widths)) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="meta device: parameter counts and planned memory")
    parser.add_argument("--smoke", action="store_true", help="tiny configs on the CPU through the same code")
    parser.add_argument("--only", nargs="*", metavar="ID", help="catalog ids to run (default: all)")
    parser.add_argument("--new-tokens", type=int, default=64, help="tokens to generate per answer (default 64)")
    parser.add_argument("--no-4bit", action="store_true", help="16-bit instead of 4-bit NF4")
    parser.add_argument("--configs", type=Path, help="folder with <id>/config.json files overriding the built-in ones")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args(argv)

    import torch

    specs = [s for s in SPECS if not args.only or s.id in args.only]
    unknown = set(args.only or ()) - {s.id for s in SPECS} - {"videollama2-7b"}
    if unknown:
        parser.error(f"unknown model ids: {', '.join(sorted(unknown))}")
    if args.dry_run:
        args.device, device_name = "meta", "meta"
    elif args.smoke:
        args.device, device_name = "cpu", "CPU"
        torch.set_num_threads(max(1, min(4, torch.get_num_threads())))
    else:
        if not torch.cuda.is_available():
            parser.error("no CUDA GPU here: use --dry-run (planned figures) or --smoke (CPU check of the code)")
        args.device, device_name = "cuda", torch.cuda.get_device_name(0)

    rows: list[Row] = []
    if not args.dry_run:
        install_synthetic_media()
    with tempfile.TemporaryDirectory(prefix="vidi-gpu-check-") as tmp:
        for spec in specs:
            print(f"... {spec.id}", file=sys.stderr, flush=True)
            try:
                if args.dry_run:
                    rows.append(dry_run(spec, args))
                else:
                    count_prompt_tokens(backend_class(spec))
                    rows.append(measure(spec, args, Path(tmp)))
            except Exception as exc:  # noqa: BLE001  one model's failure must not lose the table
                message = str(exc).splitlines()[0] if str(exc) else ""
                rows.append(Row(spec.id, published_b=spec.published_params_b, target_gb=spec.target_gb,
                                error=f"{type(exc).__name__}: {message}"[:160]))
                gc.collect()
                if args.device == "cuda":
                    torch.cuda.empty_cache()
    if not args.only or "videollama2-7b" in args.only:
        row = videollama_row(args)
        if row is not None:
            rows.append(row)
    print_table(rows, args, device_name)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=2))
    return 1 if any(r.error for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
