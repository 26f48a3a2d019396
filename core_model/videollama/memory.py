"""Memory planner for Video-LLaMA, from config.json alone (no weights are read or loaded).

    estimate = plan_from_config("~/models/video-llama-2-7b", device="cuda", load_in_4bit=True)
    estimate.parts_bytes        # {"vision encoder (EVA ViT-g)": ..., "LLM weights": ..., "KV cache": ...}
    print(format_plan(estimate))

Parts (bytes) and how each is counted:
- weights of every module, parameter counts from the config's sizes (same arithmetic as the shapes the converter
  writes): encoders in fp16 on CUDA (fp32 on the CPU); the LLM's decoder linear layers in NF4 with double
  quantisation (core_model.backends.quantization.NF4_BYTES_PER_PARAM, ~0.516 B/param) and its embeddings, norms and
  lm_head in bf16, or everything in the compute dtype when not quantised;
- the KV cache (fp16/bf16) for the media tokens (32 video + 8 audio), the prompt text and ``max_new_tokens``;
- activations: the EVA ViT's peak over the frames (residual stream, attention scores, MLP), the LLM's prefill peak
  (hidden states, MLP, one bf16-dequantised weight at a time for NF4, last-token logits in fp32);
- on CUDA, a fixed allowance for the CUDA context and the caching allocator's slack.
Only the ImageBind audio branch is counted (the converter keeps nothing else of ImageBind-Huge's 4.8 GB).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core_model.backends.base import MemoryEstimate
from core_model.videollama.configuration_videollama import (
    CONFIG_NAME,
    EvaVisionConfig,
    ImageBindAudioConfig,
    QFormerConfig,
    VideoLlamaConfig,
)

NF4_BYTES_PER_PARAM = 0.5 + 1 / 64 + 4 / (64 * 256)  # same as core_model.backends.quantization
CUDA_CONTEXT_BYTES = 500 * 2**20
"""CUDA context, cuBLAS workspace and allocator slack: outside torch's allocations but on the card."""
PROMPT_TEXT_TOKENS = 160
"""Text tokens of a first question with the audio+video message (the message alone is ~90 LLaMA tokens)."""


def eva_params(c: EvaVisionConfig) -> int:
    w, f = c.hidden_size, c.intermediate_size
    per_layer = 4 * w + 3 * w * w + 3 * w + w * w + w + w * f + f + f * w + w
    return 3 * c.patch_size**2 * w + w + w + c.num_positions * w + c.num_hidden_layers * per_layer + 2 * w


def qformer_params(c: QFormerConfig) -> int:
    d, e, f = c.hidden_size, c.encoder_hidden_size, c.intermediate_size
    self_attn = 3 * (d * d + d) + d * d + d + 2 * d
    cross = d * d + d + 2 * (e * d + d) + d * d + d + 2 * d
    ffn = d * f + f + f * d + d + 2 * d
    cross_layers = len(range(0, c.num_hidden_layers, c.cross_attention_frequency))
    return c.num_query_tokens * d + 2 * d + c.num_hidden_layers * (self_attn + ffn) + cross_layers * cross


def imagebind_audio_params(c: ImageBindAudioConfig) -> int:
    w, f = c.hidden_size, c.intermediate_size
    per_block = 3 * w * w + 3 * w + 2 * w + w * w + w + 4 * w + w * f + f + f * w + w
    stem = c.kernel_size**2 * w + 2 * w + w + (c.num_patches + 1) * w
    return stem + c.num_hidden_layers * per_block + 2 * w + w * c.output_size + 1


def llm_params(text: dict[str, Any]) -> tuple[int, int]:
    """(parameters NF4 quantises: the decoder's linear layers, the rest: embeddings, norms, lm_head)."""
    h, i, n = text["hidden_size"], text["intermediate_size"], text["num_hidden_layers"]
    heads = text["num_attention_heads"]
    kv = text.get("num_key_value_heads", heads)
    head_dim = text.get("head_dim") or h // heads
    linear = n * (h * heads * head_dim + 2 * h * kv * head_dim + heads * head_dim * h + 3 * h * i)
    vocab = text["vocab_size"]
    other = vocab * h * (1 if text.get("tie_word_embeddings") else 2) + (2 * n + 1) * h
    return linear, other


def _load(config_path_or_dict) -> VideoLlamaConfig:
    if isinstance(config_path_or_dict, VideoLlamaConfig):
        return config_path_or_dict
    if isinstance(config_path_or_dict, dict):
        return VideoLlamaConfig.from_dict(config_path_or_dict)
    path = Path(config_path_or_dict).expanduser()
    if path.is_dir():
        path = path / CONFIG_NAME
    return VideoLlamaConfig.from_dict(json.loads(path.read_text(encoding="utf-8")))


