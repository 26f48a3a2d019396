"""The audio branch of ImageBind-Huge, as Video-LLaMA uses it (videollama-spec.md §1.6.2, §6.5).

Reference: facebookresearch/ImageBind ``imagebind_model.py`` (audio preprocessor, trunk, head, postprocessor),
``multimodal_preprocessors.py`` (PatchEmbedGeneric, RGBDTPreprocessor), ``transformer.py`` (BlockWithMasking).
transformers has no ImageBind, so this is written out here (~85 M parameters at full size):

    spectrogram [N, 1, 128, 204]
      -> Conv2d(1 -> D, k 16, s 10, no bias) -> flatten -> LayerNorm        [N, 228, D]
      -> prepend CLS, add pos_embed                                          [N, 229, D]
      -> L pre-norm blocks: x + MHA(LN(x)) (nn.MultiheadAttention with learned bias_k/bias_v), x + MLP(LN(x))
      -> LayerNorm, take CLS, Linear(D -> 1024, no bias)                     [N, 1024]
      -> L2-normalise, x exp(log_logit_scale) (= 20, clipped at 100)         [N, 1024]

Only the final, post-processed 1024-d vector of each clip is used by Video-LLaMA's inference path.
"""

from __future__ import annotations

import torch
from torch import nn

from core_model.videollama.configuration_videollama import ImageBindAudioConfig


class ImageBindMlp(nn.Module):
    def __init__(self, config: ImageBindAudioConfig):
        super().__init__()
        self.fc1 = nn.Linear(config.hidden_size, config.intermediate_size)
        self.act = nn.GELU()  # exact erf GELU, as ImageBind's Mlp
        self.fc2 = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(hidden_states)))


class ImageBindBlock(nn.Module):
    """BlockWithMasking without mask, layer scale or (at inference) drop path. Pre-norm."""

    def __init__(self, config: ImageBindAudioConfig):
        super().__init__()
        # add_bias_kv appends a learned key/value position (bias_k, bias_v [1, 1, D]) to every sequence.
        # batch_first only changes the call layout; the parameters (and their names) are those of the original,
        # which runs the trunk sequence-first.
        self.attn = nn.MultiheadAttention(
            config.hidden_size, config.num_attention_heads, bias=True, add_bias_kv=True, batch_first=True
        )
        self.norm_1 = nn.LayerNorm(config.hidden_size, eps=config.block_norm_eps)
        self.mlp = ImageBindMlp(config)
        self.norm_2 = nn.LayerNorm(config.hidden_size, eps=config.block_norm_eps)

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        """[N, L, D] -> [N, L, D]"""
        normed = self.norm_1(hidden_states)
        hidden_states = hidden_states + self.attn(normed, normed, normed, need_weights=False)[0]
        return hidden_states + self.mlp(self.norm_2(hidden_states))


class ImageBindAudioEncoder(nn.Module):
    """Log-mel clips -> one L2-normalised, x20 embedding per clip. Input [N, 1, mel, frames] -> [N, output_size]."""

    def __init__(self, config: ImageBindAudioConfig):
        super().__init__()
        self.config = config
        width = config.hidden_size
        self.patch_embed = nn.Conv2d(1, width, kernel_size=config.kernel_size, stride=config.stride, bias=False)
        self.stem_norm = nn.LayerNorm(width, eps=config.stem_norm_eps)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, width))
        self.pos_embed = nn.Parameter(torch.zeros(1, config.num_patches + 1, width))
        self.blocks = nn.ModuleList([ImageBindBlock(config) for _ in range(config.num_hidden_layers)])
        self.head_norm = nn.LayerNorm(width, eps=config.head_norm_eps)
        self.head_proj = nn.Linear(width, config.output_size, bias=False)
        # log(20); a persistent buffer in the checkpoint (LearnableLogitScaling(learnable=False)).
        self.register_buffer("log_logit_scale", torch.log(torch.tensor(20.0)))

    def forward(self, spectrograms: torch.Tensor) -> torch.Tensor:
        """spectrograms [N, 1, mel, frames] (N = batch x clips) -> embeddings [N, output_size], norm = logit scale."""
        # 1. stem: patches of the spectrogram
        tokens = self.patch_embed(spectrograms.to(self.patch_embed.weight.dtype))  # [N, D, rows, cols]
        tokens = self.stem_norm(tokens.flatten(2).transpose(1, 2))  # [N, P, D]
        # 2. CLS first, then the learned positions
        cls = self.cls_token.expand(tokens.shape[0], -1, -1)  # [N, 1, D]
        hidden_states = torch.cat((cls, tokens), dim=1) + self.pos_embed  # [N, P + 1, D]
        # 3. trunk
        for block in self.blocks:
            hidden_states = block(hidden_states)  # [N, P + 1, D]
        # 4. head: LayerNorm, CLS token, projection
        embedding = self.head_proj(self.head_norm(hidden_states)[:, 0])  # [N, output_size]
        # 5. postprocessor: unit vector, scaled (x20 for the audio modality)
        embedding = nn.functional.normalize(embedding, dim=-1, p=2)
        scale = torch.clip(self.log_logit_scale.exp(), max=self.config.max_logit_scale)
        return scale * embedding  # [N, output_size]
