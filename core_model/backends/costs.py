"""What a model family's tokens cost: one ``ModelCosts`` per family, built from its config (core_model.budget plans
with them).

    costs = qwen_omni_costs(thinker_config)              # Qwen2.5-Omni: frames resized to multiples of 28 px
    costs = gemma4_costs(config)                         # Gemma 4: soft tokens per frame
    costs = measured_costs(config, count_video_tokens)   # any image-text-to-text model: its processor counts
    costs = videollama_costs(config)                     # Video-LLaMA: 32 query tokens per video

A family's "level" is its resolution knob (see core_model.budget.ModelCosts): a pixel side for Qwen and the generic
models, soft tokens per frame for Gemma 4, the fixed 224 px of Video-LLaMA.
"""

from __future__ import annotations

from typing import Callable

from core_model.budget import FrameCost, ModelCosts

def text_sizes(text: dict) -> tuple[int, int, int, int, int]:
    """(hidden, intermediate, layers, kv_heads, head_dim) of a decoder config dict."""
    hidden = int(text.get("hidden_size") or 0)
    intermediate = int(text.get("intermediate_size") or 4 * hidden)
    layers = int(text.get("num_hidden_layers") or 0)
    heads = int(text.get("num_attention_heads") or 1)
    kv_heads = int(text.get("num_key_value_heads") or heads)
    head_dim = int(text.get("head_dim") or hidden // heads)
    return hidden, intermediate, layers, kv_heads, head_dim


def prefill_bytes(hidden: int, intermediate: int, dtype_bytes: int) -> int:
    """Peak activations per prompt token in one prefill pass: a few hidden-sized buffers plus gate/up/act."""
    return (6 * hidden + 3 * intermediate) * dtype_bytes


def qwen_omni_costs(thinker: dict, dtype_bytes: int = 2) -> ModelCosts:
    """Costs of a Qwen2.5-Omni Thinker from its config dict (the ``thinker_config`` of a full Omni config).

    A frame is resized (aspect kept, sides multiples of 28) to at most ``level`` x ``level`` pixels; every 2 frames
    (the temporal patch) make (H/28) x (W/28) tokens, i.e. H x W / 1568 tokens per frame and 4x that in patches.
    """
    from transformers.models.qwen2_vl.image_processing_qwen2_vl import smart_resize

    text = thinker.get("text_config") or {}
    vision = thinker.get("vision_config") or {}
    hidden, intermediate, layers, kv_heads, head_dim = text_sizes(text)
    v_hidden = int(vision.get("hidden_size") or 1280)
    v_intermediate = int(vision.get("intermediate_size") or 3420)
    patch = int(vision.get("patch_size") or 14)
    merge = int(vision.get("spatial_merge_size") or 2)
    temporal = int(vision.get("temporal_patch_size") or 2)
    factor = patch * merge

    def frame_cost(width: int, height: int, level: int) -> FrameCost:
        h, w = smart_resize(height, width, factor=factor, min_pixels=4 * factor * factor, max_pixels=level * level)
        patches = (h // patch) * (w // patch) / temporal
        return FrameCost(tokens=patches / merge**2, patches=patches, width=w, height=h)

    return ModelCosts(
        family="qwen2_5_omni",
        kv_bytes_per_token=2 * layers * kv_heads * head_dim * dtype_bytes,
        prefill_bytes_per_token=prefill_bytes(hidden, intermediate, dtype_bytes),
        vision_bytes_per_patch=prefill_bytes(v_hidden, v_intermediate, dtype_bytes),
        frame_cost=frame_cost,
        levels=(448, 336, 280, 224),
        last_resort_levels=(168, 112),
        image_level=672,
        max_fps=2.0,
        frames_multiple=temporal,
        min_frames=temporal,
        context_limit=int(text.get("max_position_embeddings") or 32768),
    )


GEMMA4_VIDEO_SOFT_TOKENS = (140, 70)
"""Per-frame soft-token budgets tried for video, highest first (the processor accepts 70/140/280/560/1120; its
own default for video is 70, about 400 px; 140 is about 560 px)."""


def gemma4_costs(config: dict, dtype_bytes: int = 2) -> ModelCosts:
    """Costs of a Gemma 4 model (E2B, E4B, ...) from its config dict.

    A frame is resized (aspect kept) to at most ``level`` x 9 patches of 16 px, pooled 3x3 into at most ``level``
    soft tokens (``level`` is the processor's ``max_soft_tokens``).
    """
    from transformers.models.gemma4.processing_gemma4 import get_aspect_ratio_preserving_size

    text = config.get("text_config") or {}
    vision = config.get("vision_config") or {}
    hidden, intermediate, layers, kv_heads, head_dim = text_sizes(text)
    shared = int(text.get("num_kv_shared_layers") or 0)  # layers that reuse an earlier layer's cache
    v_hidden = int(vision.get("hidden_size") or 768)
    v_intermediate = int(vision.get("intermediate_size") or 3072)
    patch = int(vision.get("patch_size") or 16)
    pool = int(vision.get("pooling_kernel_size") or 3)

    def frame_cost(width: int, height: int, level: int) -> FrameCost:
        h, w = get_aspect_ratio_preserving_size(height, width, patch, level * pool * pool, pool)
        patches = (h // patch) * (w // patch)
        return FrameCost(tokens=patches / pool**2, patches=patches, width=w, height=h)

    return ModelCosts(
        family="gemma4",
        kv_bytes_per_token=2 * max(layers - shared, 1) * kv_heads * head_dim * dtype_bytes,
        prefill_bytes_per_token=prefill_bytes(hidden, intermediate, dtype_bytes),
        vision_bytes_per_patch=prefill_bytes(v_hidden, v_intermediate, dtype_bytes),
        frame_cost=frame_cost,
        levels=GEMMA4_VIDEO_SOFT_TOKENS,
        image_level=280,
        max_fps=1.0,
        context_limit=int(text.get("max_position_embeddings") or 131072),
    )


GENERIC_LEVELS = (768, 512, 384)
"""Longest side (px) a generic model's frames are decoded at, highest first; the processor resizes from there."""
GENERIC_LAST_RESORT_LEVELS = (256,)


def measured_costs(
    config: dict,
    count_video_tokens: Callable[[int, int], int],
    count_image_tokens: Callable[[int, int], int] | None = None,
    dtype_bytes: int = 2,
) -> ModelCosts:
    """Costs of any image-text-to-text model whose processor tells how many tokens a frame becomes.

    ``count_video_tokens(width, height)``: prompt tokens one video frame of that size becomes (the backend runs its
    processor once per size on a blank frame and caches it: exact for Qwen2-VL's resizing, SmolVLM2's fixed
    frames and LLaVA-OneVision's pooling alike). Frames are decoded with their longer side at most ``level`` px.
    Vision patches are taken as 4 per token (2x2 merging, the common case).
    """
    from core_model.media.frames import scaled_size

    text = config.get("text_config") or config
    vision = config.get("vision_config") or {}
    hidden, intermediate, layers, kv_heads, head_dim = text_sizes(text)
    v_hidden = int(vision.get("hidden_size") or 1152)
    v_intermediate = int(vision.get("intermediate_size") or 4 * v_hidden)

    def frame_cost(width: int, height: int, level: int) -> FrameCost:
        w, h = scaled_size(width, height, level)
        tokens = float(count_video_tokens(w, h))
        return FrameCost(tokens=tokens, patches=4 * tokens, width=w, height=h)

    image_cost = None
    if count_image_tokens is not None:

        def image_cost(width: int, height: int) -> FrameCost:
            tokens = float(count_image_tokens(width, height))
            return FrameCost(tokens=tokens, patches=4 * tokens, width=width, height=height)

    return ModelCosts(
        family=str(config.get("model_type") or "image-text-to-text"),
        kv_bytes_per_token=2 * layers * kv_heads * head_dim * dtype_bytes,
        prefill_bytes_per_token=prefill_bytes(hidden, intermediate, dtype_bytes),
        vision_bytes_per_patch=prefill_bytes(v_hidden, v_intermediate, dtype_bytes),
        frame_cost=frame_cost,
        image_cost=image_cost,
        levels=GENERIC_LEVELS,
        last_resort_levels=GENERIC_LAST_RESORT_LEVELS,
        image_level=max(GENERIC_LEVELS),
        max_fps=2.0,
        context_limit=int(text.get("max_position_embeddings") or 32768),
    )


def videollama_costs(llm: dict, vision: dict, max_frames: int, dtype_bytes: int = 2) -> ModelCosts:
    """Costs of Video-LLaMA: every frame through EVA (image_size / patch_size squared patches), 32 query tokens per
    video whatever its frame count (planned as 32 / max_frames per frame), at most ``max_frames`` frames (the
    frame position embedding's length)."""
    hidden, intermediate, layers, kv_heads, head_dim = text_sizes(llm)
    side = int(vision.get("image_size") or 224)
    patch = int(vision.get("patch_size") or 14)
    v_hidden = int(vision.get("hidden_size") or 1408)
    v_intermediate = int(vision.get("intermediate_size") or 6144)
    patches = (side // patch) ** 2 + 1

    def frame_cost(width: int, height: int, level: int) -> FrameCost:
        return FrameCost(tokens=32.0 / max(max_frames, 1), patches=float(patches), width=side, height=side)

    return ModelCosts(
        family="vidi_videollama",
        kv_bytes_per_token=2 * layers * kv_heads * head_dim * dtype_bytes,
        prefill_bytes_per_token=prefill_bytes(hidden, intermediate, dtype_bytes),
        vision_bytes_per_patch=prefill_bytes(v_hidden, v_intermediate, dtype_bytes),
        frame_cost=frame_cost,
        levels=(side,),
        image_level=side,
        max_fps=float(max_frames),  # the original takes its frames over the whole segment, however long
        context_limit=2000,
        max_frames=max_frames,
    )
