"""Estimate how much memory a model folder needs, without loading it.

    count = count_parameters(folder)            # ParameterCount(quantizable=..., other=...) from safetensors headers
    estimate = estimate_memory(folder, device="cuda", load_in_4bit=True, dtype_bytes=2)
    estimate.total_bytes                         # weights + KV cache for a typical question + working memory

Parameters are counted from the safetensors headers (a few KB read per file); a folder without safetensors
falls back on building the model on torch's "meta" device from its config (no memory used). 2-D weights outside
the embeddings and output head are what 4-bit NF4 quantizes; the rest stays in the compute dtype.

The figures are estimates for planning ("will it fit"), not guarantees: the KV cache is sized for
``context_tokens`` tokens and the working memory (activations, vision encoding, CUDA context) is a rule of thumb.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from core_model.backends.base import MemoryEstimate, ModelLoadError
from core_model.backends.quantization import NF4_BYTES_PER_PARAM

DEFAULT_CONTEXT_TOKENS = 8192
"""Context the KV-cache estimate is sized for: 8 frames of a VLM at ~700 tokens each plus a conversation."""

_UNQUANTIZED_NAME_PARTS = ("embed", "lm_head", "norm", "patch", "pos")
"""Weights whose names contain one of these stay in the compute dtype under 4-bit loading."""


@dataclass(frozen=True)
class ParameterCount:
    """``quantizable``: parameters in 2-D weights that 4-bit NF4 quantizes; ``other``: all the rest."""

    quantizable: int
    other: int

    @property
    def total(self) -> int:
        return self.quantizable + self.other


def _is_quantizable(name: str, shape: list[int], unquantized_modules: Sequence[str] = ()) -> bool:
    """2-D weights outside embeddings, norms, the head and ``unquantized_modules`` (module-name prefixes; checkpoint
    names may lack the leading "model.", as older checkpoints do, so both spellings match)."""
    if len(shape) != 2 or not name.endswith(".weight") or any(p in name for p in _UNQUANTIZED_NAME_PARTS):
        return False
    for module in unquantized_modules:
        short = module.removeprefix("model.")
        if name.startswith((module + ".", short + ".")):
            return False
    return True


def _read_safetensors_header(path: Path) -> dict:
    with path.open("rb") as handle:
        (length,) = struct.unpack("<Q", handle.read(8))
        if length > 100_000_000:
            raise ModelLoadError(f"'{path.name}' does not look like a safetensors file.")
        return json.loads(handle.read(length))


def count_parameters(folder: Path, unquantized_modules: Sequence[str] = ()) -> ParameterCount:
    """Count the parameters of the model in ``folder`` (safetensors headers, else a meta-device build).

    ``unquantized_modules``: module-name prefixes that 4-bit loading keeps in 16-bit (counted as ``other``).
    """
    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        return _count_on_meta_device(Path(folder), unquantized_modules)
    quantizable = other = 0
    for path in files:
        try:
            header = _read_safetensors_header(path)
        except (OSError, ValueError, struct.error) as exc:
            raise ModelLoadError(f"'{path}' cannot be read: {exc}") from exc
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            size = math.prod(entry["shape"])
            if _is_quantizable(name, entry["shape"], unquantized_modules):
                quantizable += size
            else:
                other += size
    return ParameterCount(quantizable=quantizable, other=other)


def _count_on_meta_device(folder: Path, unquantized_modules: Sequence[str]) -> ParameterCount:
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText

    try:
        config = AutoConfig.from_pretrained(folder)
        with torch.device("meta"):
            model = AutoModelForImageTextToText.from_config(config)
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"Cannot tell the size of the model in '{folder}': {exc}") from exc
    quantizable = other = 0
    for name, param in model.named_parameters():
        if _is_quantizable(name, list(param.shape), unquantized_modules):
            quantizable += param.numel()
        else:
            other += param.numel()
    return ParameterCount(quantizable=quantizable, other=other)


def kv_cache_bytes(config: dict, context_tokens: int, dtype_bytes: int) -> int:
    """Bytes of KV cache for ``context_tokens`` tokens: 2 (K and V) x layers x kv_heads x head_dim x dtype."""
    config = config.get("thinker_config") or config  # a full Qwen2.5-Omni folder: the Thinker answers
    text = config.get("text_config") or config
    hidden = int(text.get("hidden_size", 0) or 0)
    layers = int(text.get("num_hidden_layers", 0) or 0)
    heads = int(text.get("num_attention_heads", 0) or 0) or 1
    kv_heads = int(text.get("num_key_value_heads", 0) or heads)
    head_dim = int(text.get("head_dim", 0) or (hidden // heads))
    return 2 * layers * kv_heads * head_dim * dtype_bytes * context_tokens


def estimate_memory(
    folder: Path,
    *,
    device: str,
    load_in_4bit: bool,
    dtype_bytes: int,
    context_tokens: int = DEFAULT_CONTEXT_TOKENS,
    unquantized_modules: Sequence[str] = (),
) -> MemoryEstimate:
    """Memory for the model in ``folder`` on ``device``: parts "weights", "kv_cache" and "working".

    ``dtype_bytes``: bytes per unquantized value (2 for bf16/fp16, 4 for fp32). ``unquantized_modules``: module
    prefixes 4-bit loading keeps in 16-bit (core_model.backends.quantization.skip_modules_for). "working" is 10% of
    the weights plus 0.5 GiB on a GPU (CUDA context, activations, the vision encoder's peak).
    """
    folder = Path(folder)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"'{folder}' has no readable config.json: {exc}") from exc
    count = count_parameters(folder, unquantized_modules)
    if load_in_4bit:
        weights = int(count.quantizable * NF4_BYTES_PER_PARAM) + count.other * dtype_bytes
    else:
        weights = count.total * dtype_bytes
    working = weights // 10 + (512 * 2**20 if device in ("cuda", "mps") else 0)
    return MemoryEstimate(
        device=device,
        parts_bytes={
            "weights": weights,
            "kv_cache": kv_cache_bytes(config, context_tokens, dtype_bytes),
            "working": working,
        },
    )
