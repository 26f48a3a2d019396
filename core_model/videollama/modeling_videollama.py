"""Video-LLaMA (DAMO-NLP-SG, 2023) on transformers classes (videollama-spec.md §1, §2.1, §6).

Reference: DAMO-NLP-SG/Video-LLaMA ``video_llama/models/video_llama.py`` (encode_videoQformer_visual,
encode_audioQformer) and ``conversation/conversation_video.py`` (Chat.get_context_emb). Composition:

    video  [B, T, 3, H, W]
      -> EVA ViT-g (Blip2VisionModel, 39 blocks) + ln_vision (its post_layernorm, eps 1e-5)   [B*T, 257, 1408]
      -> frozen BLIP-2 Q-Former (Blip2QFormerModel, 32 queries)                               [B*T, 32, 768]
      -> + frame position embedding (per frame, broadcast over queries), flatten frames       [B, T*32, 768]
      -> video Q-Former (2 layers, 32 queries)                                                [B, 32, 768]
      -> llama_proj                                                                           [B, 32, llm_hidden]
    audio  [B, S, 1, 128, 204]
      -> ImageBind-Huge audio encoder (L2-normalised x 20)                                    [B, S, 1024]
      -> + audio position embedding                                                           [B, S, 1024]
      -> audio Q-Former (2 layers, 8 queries)                                                 [B, 8, 768]
      -> audio_llama_proj                                                                     [B, 8, llm_hidden]
    prompt with one "<ImageHere>" per media item -> pieces tokenised apart (BOS on the first only), embedded and
    interleaved with the media tokens -> inputs_embeds [1, L, llm_hidden] for LlamaForCausalLM.generate.

The LLM (``.llm``) is kept outside this module's parameters on purpose: ``VideoLlama.to(...)`` moves and casts the
encoders only (fp16 on CUDA), while the LLM keeps its own placement and quantisation (4-bit NF4).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from core_model.videollama.configuration_videollama import (
    CONFIG_NAME,
    LLM_SUBFOLDER,
    WEIGHTS_NAME,
    QFormerConfig,
    VideoLlamaConfig,
)
from core_model.videollama.modeling_imagebind_audio import ImageBindAudioEncoder

IMAGE_PLACEHOLDER = "<ImageHere>"


class ModelFilesError(Exception):
    """A Vidi Video-LLaMA folder is missing a file or holds weights that do not fit its config."""


def _qformer(config: QFormerConfig):
    from transformers import Blip2QFormerModel

    return Blip2QFormerModel(config.to_blip2())


class VideoLlama(nn.Module):
    """Encoders, Q-Formers and projections of Video-LLaMA, plus the LLM and tokenizer as plain attributes."""

    def __init__(self, config: VideoLlamaConfig, llm=None, tokenizer=None):
        super().__init__()
        from transformers import Blip2VisionModel

        self.config = config
        qf, vqf = config.qformer_config, config.video_qformer_config
        llm_hidden = config.llm_hidden_size

        # visual branch
        self.vision_model = Blip2VisionModel(config.vision_config.to_blip2())
        self.vision_model.post_layernorm.eps = config.vision_config.ln_vision_eps  # LAVIS ln_vision: eps 1e-5
        self.query_tokens = nn.Parameter(torch.zeros(1, qf.num_query_tokens, qf.hidden_size))
        self.qformer = _qformer(qf)
        self.video_frame_position_embedding = nn.Embedding(config.max_frame_positions, qf.hidden_size)
        self.video_query_tokens = nn.Parameter(torch.zeros(1, vqf.num_query_tokens, vqf.hidden_size))
        self.video_qformer = _qformer(vqf)
        self.llama_proj = nn.Linear(vqf.hidden_size, llm_hidden)

        # audio branch (absent in VL-only folders)
        if config.has_audio:
            aqf = config.audio_qformer_config
            self.audio_encoder = ImageBindAudioEncoder(config.audio_config)
            self.audio_position_embedding = nn.Embedding(config.max_audio_clips, config.audio_config.output_size)
            self.audio_query_tokens = nn.Parameter(torch.zeros(1, aqf.num_query_tokens, aqf.hidden_size))
            self.audio_qformer = _qformer(aqf)
            self.audio_llama_proj = nn.Linear(aqf.hidden_size, llm_hidden)

        # Not registered as submodules (see module docstring).
        object.__setattr__(self, "llm", llm)
        object.__setattr__(self, "tokenizer", tokenizer)

    # ------------------------------------------------------------------------------------------------------------
    # Encoders
    # ------------------------------------------------------------------------------------------------------------

    @property
    def encoder_device(self) -> torch.device:
        return self.llama_proj.weight.device

    @property
    def encoder_dtype(self) -> torch.dtype:
        return self.llama_proj.weight.dtype

    def _autocast(self):
        """fp16 encoders on CUDA run under fp16 autocast, as the original's maybe_autocast: LayerNorms and softmax
        then compute in fp32 (ln_vision included), matmuls in fp16. A no-op for fp32 (the CPU)."""
        enabled = self.encoder_device.type == "cuda" and self.encoder_dtype == torch.float16
        return torch.autocast(device_type="cuda", dtype=torch.float16, enabled=enabled)

    def encode_video(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """pixel_values [B, T, 3, H, W] (CLIP-normalised; an image is T = 1) -> video tokens [B, Qv, llm_hidden]."""
        batch, num_frames = pixel_values.shape[:2]
        if num_frames > self.config.max_frame_positions:
            raise ValueError(f"{num_frames} frames given; the model knows at most {self.config.max_frame_positions}")
        pixel_values = pixel_values.to(self.encoder_device, self.encoder_dtype)
        with self._autocast():
            return self._encode_video(pixel_values, batch, num_frames)

    def _encode_video(self, pixel_values: torch.Tensor, batch: int, num_frames: int) -> torch.Tensor:
        # step 1: EVA ViT on every frame, then ln_vision
        frames = pixel_values.reshape(batch * num_frames, *pixel_values.shape[2:])  # [B*T, 3, H, W]
        image_embeds = self.vision_model(pixel_values=frames).last_hidden_state  # [B*T, 1 + patches, Dv]
        # step 2: the frozen BLIP-2 Q-Former on each frame separately
        queries = self.query_tokens.expand(image_embeds.shape[0], -1, -1)  # [B*T, Q, Dq]
        frame_tokens = self.qformer(query_embeds=queries, encoder_hidden_states=image_embeds).last_hidden_state
        num_queries, width = frame_tokens.shape[1:]
        frame_tokens = frame_tokens.reshape(batch, num_frames, num_queries, width)  # [B, T, Q, Dq]
        # step 3: frame position t added to all Q outputs of frame t, then frames flattened
        positions = torch.arange(num_frames, device=frame_tokens.device)
        frame_positions = self.video_frame_position_embedding(positions)  # [T, Dq]
        frame_tokens = frame_tokens + frame_positions[None, :, None, :]  # [B, T, Q, Dq]
        frame_tokens = frame_tokens.reshape(batch, num_frames * num_queries, width)  # [B, T*Q, Dq]
        # step 4: video Q-Former over all frames' tokens
        video_queries = self.video_query_tokens.expand(batch, -1, -1)  # [B, Qv, Dq]
        video_tokens = self.video_qformer(
            query_embeds=video_queries, encoder_hidden_states=frame_tokens
        ).last_hidden_state  # [B, Qv, Dq]
        # step 5: into the LLM's width
        return self.llama_proj(video_tokens)  # [B, Qv, llm_hidden]

    def encode_audio(self, features: torch.Tensor) -> torch.Tensor:
        """features [B, S, 1, mel, frames] (normalised fbank clips) -> audio tokens [B, Qa, llm_hidden]."""
        if not self.config.has_audio:
            raise ValueError("this model folder has no audio branch (converted without --al/--imagebind)")
        batch, num_clips = features.shape[:2]
        if num_clips > self.config.max_audio_clips:
            raise ValueError(f"{num_clips} audio clips given; the model knows at most {self.config.max_audio_clips}")
        features = features.to(self.encoder_device, self.encoder_dtype)
        with self._autocast():
            return self._encode_audio(features, batch, num_clips)

    def _encode_audio(self, features: torch.Tensor, batch: int, num_clips: int) -> torch.Tensor:
        # step 1: ImageBind audio embedding of every clip (unit vector x 20)
        clips = features.reshape(batch * num_clips, *features.shape[2:])  # [B*S, 1, mel, frames]
        clip_embeds = self.audio_encoder(clips).reshape(batch, num_clips, -1)  # [B, S, 1024]
        # step 2: clip position embedding
        positions = torch.arange(num_clips, device=clip_embeds.device)
        clip_embeds = clip_embeds + self.audio_position_embedding(positions)[None]  # [B, S, 1024]
        # step 3: audio Q-Former
        audio_queries = self.audio_query_tokens.expand(batch, -1, -1)  # [B, Qa, Dq]
        audio_tokens = self.audio_qformer(
            query_embeds=audio_queries, encoder_hidden_states=clip_embeds
        ).last_hidden_state  # [B, Qa, Dq]
        # step 4: into the LLM's width
        return self.audio_llama_proj(audio_tokens)  # [B, Qa, llm_hidden]

    # ------------------------------------------------------------------------------------------------------------
    # Prompt splicing (Chat.get_context_emb)
    # ------------------------------------------------------------------------------------------------------------

    def prompt_piece_ids(self, prompt: str) -> list[list[int]]:
        """Token ids of each text piece between placeholders; BOS only on the first piece, as the original."""
        pieces = prompt.split(IMAGE_PLACEHOLDER)
        return [
            list(self.tokenizer(piece, add_special_tokens=(index == 0))["input_ids"])
            for index, piece in enumerate(pieces)
        ]

    def embed_prompt(self, prompt: str, media_embeds: Sequence[torch.Tensor]) -> torch.Tensor:
        """A prompt with one ``<ImageHere>`` per item of ``media_embeds`` (each [1, N_i, llm_hidden]) ->
        inputs_embeds [1, L, llm_hidden] in the LLM's embedding dtype, L = sum(piece tokens) + sum(N_i)."""
        piece_ids = self.prompt_piece_ids(prompt)
        if len(piece_ids) != len(media_embeds) + 1:
            raise ValueError(
                f"the prompt has {len(piece_ids) - 1} {IMAGE_PLACEHOLDER} placeholders "
                f"but {len(media_embeds)} media embeddings were given"
            )
        embed_tokens = self.llm.get_input_embeddings()
        device, dtype = embed_tokens.weight.device, embed_tokens.weight.dtype
        parts: list[torch.Tensor] = []
        for index, ids in enumerate(piece_ids):
            ids_tensor = torch.tensor([ids], dtype=torch.long, device=device)  # [1, n_i]
            parts.append(embed_tokens(ids_tensor))  # [1, n_i, llm_hidden]
            if index < len(media_embeds):
                media = media_embeds[index]
                if media.ndim != 3 or media.shape[0] != 1 or media.shape[-1] != embed_tokens.weight.shape[1]:
                    raise ValueError(
                        f"media embedding {index} has shape {tuple(media.shape)}; "
                        f"expected [1, N, {embed_tokens.weight.shape[1]}]"
                    )
                parts.append(media.to(device, dtype))  # [1, N_i, llm_hidden]
        return torch.cat(parts, dim=1)  # [1, L, llm_hidden]

    # ------------------------------------------------------------------------------------------------------------
    # Loading a converted Vidi folder
    # ------------------------------------------------------------------------------------------------------------

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        *,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        load_in_4bit: bool = False,
    ) -> "VideoLlama":
        """Load a folder written by ``core_model.videollama.conversion``: config.json, model.safetensors, llm/.

        ``dtype``: the encoders' dtype, and the LLM's when not quantised. ``load_in_4bit``: the LLM in NF4 with
        double quantisation (bitsandbytes), bf16 compute and bf16 for its unquantised parts.
        """
        folder = Path(path)
        config = VideoLlamaConfig.from_json_file(_require(folder / CONFIG_NAME))
        model = cls.from_config_and_weights(config, _require(folder / WEIGHTS_NAME), device=device, dtype=dtype)
        llm, tokenizer = load_llm(folder / LLM_SUBFOLDER, device=device, dtype=dtype, load_in_4bit=load_in_4bit)
        object.__setattr__(model, "llm", llm)
        object.__setattr__(model, "tokenizer", tokenizer)
        return model

    @classmethod
    def from_config_and_weights(
        cls, config: VideoLlamaConfig, weights_path: Path, *, device="cpu", dtype=torch.float32
    ) -> "VideoLlama":
        """The encoders built on the meta device, then given the safetensors weights (strict: every key, shape)."""
        from safetensors.torch import load_file

        model = build_empty(cls, config)
        state = load_file(str(weights_path))
        check_state_dict(model, state, str(weights_path))
        model.load_state_dict(state, strict=True, assign=True)
        return model.to(device=device, dtype=dtype).eval().requires_grad_(False)


