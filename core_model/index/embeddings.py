"""SigLIP image and text embeddings for the index: keyframes in, words in, comparable vectors out.

    embedder = SiglipEmbedder("siglip2-base")            # a catalog id on disk, or a model folder
    embedder.load()                                       # optional: the first embed_* call loads
    image_vectors = embedder.embed_images(frames)         # uint8 [N, H, W, 3] -> float32 [N, D], L2-normalised
    text_vectors = embedder.embed_texts(["a dog on a beach"])   # -> float32 [1, D], L2-normalised
    image_vectors @ text_vectors[0]                       # cosine similarities: higher is a better match

The model is transformers' ``SiglipModel`` (``model_type`` "siglip": SigLIP and the fixed-resolution SigLIP 2
checkpoints) with its ``AutoProcessor``, from a local folder only: catalog ids are resolved by the model manager
(``vidi models pull siglip2-base``) and nothing is fetched here. Device and precision follow the one device policy
(core_model.backends.policy): float32 on the CPU, bf16/fp16 on a GPU, never 4-bit (the model is small).

Text is lower-cased and padded to the text model's full length: SigLIP pools the last position and was trained on
padded text (SigLIP 2 on lower-cased text). Frames and texts go through the model ``batch_size`` at a time, so
memory stays flat whatever the number of keyframes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from core_model.errors import ModelLoadError, UsageError, first_line

TextEmbedding = Callable[[Path, Sequence[str]], np.ndarray]
"""``(folder, texts) -> float32 [N, D]``: texts through the SigLIP in ``folder``. The CLI embeds in its own process
(core_model.index.keyframes.embed_texts_here); the window, which never imports torch, in a child process
(desktop_app/workers/text_embedder_process.py)."""

SUPPORTED_MODEL_TYPES = ("siglip",)
DEFAULT_BATCH_SIZE = 32
"""Frames or texts per forward pass: a 224-px SigLIP-base batch of 32 takes about 0.5 GB of activations."""


class SiglipEmbedder:
    """Embeds keyframes and texts into one space with a SigLIP model. Load once, embed many times."""

    def __init__(self, model: str | Path, *, device: str = "auto", batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        from core_model.device import requested_device

        if batch_size <= 0:
            raise UsageError(f"The embedding batch size must be positive, not {batch_size}.")
        self.model_ref = str(model)
        self.device = requested_device(device)
        self.batch_size = batch_size
        self.folder: Path | None = None
        self._model: Any = None
        self._processor: Any = None
        self._dtype: Any = None
        self._text_length = 64

    # ---- loading -------------------------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def dim(self) -> int:
        """The embeddings' length (768 for SigLIP base); loads the model's config if needed."""
        self.load()
        return int(self._model.config.text_config.hidden_size)

    def load(self) -> None:
        """Find the folder, check it holds a SigLIP model, load it on the device. ModelLoadError when it cannot."""
        if self._model is not None:
            return
        from core_model.backends import read_model_type, resolve_model_path
        from core_model.backends.policy import load_policy
        from core_model.device import ensure_device_present

        folder = resolve_model_path(self.model_ref)
        model_type = read_model_type(folder)
        if model_type not in SUPPORTED_MODEL_TYPES:
            raise ModelLoadError(f"'{folder}' holds a '{model_type or 'unknown'}' model, not a SigLIP embedding model "
                                 "(get one with 'vidi models pull siglip2-base').")
        ensure_device_present(self.device)
        policy = load_policy(self.device, False, skip_modules=())
        try:
            from transformers import AutoProcessor, SiglipModel

            processor = AutoProcessor.from_pretrained(folder)
            model = SiglipModel.from_pretrained(folder, **policy.from_pretrained_kwargs())
        except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
            raise ModelLoadError(f"The SigLIP model in '{folder}' cannot be loaded: {first_line(exc)}") from exc
        if getattr(processor, "tokenizer", None) is None or getattr(processor, "image_processor", None) is None:
            raise ModelLoadError(f"'{folder}' has no SigLIP processor (tokenizer and image processor files).")
        self._model = model.eval()
        self._processor = processor
        self._dtype = policy.dtype
        self._text_length = int(model.config.text_config.max_position_embeddings)
        self.folder = folder

    def unload(self) -> None:
        from core_model.device import free_device_memory

        self._model = self._processor = None
        free_device_memory(self.device)

    # ---- embedding -----------------------------------------------------------------------------------------

    def embed_images(self, frames: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """Embeddings of ``frames`` (uint8 [N, H, W, 3], or a list of [H, W, 3] of any sizes): float32 [N, D]."""
        frame_list = _frame_list(frames)
        self.load()
        if not frame_list:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        for start in range(0, len(frame_list), self.batch_size):
            inputs = self._processor(images=frame_list[start:start + self.batch_size], return_tensors="pt")
            pixel_values = inputs["pixel_values"].to(self._model.device, dtype=self._dtype)
            parts.append(self._features(self._model.get_image_features, pixel_values=pixel_values))
        return np.concatenate(parts)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts`` (lower-cased, cut to the text model's length): float32 [N, D]."""
        if isinstance(texts, str):
            raise UsageError("embed_texts takes a list of texts, not one string.")
        texts = [str(text).lower() for text in texts]
        self.load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), self.batch_size):
            inputs = self._processor(text=texts[start:start + self.batch_size], padding="max_length",
                                     max_length=self._text_length, truncation=True, return_tensors="pt")
            parts.append(self._features(self._model.get_text_features, input_ids=inputs["input_ids"].to(
                self._model.device)))
        return np.concatenate(parts)

    def _features(self, method, **inputs) -> np.ndarray:
        """Run ``method`` without gradients; its pooled output as L2-normalised float32 numpy [B, D]."""
        import torch

        with torch.inference_mode():
            output = method(**inputs)
        # transformers 5 returns a model output whose pooler_output is the embedding; older versions a tensor
        features = output if isinstance(output, torch.Tensor) else output.pooler_output
        features = features.float()
        features = features / features.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return features.cpu().numpy().astype(np.float32)


def _frame_list(frames) -> list[np.ndarray]:
    """``frames`` as a list of uint8 [H, W, 3] arrays; UsageError for anything else."""
    if isinstance(frames, np.ndarray):
        if frames.ndim == 3:
            raise UsageError("embed_images takes a batch of frames [N, H, W, 3]; wrap one frame as frames[None].")
        frame_list = list(frames)
    else:
        frame_list = [np.asarray(frame) for frame in frames]
    for frame in frame_list:
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8 or min(frame.shape[:2]) == 0:
            raise UsageError(f"A frame must be uint8 [H, W, 3] (RGB), not {frame.dtype} {tuple(frame.shape)}.")
    return frame_list
