"""Official Video-LLaMA checkpoints -> one Vidi model folder (videollama-spec.md §5, §6).

Reads the files as released, never running code from them (``torch.load(..., weights_only=True)``):

    --eva        eva_vit_g.pth                    raw EVA ViT-g state dict, 40 blocks (the 40th is dropped)
    --blip2      blip2_pretrained_flant5xxl.pth   {"model": ...}: frozen image Q-Former, query_tokens, ln_vision
    --vl         VL_*.pth (or Vicuna-era VL file) {"model": ..., "optimizer": ...}: video Q-Former, frame pos, llama_proj
    --al         AL_*.pth (optional)              {"model": ...}: audio Q-Former, audio pos, audio_llama_proj
    --imagebind  imagebind_huge.pth (with --al)   raw ImageBind-Huge state dict; only the audio modality is kept
    --llm        llama-2-*-chat-hf folder         copied as is (with its tokenizer) into OUT/llm

and writes OUT/config.json (every size inferred from the tensors' shapes), OUT/model.safetensors (encoders,
Q-Formers, projections) and OUT/llm/. Every key of every file is accounted for by the rename table below or by a
short list of parts known to be unused (EVA's last block, BLIP-2's text branch, the other ImageBind modalities, the
training buffers); anything else, anything missing, or a wrong shape stops the conversion with an error naming the
key and the file. Runtime code never imports this module.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from core_model.videollama.configuration_videollama import (
    LLM_SUBFOLDER,
    WEIGHTS_NAME,
    EvaVisionConfig,
    ImageBindAudioConfig,
    QFormerConfig,
    VideoLlamaConfig,
)

# Head widths of the released models: the number of heads is not in any shape, so it is width // head width.
EVA_HEAD_DIM = 88
QFORMER_HEAD_DIM = 64
IMAGEBIND_HEAD_DIM = 64
# ImageBind's audio stem sees a fixed 128 x 204 spectrogram (spec §1.6.1).
AUDIO_MEL_BINS = 128
AUDIO_FRAMES = 204


class ConversionError(Exception):
    """The given files cannot be turned into a Vidi folder; the message names the file (and key) at fault."""


# ----------------------------------------------------------------------------------------------------------------
# Reading checkpoints safely
# ----------------------------------------------------------------------------------------------------------------


def load_checkpoint(path: str | Path, role: str) -> dict:
    """torch.load with weights_only=True (no code from the file runs), errors turned into plain messages."""
    path = Path(path)
    if not path.is_file():
        raise ConversionError(f"{role} file '{path}' does not exist")
    if path.stat().st_size == 0:
        raise ConversionError(f"{role} file '{path}' is empty")
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            obj = torch.load(path, map_location="cpu", weights_only=True)  # legacy (non-zip) format: no mmap
    except pickle.UnpicklingError:
        # torch's own message is a paragraph of advice to load with weights_only=False, which is what must not happen
        raise ConversionError(
            f"{role} file '{path}' holds Python objects other than tensors and was refused "
            "(only plain weights are loaded, never code)"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConversionError(
            f"{role} file '{path}' is not a readable PyTorch checkpoint (truncated or corrupt?): {first_line}"
        ) from None
    if not isinstance(obj, dict):
        raise ConversionError(f"{role} file '{path}' holds a {type(obj).__name__}, not a state dict")
    return obj


def _model_dict(ckpt: dict, path: Path, role: str) -> dict[str, torch.Tensor]:
    """ckpt["model"] of a LAVIS-style training checkpoint."""
    model = ckpt.get("model")
    if not isinstance(model, dict):
        raise ConversionError(
            f"{role} file '{path}' has no 'model' entry (keys: {sorted(map(str, ckpt))[:6]}); "
            "is it the right file?"
        )
    return _tensors_only(model, path, role)


def _tensors_only(state: dict, path: Path, role: str) -> dict[str, torch.Tensor]:
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise ConversionError(f"{role} file '{path}': entry '{key}' is a {type(value).__name__}, not a tensor")
    return state


# ----------------------------------------------------------------------------------------------------------------
# The rename table: (file role, original key) -> our key, plus the one combine (EVA's q_bias/v_bias)
# ----------------------------------------------------------------------------------------------------------------


def eva_rename_keys(num_layers: int) -> list[tuple[str, str]]:
    # fmt: off
    keys = [
        ("cls_token", "vision_model.embeddings.class_embedding"),
        ("pos_embed", "vision_model.embeddings.position_embedding"),
        ("patch_embed.proj.weight", "vision_model.embeddings.patch_embedding.weight"),
        ("patch_embed.proj.bias", "vision_model.embeddings.patch_embedding.bias"),
    ]
    for i in range(num_layers):
        src, dst = f"blocks.{i}.", f"vision_model.encoder.layers.{i}."
        keys += [
            (src + "norm1.weight", dst + "layer_norm1.weight"), (src + "norm1.bias", dst + "layer_norm1.bias"),
            (src + "norm2.weight", dst + "layer_norm2.weight"), (src + "norm2.bias", dst + "layer_norm2.bias"),
            (src + "attn.qkv.weight", dst + "self_attn.qkv.weight"),
            (src + "attn.proj.weight", dst + "self_attn.projection.weight"),
            (src + "attn.proj.bias", dst + "self_attn.projection.bias"),
            (src + "mlp.fc1.weight", dst + "mlp.fc1.weight"), (src + "mlp.fc1.bias", dst + "mlp.fc1.bias"),
            (src + "mlp.fc2.weight", dst + "mlp.fc2.weight"), (src + "mlp.fc2.bias", dst + "mlp.fc2.bias"),
        ]
    # fmt: on
    return keys


def qformer_rename_keys(src_prefix: str, dst_prefix: str, config: QFormerConfig) -> list[tuple[str, str]]:
    """LAVIS BertModel (query branch) -> Blip2QFormerModel, e.g. 'video_Qformer.bert.' -> 'video_qformer.'."""
    keys = [(src_prefix + f"embeddings.LayerNorm.{p}", dst_prefix + f"layernorm.{p}") for p in ("weight", "bias")]
    for i in range(config.num_hidden_layers):
        src, dst = f"{src_prefix}encoder.layer.{i}.", f"{dst_prefix}encoder.layer.{i}."
        blocks = ["attention"] + (["crossattention"] if i % config.cross_attention_frequency == 0 else [])
        for block in blocks:
            for proj in ("query", "key", "value"):
                for p in ("weight", "bias"):
                    keys.append((f"{src}{block}.self.{proj}.{p}", f"{dst}{block}.attention.{proj}.{p}"))
            for sub in ("dense", "LayerNorm"):
                for p in ("weight", "bias"):
                    keys.append((f"{src}{block}.output.{sub}.{p}", f"{dst}{block}.output.{sub}.{p}"))
        for name in ("intermediate_query.dense", "output_query.dense", "output_query.LayerNorm"):
            for p in ("weight", "bias"):
                keys.append((f"{src}{name}.{p}", f"{dst}{name}.{p}"))
    return keys


def imagebind_audio_rename_keys(num_layers: int) -> list[tuple[str, str]]:
    pre, dst = "modality_preprocessors.audio.", "audio_encoder."
    # fmt: off
    keys = [
        (pre + "cls_token", dst + "cls_token"),
        (pre + "rgbt_stem.proj.weight", dst + "patch_embed.weight"),
        (pre + "rgbt_stem.norm_layer.weight", dst + "stem_norm.weight"),
        (pre + "rgbt_stem.norm_layer.bias", dst + "stem_norm.bias"),
        (pre + "pos_embedding_helper.pos_embed", dst + "pos_embed"),
        ("modality_heads.audio.0.weight", dst + "head_norm.weight"),
        ("modality_heads.audio.0.bias", dst + "head_norm.bias"),
        ("modality_heads.audio.2.weight", dst + "head_proj.weight"),
        ("modality_postprocessors.audio.1.log_logit_scale", dst + "log_logit_scale"),
    ]
    for i in range(num_layers):
        src, out = f"modality_trunks.audio.blocks.{i}.", f"{dst}blocks.{i}."
        for name in ("attn.in_proj_weight", "attn.in_proj_bias", "attn.bias_k", "attn.bias_v",
                     "attn.out_proj.weight", "attn.out_proj.bias", "norm_1.weight", "norm_1.bias",
                     "norm_2.weight", "norm_2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight",
                     "mlp.fc2.bias"):
            keys.append((src + name, out + name))
    # fmt: on
    return keys


# Keys of each file known to be unused by Video-LLaMA's inference path (spec §5.2, §5.3, §6.3).
_POSITION_IDS = r"(Qformer|video_Qformer|audio_Qformer)\.bert\.embeddings\.position_ids"
_INV_FREQ = r"llama_model\.model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq"
IGNORED_PATTERNS: dict[str, list[str]] = {
    "eva": [],  # filled per file: the last block
    "blip2": [
        r"Qformer\.bert\.embeddings\.(word_embeddings|position_embeddings)\..*",
        _POSITION_IDS,
        r"Qformer\.cls\..*",
        r"Qformer\.bert\.encoder\.layer\.\d+\.(intermediate|output)\..*",  # text-branch FFN
        r"(t5_proj|t5_model|vision_proj|text_proj|itm_head|visual_encoder)\..*",
        r"temp",
    ],
    "vl": [_POSITION_IDS, _INV_FREQ],
    "al": [
        _POSITION_IDS,
        _INV_FREQ,
        r"audio_encoder\.modality_preprocessors\.text\.mask",
        r"audio_encoder\.modality_postprocessors\.(audio|depth|thermal|imu)\.1\.log_logit_scale",
    ],
    "imagebind": [r"modality_(preprocessors|trunks|heads|postprocessors)\.(vision|text|depth|thermal|imu)\..*"],
}


# ----------------------------------------------------------------------------------------------------------------
# Sizes from shapes
# ----------------------------------------------------------------------------------------------------------------


def _get(state: dict, key: str, path: Path, role: str) -> torch.Tensor:
    if key not in state:
        raise ConversionError(f"{role} file '{path}': missing key '{key}'")
    return state[key]


def _count_layers(state: dict, pattern: str) -> int:
    indices = {int(m.group(1)) for key in state if (m := re.match(pattern, key))}
    return max(indices) + 1 if indices else 0


def _heads(width: int, head_dim: int, what: str, path: Path) -> int:
    if width % head_dim:
        raise ConversionError(f"'{path}': {what} width {width} is not a multiple of the head width {head_dim}")
    return width // head_dim


def infer_eva_config(state: dict, path: Path) -> EvaVisionConfig:
    pos = _get(state, "pos_embed", path, "EVA")
    patch = _get(state, "patch_embed.proj.weight", path, "EVA")
    width, num_positions, patch_size = pos.shape[-1], pos.shape[1], patch.shape[-1]
    grid = math.isqrt(num_positions - 1)
    if grid * grid != num_positions - 1:
        raise ConversionError(f"EVA file '{path}': pos_embed has {num_positions} positions, not 1 + a square grid")
    num_blocks = _count_layers(state, r"blocks\.(\d+)\.")
    if num_blocks < 2:
        raise ConversionError(f"EVA file '{path}' has {num_blocks} blocks; expected the 40 of eva_vit_g.pth")
    return EvaVisionConfig(
        hidden_size=width,
        intermediate_size=_get(state, "blocks.0.mlp.fc1.weight", path, "EVA").shape[0],
        num_hidden_layers=num_blocks - 1,  # BLIP-2 convention: the last block is never used
        num_attention_heads=_heads(width, EVA_HEAD_DIM, "EVA", path),
        image_size=grid * patch_size,
        patch_size=patch_size,
    )


def infer_qformer_config(state: dict, prefix: str, tokens_key: str, path: Path, role: str) -> QFormerConfig:
    tokens = _get(state, tokens_key, path, role)
    width = tokens.shape[-1]
    num_layers = _count_layers(state, re.escape(prefix) + r"encoder\.layer\.(\d+)\.")
    if num_layers == 0:
        raise ConversionError(f"{role} file '{path}': no '{prefix}encoder.layer.*' keys")
    cross = sorted(
        {int(m.group(1)) for k in state if (m := re.match(re.escape(prefix) + r"encoder\.layer\.(\d+)\.crossattention\.", k))}
    )
    if not cross or cross[0] != 0:
        raise ConversionError(f"{role} file '{path}': layer 0 of '{prefix}' has no cross-attention")
    frequency = cross[1] - cross[0] if len(cross) > 1 else num_layers
    if cross != list(range(0, num_layers, frequency)):
        raise ConversionError(f"{role} file '{path}': cross-attention layers {cross} are not evenly spaced")
    return QFormerConfig(
        hidden_size=width,
        num_hidden_layers=num_layers,
        num_attention_heads=_heads(width, QFORMER_HEAD_DIM, f"{prefix} Q-Former", path),
        intermediate_size=_get(state, f"{prefix}encoder.layer.0.intermediate_query.dense.weight", path, role).shape[0],
        cross_attention_frequency=frequency,
        num_query_tokens=tokens.shape[1],
    )


def infer_imagebind_audio_config(state: dict, path: Path) -> ImageBindAudioConfig:
    pre = "modality_preprocessors.audio."
    stem = _get(state, pre + "rgbt_stem.proj.weight", path, "ImageBind")
    pos = _get(state, pre + "pos_embedding_helper.pos_embed", path, "ImageBind")
    width, kernel, num_patches = stem.shape[0], stem.shape[-1], pos.shape[1] - 1
    stride = next(
        (
            s
            for s in range(kernel, 0, -1)
            if ((AUDIO_MEL_BINS - kernel) // s + 1) * ((AUDIO_FRAMES - kernel) // s + 1) == num_patches
        ),
        None,
    )
    if stride is None:
        raise ConversionError(
            f"ImageBind file '{path}': audio pos_embed has {num_patches} patches, which no stride of a "
            f"{kernel}x{kernel} stem gives on a {AUDIO_MEL_BINS}x{AUDIO_FRAMES} spectrogram"
        )
    return ImageBindAudioConfig(
        hidden_size=width,
        num_hidden_layers=_count_layers(state, r"modality_trunks\.audio\.blocks\.(\d+)\."),
        num_attention_heads=_heads(width, IMAGEBIND_HEAD_DIM, "ImageBind audio", path),
        intermediate_size=_get(state, "modality_trunks.audio.blocks.0.mlp.fc1.weight", path, "ImageBind").shape[0],
        output_size=_get(state, "modality_heads.audio.2.weight", path, "ImageBind").shape[0],
        kernel_size=kernel,
        stride=stride,
        num_mel_bins=AUDIO_MEL_BINS,
        target_frames=AUDIO_FRAMES,
    )


# ----------------------------------------------------------------------------------------------------------------
# The conversion
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class _Source:
    role: str  # "EVA", "BLIP-2", "VL", "AL", "ImageBind"
    path: Path
    state: dict[str, torch.Tensor]
    ignored: list[str]
    used: set[str] = field(default_factory=set)


def _take(
    out: dict[str, torch.Tensor], origin: dict[str, tuple[str, Path]], source: _Source, renames: list[tuple[str, str]]
) -> None:
    for src_key, dst_key in renames:
        out[dst_key] = _get(source.state, src_key, source.path, source.role)
        origin[dst_key] = (src_key, source.path)
        source.used.add(src_key)


def _check_leftovers(source: _Source) -> None:
    ignored = [re.compile(p) for p in source.ignored]
    for key in source.state:
        if key not in source.used and not any(p.fullmatch(key) for p in ignored):
            raise ConversionError(f"{source.role} file '{source.path}': unexpected key '{key}'")


def _role_check(state: dict, path: Path, given_as: str) -> None:
    """Catch files given in the wrong place (a VL file as --al, the BLIP-2 file as --vl, ...)."""
    has = {
        "VL": any(k.startswith("video_Qformer.") for k in state),
        "AL": any(k.startswith("audio_Qformer.") for k in state),
        "BLIP-2": any(k.startswith("Qformer.") for k in state) and "query_tokens" in state,
    }
    if not has[given_as]:
        actual = next((name for name, present in has.items() if present), None)
        what = f"a {actual} checkpoint" if actual else "not a Video-LLaMA checkpoint"
        wanted = {"VL": "video_Qformer.*", "AL": "audio_Qformer.*", "BLIP-2": "Qformer.* and query_tokens"}[given_as]
        raise ConversionError(f"'{path}' given as the {given_as} file is {what}: it has no {wanted} keys")


def convert_videollama(
    *,
    llm: str | Path,
    vl: str | Path,
    eva: str | Path,
    blip2: str | Path,
    out: str | Path,
    al: str | Path | None = None,
    imagebind: str | Path | None = None,
    conv_template: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Path:
    """Convert the official files into the Vidi folder ``out`` (which must not exist or be empty). Returns ``out``."""
    from safetensors.torch import save_file

    from core_model.videollama.modeling_videollama import ModelFilesError, VideoLlama, build_empty, check_state_dict

    say = progress or (lambda message: None)
    llm, out = Path(llm), Path(out)
    if (al is None) != (imagebind is None):
        raise ConversionError("the audio branch needs both --al (AL_*.pth) and --imagebind (imagebind_huge.pth)")
    if out.exists() and any(out.iterdir()):
        raise ConversionError(f"output folder '{out}' exists and is not empty")
    llm_config_path = llm / "config.json"
    if not llm_config_path.is_file():
        raise ConversionError(f"LLM folder '{llm}' has no config.json (give the llama-2-*-chat-hf folder)")
    text_config = json.loads(llm_config_path.read_text(encoding="utf-8"))

    # 1. read every file (weights only) and check each is what its flag says
    say(f"reading {eva}")
    eva_raw = load_checkpoint(eva, "EVA")
    if "model" in eva_raw or not any(str(k).startswith("blocks.") for k in eva_raw):
        raise ConversionError(f"'{eva}' given as the EVA file is not a raw EVA ViT state dict (eva_vit_g.pth): "
                              "it has no blocks.* keys")
    eva_src = _Source("EVA", Path(eva), _tensors_only(eva_raw, Path(eva), "EVA"), [])
    say(f"reading {blip2}")
    blip2_src = _Source("BLIP-2", Path(blip2), _model_dict(load_checkpoint(blip2, "BLIP-2"), Path(blip2), "BLIP-2"),
                        IGNORED_PATTERNS["blip2"])
    _role_check(blip2_src.state, blip2_src.path, "BLIP-2")
    say(f"reading {vl}")
    vl_src = _Source("VL", Path(vl), _model_dict(load_checkpoint(vl, "VL"), Path(vl), "VL"), IGNORED_PATTERNS["vl"])
    _role_check(vl_src.state, vl_src.path, "VL")
    al_src = ib_src = None
    if al is not None:
        say(f"reading {al}")
        al_src = _Source("AL", Path(al), _model_dict(load_checkpoint(al, "AL"), Path(al), "AL"), IGNORED_PATTERNS["al"])
        _role_check(al_src.state, al_src.path, "AL")
        say(f"reading {imagebind}")
        ib_raw = load_checkpoint(imagebind, "ImageBind")
        if not any(str(k).startswith("modality_trunks.audio.") for k in ib_raw):
            raise ConversionError(f"'{imagebind}' given as the ImageBind file is not imagebind_huge.pth: "
                                  "it has no modality_trunks.audio.* keys")
        ib_src = _Source("ImageBind", Path(imagebind), _tensors_only(ib_raw, Path(imagebind), "ImageBind"),
                         IGNORED_PATTERNS["imagebind"])

    # 2. sizes from shapes
    vision = infer_eva_config(eva_src.state, eva_src.path)
    eva_src.ignored = [rf"blocks\.{vision.num_hidden_layers}\..*"]  # the unused last block
    qformer = infer_qformer_config(blip2_src.state, "Qformer.bert.", "query_tokens", blip2_src.path, "BLIP-2")
    video_qformer = infer_qformer_config(vl_src.state, "video_Qformer.bert.", "video_query_tokens", vl_src.path, "VL")
    llm_hidden = _get(vl_src.state, "llama_proj.weight", vl_src.path, "VL").shape[0]
    if llm_hidden != text_config.get("hidden_size"):
        raise ConversionError(
            f"VL file '{vl}': llama_proj.weight gives an LLM width of {llm_hidden}, but '{llm_config_path}' says "
            f"hidden_size {text_config.get('hidden_size')} (7B is 4096, 13B is 5120): VL file and LLM do not match"
        )
    audio_config = audio_qformer = None
    if al_src is not None:
        audio_config = infer_imagebind_audio_config(ib_src.state, ib_src.path)
        audio_qformer = infer_qformer_config(al_src.state, "audio_Qformer.bert.", "audio_query_tokens", al_src.path, "AL")
    if conv_template is None:
        conv_template = guess_template(Path(vl), llm, text_config)
    say(f"chat template: {conv_template}")
    config = VideoLlamaConfig(
        vision_config=vision,
        qformer_config=qformer,
        video_qformer_config=video_qformer,
        audio_config=audio_config,
        audio_qformer_config=audio_qformer,
        text_config=text_config,
        max_frame_positions=_get(vl_src.state, "video_frame_position_embedding.weight", vl_src.path, "VL").shape[0],
        max_audio_clips=(
            _get(al_src.state, "audio_position_embedding.weight", al_src.path, "AL").shape[0] if al_src else 8
        ),
        conv_template=conv_template,
        source={
            "eva": eva_src.path.name,
            "blip2": blip2_src.path.name,
            "vl": vl_src.path.name,
            "al": al_src.path.name if al_src else None,
            "imagebind": ib_src.path.name if ib_src else None,
            "llm": llm.name,
        },
    )

    # 3. rename into our keys
    state: dict[str, torch.Tensor] = {}
    origin: dict[str, tuple[str, Path]] = {}
    _take(state, origin, eva_src, eva_rename_keys(vision.num_hidden_layers))
    for i in range(vision.num_hidden_layers):  # EVA: separate q/v biases, no k bias -> one qkv bias [q, 0, v]
        q_bias = _get(eva_src.state, f"blocks.{i}.attn.q_bias", eva_src.path, "EVA")
        v_bias = _get(eva_src.state, f"blocks.{i}.attn.v_bias", eva_src.path, "EVA")
        if q_bias.shape != v_bias.shape:
            raise ConversionError(f"EVA file '{eva}': blocks.{i}.attn.q_bias and v_bias differ in shape")
        key = f"vision_model.encoder.layers.{i}.self_attn.qkv.bias"
        state[key] = torch.cat([q_bias, torch.zeros_like(q_bias), v_bias])
        origin[key] = (f"blocks.{i}.attn.q_bias", eva_src.path)
        eva_src.used |= {f"blocks.{i}.attn.q_bias", f"blocks.{i}.attn.v_bias"}
    _take(state, origin, blip2_src, [("ln_vision.weight", "vision_model.post_layernorm.weight"),
                                     ("ln_vision.bias", "vision_model.post_layernorm.bias"),
                                     ("query_tokens", "query_tokens")])
    _take(state, origin, blip2_src, qformer_rename_keys("Qformer.bert.", "qformer.", qformer))
    _take(state, origin, vl_src, [("video_query_tokens", "video_query_tokens"),
                                  ("video_frame_position_embedding.weight", "video_frame_position_embedding.weight"),
                                  ("llama_proj.weight", "llama_proj.weight"), ("llama_proj.bias", "llama_proj.bias")])
    _take(state, origin, vl_src, qformer_rename_keys("video_Qformer.bert.", "video_qformer.", video_qformer))
    if al_src is not None:
        _take(state, origin, al_src, [("audio_query_tokens", "audio_query_tokens"),
                                      ("audio_position_embedding.weight", "audio_position_embedding.weight"),
                                      ("audio_llama_proj.weight", "audio_llama_proj.weight"),
                                      ("audio_llama_proj.bias", "audio_llama_proj.bias")])
        _take(state, origin, al_src, qformer_rename_keys("audio_Qformer.bert.", "audio_qformer.", audio_qformer))
        _take(state, origin, ib_src, imagebind_audio_rename_keys(audio_config.num_hidden_layers))
    for source in (eva_src, blip2_src, vl_src, al_src, ib_src):
        if source is not None:
            _check_leftovers(source)

    # 4. strict check against the model these sizes build (every key, every shape), naming the original key
    model = build_empty(VideoLlama, config)
    expected = model.state_dict()
    for key, tensor in state.items():
        if key in expected and tuple(tensor.shape) != tuple(expected[key].shape):
            src_key, src_path = origin[key]
            raise ConversionError(
                f"file '{src_path}': key '{src_key}' has shape {tuple(tensor.shape)}, "
                f"expected {tuple(expected[key].shape)} (from the sizes of the other files)"
            )
    try:
        check_state_dict(model, state, "converted weights")
    except ModelFilesError as exc:  # a rename-table bug, not a user error, but say it plainly
        raise ConversionError(str(exc)) from None

    # 5. write: weights, config, LLM folder (hard links where possible)
    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    say(f"writing {out / WEIGHTS_NAME}")
    save_file({k: v.detach().contiguous().clone() for k, v in state.items()}, str(tmp / WEIGHTS_NAME),
              metadata={"format": "pt", "producer": "vidi convert videollama"})
    config.save(tmp)
    say(f"copying {llm} -> {out / LLM_SUBFOLDER}")
    shutil.copytree(llm, tmp / LLM_SUBFOLDER, copy_function=_link_or_copy)
    if out.exists():
        out.rmdir()
    tmp.rename(out)
    return out


def guess_template(vl: Path, llm: Path, text_config: dict) -> str:
    """"vicuna" for the Vicuna-era files (Vicuna v0's 32001-token vocabulary, or 'vicuna' in a file name), else
    "llama_2" (Video-LLaMA-2). ``--template`` overrides the guess."""
    names = f"{vl.name} {llm.name}".lower().replace("-", "_")
    if text_config.get("vocab_size") == 32001 or "vicuna" in names:
        return "vicuna"
    return "llama_2"


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