def build_empty(cls, config: VideoLlamaConfig, **kwargs):
    """``cls(config)`` with its parameters on the meta device (no memory, no random init); buffers stay real.

    accelerate's init_empty_weights patches parameter registration only. (``with torch.device("meta")`` would
    also put every tensor created meanwhile on the meta device, including module-level constants of libraries
    first imported during construction.)
    """
    from accelerate import init_empty_weights

    with init_empty_weights(include_buffers=False):
        return cls(config, **kwargs)


def check_state_dict(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Raise ModelFilesError naming the first missing/unexpected key or wrong shape of ``state`` for ``model``."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing:
        raise ModelFilesError(f"{source}: missing key '{missing[0]}' ({len(missing)} missing in all)")
    if unexpected:
        raise ModelFilesError(f"{source}: unexpected key '{unexpected[0]}' ({len(unexpected)} unexpected in all)")
    for key, tensor in state.items():
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise ModelFilesError(
                f"{source}: key '{key}' has shape {tuple(tensor.shape)}, expected {tuple(expected[key].shape)}"
            )


def _require(path: Path) -> Path:
    if not path.is_file():
        raise ModelFilesError(f"'{path}' is missing: not a converted Video-LLaMA folder (see 'vidi convert videollama')")
    return path


def quantization_config_4bit():
    """NF4 with double quantisation, bf16 compute (the shared recipe in core_model.backends.quantization)."""
    from core_model.backends.quantization import nf4_config

    return nf4_config()  # transformers keeps lm_head unquantised by default


def load_llm(folder: Path, *, device="cpu", dtype=torch.float32, load_in_4bit=False):
    """LlamaForCausalLM and its tokenizer from ``folder`` (the shipped llama-2-*-chat-hf layout)."""
    from transformers import AutoTokenizer, LlamaForCausalLM

    if not (folder / "config.json").is_file():
        raise ModelFilesError(f"'{folder}' holds no LLM (config.json missing)")
    device = torch.device(device)
    kwargs = {"dtype": dtype, "device_map": {"": str(device)}}
    if load_in_4bit:
        kwargs["quantization_config"] = quantization_config_4bit()
        kwargs["dtype"] = torch.bfloat16  # the unquantised parts (embeddings, norms, lm_head) and the compute
    llm = LlamaForCausalLM.from_pretrained(str(folder), **kwargs)
    llm.eval().requires_grad_(False)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    return llm, tokenizer
