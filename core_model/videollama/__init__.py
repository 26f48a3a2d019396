"""Video-LLaMA (DAMO-NLP-SG, 2023) in Vidi: model, processor, converter, backend. No Qt.

Public API: ``VideoLlama.from_pretrained(path, device=..., dtype=..., load_in_4bit=...)`` with ``encode_video``,
``encode_audio``, ``embed_prompt``, ``.llm``, ``.tokenizer``; ``VideoLlamaProcessor.from_pretrained(path)``.
Heavy imports (torch, transformers) happen when these names are first used.
"""

from __future__ import annotations

__all__ = ["VideoLlama", "VideoLlamaConfig", "VideoLlamaProcessor"]


def __getattr__(name: str):
    if name == "VideoLlama":
        from core_model.videollama.modeling_videollama import VideoLlama

        return VideoLlama
    if name == "VideoLlamaConfig":
        from core_model.videollama.configuration_videollama import VideoLlamaConfig

        return VideoLlamaConfig
    if name == "VideoLlamaProcessor":
        from core_model.videollama.processing_videollama import VideoLlamaProcessor

        return VideoLlamaProcessor
    raise AttributeError(f"module 'core_model.videollama' has no attribute {name!r}")