def plan_from_config(
    config_path_or_dict,
    device: str = "cuda",
    load_in_4bit: bool = True,
    *,
    num_frames: int = 8,
    with_audio: bool = True,
    prompt_text_tokens: int = PROMPT_TEXT_TOKENS,
    max_new_tokens: int = 300,
) -> MemoryEstimate:
    """Peak memory to answer one question about a segment (``num_frames`` frames, with audio when the model and
    ``with_audio`` allow), by part, on ``device`` ("cuda" or "cpu"), the LLM in NF4 when ``load_in_4bit``.

    ``config_path_or_dict``: a Vidi Video-LLaMA folder, its config.json, the dict in it, or a VideoLlamaConfig.
    """
    config = _load(config_path_or_dict)
    device = "cuda" if str(device).startswith("cuda") else str(device)
    enc_bytes = 2 if device == "cuda" else 4  # encoders fp16 on CUDA, fp32 on the CPU
    llm_bytes = 2 if (device == "cuda" or load_in_4bit) else 4
    text = config.text_config
    with_audio = with_audio and config.has_audio
    parts: dict[str, int] = {}

    # weights
    parts["vision encoder (EVA ViT-g)"] = eva_params(config.vision_config) * enc_bytes
    parts["image Q-Former (BLIP-2)"] = qformer_params(config.qformer_config) * enc_bytes
    llm_hidden = config.llm_hidden_size
    video_extra = config.max_frame_positions * config.qformer_config.hidden_size
    video_proj = config.video_qformer_config.hidden_size * llm_hidden + llm_hidden
    parts["video Q-Former + frame positions + llama_proj"] = (
        qformer_params(config.video_qformer_config) + video_extra + video_proj
    ) * enc_bytes
    if config.has_audio:
        parts["audio encoder (ImageBind audio only)"] = imagebind_audio_params(config.audio_config) * enc_bytes
        audio_extra = config.max_audio_clips * config.audio_config.output_size
        audio_proj = config.audio_qformer_config.hidden_size * llm_hidden + llm_hidden
        parts["audio Q-Former + clip positions + audio_llama_proj"] = (
            qformer_params(config.audio_qformer_config) + audio_extra + audio_proj
        ) * enc_bytes
    linear, other = llm_params(text)
    if load_in_4bit:
        parts["LLM weights"] = int(linear * NF4_BYTES_PER_PARAM) + other * 2
    else:
        parts["LLM weights"] = (linear + other) * llm_bytes

    # KV cache for media tokens + prompt + answer
    media_tokens = config.video_qformer_config.num_query_tokens
    if with_audio:
        media_tokens += config.audio_qformer_config.num_query_tokens
    tokens = media_tokens + prompt_text_tokens + max_new_tokens
    heads = text["num_attention_heads"]
    head_dim = text.get("head_dim") or text["hidden_size"] // heads
    kv_heads = text.get("num_key_value_heads", heads)
    parts["KV cache"] = 2 * text["num_hidden_layers"] * kv_heads * head_dim * tokens * llm_bytes

    # activations: the larger of the encoders' peak and the LLM's prefill peak (they do not overlap in time)
    v = config.vision_config
    seq = v.num_positions
    per_frame = seq * (4 * v.hidden_size + v.intermediate_size) + v.num_attention_heads * seq * seq
    encoder_peak = num_frames * per_frame * enc_bytes
    prefill = tokens - max_new_tokens
    h, i = text["hidden_size"], text["intermediate_size"]
    llm_peak = prefill * (4 * h + 3 * i) * llm_bytes + text["vocab_size"] * 4
    if load_in_4bit:
        llm_peak += max(h * i, h * h) * 2  # one weight dequantised to bf16 at a time
    parts["activations (peak of encoders / LLM prefill)"] = max(encoder_peak, llm_peak)
    if device == "cuda":
        parts["CUDA context + allocator slack"] = CUDA_CONTEXT_BYTES
    return MemoryEstimate(device=device, parts_bytes=parts)


def format_plan(estimate: MemoryEstimate, title: str = "") -> str:
    """A plain-text table: one line per part (MiB / GiB) and the total."""
    width = max(len(name) for name in estimate.parts_bytes) if estimate.parts_bytes else 10
    lines = [title] if title else []
    for name, size in estimate.parts_bytes.items():
        lines.append(f"  {name:<{width}}  {size / 2**20:9.1f} MiB")
    lines.append(f"  {'total on ' + estimate.device:<{width}}  {estimate.total_bytes / 2**30:9.2f} GiB")
    return "\n".join(lines)
