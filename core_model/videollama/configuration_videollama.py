"""Typed composite configuration of Video-LLaMA (videollama-spec.md §1, §6).

One ``VideoLlamaConfig`` holds a sub-config per module; every size of the model comes from here, so the same code
runs the full-size Video-LLaMA-2 and the tiny copies the tests build. Derived sizes are wired once, in
``VideoLlamaConfig.__post_init__``: each Q-Former's ``encoder_hidden_size`` is the width of what it attends to
(image Q-Former <- EVA width, video Q-Former <- image Q-Former width, audio Q-Former <- ImageBind output width).
No module reads another module's config.

Defaults are the real Video-LLaMA-2-7B sizes (with audio). The LLM's own config (``text_config``) is the shipped
``llama-2-*-chat-hf/config.json``; the converter copies it here so that the memory planner needs only this file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

MODEL_TYPE = "vidi_videollama"
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
LLM_SUBFOLDER = "llm"


def _from_dict(cls, data: dict[str, Any] | None):
    """Build dataclass ``cls`` from ``data``, refusing unknown keys (a typo in config.json must not pass silently)."""
    if data is None:
        return cls()
    if isinstance(data, cls):
        return data
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown keys {unknown}")
    return cls(**data)


@dataclass
class EvaVisionConfig:
    """EVA-CLIP ViT-g/14 (LAVIS) as ``Blip2VisionModel`` sizes, plus ``ln_vision``'s eps (spec §1.1, §6.2)."""

    hidden_size: int = 1408
    intermediate_size: int = 6144  # int(1408 * 4.3637)
    num_hidden_layers: int = 39  # 40 blocks in eva_vit_g.pth; the 40th is never used
    num_attention_heads: int = 16  # head dim 88
    image_size: int = 224
    patch_size: int = 14
    layer_norm_eps: float = 1e-6  # norm1 / norm2 inside the blocks
    ln_vision_eps: float = 1e-5  # LAVIS ln_vision keeps LayerNorm's default eps

    def to_blip2(self):
        from transformers import Blip2VisionConfig

        return Blip2VisionConfig(
            hidden_size=self.hidden_size,
            intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            image_size=self.image_size,
            patch_size=self.patch_size,
            hidden_act="gelu",
            layer_norm_eps=self.layer_norm_eps,
            qkv_bias=True,
        )

    @property
    def num_positions(self) -> int:
        return (self.image_size // self.patch_size) ** 2 + 1


@dataclass
class QFormerConfig:
    """A LAVIS BERT-style Q-Former as ``Blip2QFormerModel`` sizes, with its learned queries (spec §1.2, §1.4, §1.6.4)."""

    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12  # head dim 64
    intermediate_size: int = 3072
    cross_attention_frequency: int = 2
    num_query_tokens: int = 32
    layer_norm_eps: float = 1e-12
    encoder_hidden_size: int = 0  # wired by VideoLlamaConfig.__post_init__

    def to_blip2(self):
        from transformers import Blip2QFormerConfig

        return Blip2QFormerConfig(
            hidden_size=self.hidden_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            intermediate_size=self.intermediate_size,
            cross_attention_frequency=self.cross_attention_frequency,
            encoder_hidden_size=self.encoder_hidden_size,
            layer_norm_eps=self.layer_norm_eps,
            hidden_act="gelu",
            hidden_dropout_prob=0.0,
            attention_probs_dropout_prob=0.0,
            use_qformer_text_input=False,
        )


@dataclass
class ImageBindAudioConfig:
    """The audio branch of ImageBind-Huge: stem, 12-block trunk, head, x20 postprocessing (spec §1.6.2)."""

    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12  # head dim 64
    intermediate_size: int = 3072
    output_size: int = 1024
    kernel_size: int = 16
    stride: int = 10
    num_mel_bins: int = 128
    target_frames: int = 204
    block_norm_eps: float = 1e-6
    stem_norm_eps: float = 1e-5
    head_norm_eps: float = 1e-6
    max_logit_scale: float = 100.0

    @property
    def num_patches(self) -> int:
        rows = (self.num_mel_bins - self.kernel_size) // self.stride + 1
        cols = (self.target_frames - self.kernel_size) // self.stride + 1
        return rows * cols  # 12 x 19 = 228 for the real sizes


@dataclass
class VideoLlamaConfig:
    """The whole model. ``text_config`` is the LLM's HF config dict (LlamaConfig), as shipped.

    Fields with ``num_``: counts. ``max_frame_positions``: frames the frame position embedding knows (32);
    ``max_audio_clips``: clips the audio position embedding knows (8).
    """

    vision_config: EvaVisionConfig = field(default_factory=EvaVisionConfig)
    qformer_config: QFormerConfig = field(default_factory=QFormerConfig)
    video_qformer_config: QFormerConfig = field(
        default_factory=lambda: QFormerConfig(num_hidden_layers=2, cross_attention_frequency=1, num_query_tokens=32)
    )
    audio_config: ImageBindAudioConfig | None = field(default_factory=ImageBindAudioConfig)
    audio_qformer_config: QFormerConfig | None = field(
        default_factory=lambda: QFormerConfig(num_hidden_layers=2, cross_attention_frequency=1, num_query_tokens=8)
    )
    text_config: dict[str, Any] = field(default_factory=dict)
    max_frame_positions: int = 32
    max_audio_clips: int = 8
    num_frames: int = 8  # frames the original demo samples
    num_audio_clips: int = 8  # 2-s clips the original demo cuts
    conv_template: str = "llama_2"  # "llama_2" (Video-LLaMA-2) or "vicuna" (the older Vicuna-era files)
    model_type: str = MODEL_TYPE
    source: dict[str, Any] = field(default_factory=dict)  # file names the converter read (information only)

    def __post_init__(self) -> None:
        self.vision_config = _from_dict(EvaVisionConfig, self.vision_config)
        self.qformer_config = _from_dict(QFormerConfig, self.qformer_config)
        self.video_qformer_config = _from_dict(QFormerConfig, self.video_qformer_config)
        if (self.audio_config is None) != (self.audio_qformer_config is None):
            raise ValueError("audio_config and audio_qformer_config must both be set or both be None")
        if self.audio_config is not None:
            self.audio_config = _from_dict(ImageBindAudioConfig, self.audio_config)
            self.audio_qformer_config = _from_dict(QFormerConfig, self.audio_qformer_config)
            self.audio_qformer_config.encoder_hidden_size = self.audio_config.output_size
        # Derived sizes, wired once: what each Q-Former cross-attends to.
        self.qformer_config.encoder_hidden_size = self.vision_config.hidden_size
        self.video_qformer_config.encoder_hidden_size = self.qformer_config.hidden_size
        if self.model_type != MODEL_TYPE:
            raise ValueError(f"model_type must be {MODEL_TYPE!r}, got {self.model_type!r}")
        if self.conv_template not in ("llama_2", "vicuna"):
            raise ValueError(f"conv_template must be 'llama_2' or 'vicuna', got {self.conv_template!r}")

    @property
    def has_audio(self) -> bool:
        return self.audio_config is not None

    @property
    def llm_hidden_size(self) -> int:
        return int(self.text_config.get("hidden_size", 4096))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "VideoLlamaConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"VideoLlamaConfig: unknown keys {unknown}")
        return cls(**data)

    @classmethod
    def from_json_file(cls, path: str | Path) -> "VideoLlamaConfig":
        path = Path(path)
        if path.is_dir():
            path = path / CONFIG_NAME
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / CONFIG_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")
        return path


def llama2_chat_text_config(size: str = "7b") -> dict[str, Any]:
    """The config.json of the shipped llama-2-{7b,13b}-chat-hf folder (sizes only; used without weights)."""
    sizes = {"7b": (4096, 11008, 32, 32), "13b": (5120, 13824, 40, 40)}
    hidden, intermediate, layers, heads = sizes[size]
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden,
        "intermediate_size": intermediate, "num_hidden_layers": layers, "num_attention_heads": heads,
        "num_key_value_heads": heads, "vocab_size": 32000, "max_position_embeddings": 4096, "rms_norm_eps": 1e-5,
        "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, "tie_word_embeddings": False,
        "torch_dtype": "float16",
    }


def videollama2_config(size: str = "7b", with_audio: bool = True) -> VideoLlamaConfig:
    """The full-size Video-LLaMA-2 (7B or 13B) as the converter would write it from the released files."""
    config = VideoLlamaConfig(text_config=llama2_chat_text_config(size))
    if not with_audio:
        config.audio_config = None
        config.audio_qformer_config = None
    return config
