"""4-bit NF4 loading with bitsandbytes: when to use it and the one configuration Vidi uses.

    if use_4bit(device, load_in_4bit):                       # None -> 4-bit on CUDA only
        kwargs["quantization_config"] = nf4_config(skip_modules=["lm_head"])

NF4 with double quantization and bf16 compute (the QLoRA recipe) keeps a 7B model's weights near 4.5 GB. Layers
named in ``skip_modules`` stay in the compute dtype: backends list the parts that are small but sensitive
(projections into the language model, the output head). bitsandbytes also runs NF4 on the CPU (slowly), which
the tests use; it does not run on Apple's MPS.
"""

from __future__ import annotations

from typing import Sequence

from core_model.backends.base import ModelLoadError
from core_model.device import DeviceKind, bitsandbytes_available


def use_4bit(device: DeviceKind, load_in_4bit: bool | None) -> bool:
    """Whether to load in 4-bit: as asked, or by default on CUDA only. Raises ModelLoadError where impossible."""
    wanted = device == "cuda" if load_in_4bit is None else bool(load_in_4bit)
    if not wanted:
        return False
    if device == "mps":
        raise ModelLoadError("4-bit loading needs an NVIDIA GPU or the CPU; it does not work on Apple's MPS.")
    if not bitsandbytes_available():
        raise ModelLoadError("4-bit loading needs the 'bitsandbytes' package, which is not installed.")
    return True


def nf4_config(skip_modules: Sequence[str] | None = None):
    """The BitsAndBytesConfig for 4-bit NF4, double quantization, bf16 compute.

    ``skip_modules``: module names (or name fragments) to keep unquantized, e.g. ["lm_head", "visual.merger"].
    None keeps transformers' default (the output head stays unquantized).
    """
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=torch.bfloat16,
        llm_int8_skip_modules=list(skip_modules) if skip_modules is not None else None,
    )


TOWER_MODULES_BY_MODEL_TYPE: dict[str, tuple[str, ...]] = {
    # the vision (and audio) encoders and their projections into the language model, named from the model's root
    # (read from transformers 5.24's classes). 4-bit hurts them most and saves least: keep them in 16-bit.
    "qwen2_vl": ("model.visual",),
    "qwen2_5_vl": ("model.visual",),
    "qwen3_vl": ("model.visual",),
    "llava": ("model.vision_tower", "model.multi_modal_projector"),
    "llava_onevision": ("model.vision_tower", "model.multi_modal_projector"),
    "llava_next_video": ("model.vision_tower", "model.multi_modal_projector", "model.vision_resampler"),
    "smolvlm": ("model.vision_model", "model.connector"),
    "idefics3": ("model.vision_model", "model.connector"),
    "qwen2_5_omni": ("model.visual", "model.audio_tower"),  # the Thinker (Qwen2_5OmniThinkerForConditionalGeneration)
    "qwen2_5_omni_thinker": ("model.visual", "model.audio_tower"),
    "gemma4": ("model.vision_tower", "model.audio_tower", "model.embed_vision", "model.embed_audio"),
}


def skip_modules_for(model_type: str) -> list[str]:
    """Modules to keep in 16-bit under 4-bit loading: the family's towers (see above) and the LM head."""
    return [*TOWER_MODULES_BY_MODEL_TYPE.get(model_type, ()), "lm_head"]


NF4_BYTES_PER_PARAM = 0.5 + 1 / 64 + 4 / (64 * 256)
"""Bytes per quantized weight: 4 bits, plus one 8-bit absmax per 64 weights (double quantization), plus one
fp32 second-level scale per 256 blocks. ~0.516."""
