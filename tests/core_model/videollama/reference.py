"""Independent, straightforward reference computations of Video-LLaMA's modules, written from the original code's
structure (LAVIS eva_vit.py / Qformer.py, ImageBind transformer.py, video_llama.py) and reading the ORIGINAL
official state dicts with their original key names. Nothing here imports core_model.

Used by the tests to check the converted model submodule by submodule.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def layer_norm(x, state, prefix, eps):
    return F.layer_norm(x, (x.shape[-1],), state[prefix + "weight"], state[prefix + "bias"], eps)


def linear(x, state, prefix, bias=True):
    y = x @ state[prefix + "weight"].T
    return y + state[prefix + "bias"] if bias else y


# ---------------------------------------------------------------------------------------------- EVA ViT-g (LAVIS)


def eva_attention(x, state, prefix, num_heads):
    """LAVIS eva_vit.Attention: fused qkv without bias + separate q_bias / v_bias, k bias zero; q scaled first."""
    batch, length, width = x.shape
    head_dim = width // num_heads
    qkv_bias = torch.cat([state[prefix + "q_bias"], torch.zeros_like(state[prefix + "v_bias"]), state[prefix + "v_bias"]])
    qkv = x @ state[prefix + "qkv.weight"].T + qkv_bias  # [B, L, 3W]
    qkv = qkv.reshape(batch, length, 3, num_heads, head_dim).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]  # [B, h, L, hd]
    q = q * head_dim**-0.5
    attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
    out = (attn @ v).transpose(1, 2).reshape(batch, length, width)
    return linear(out, state, prefix + "proj.")


def eva_block(x, state, prefix, num_heads):
    x = x + eva_attention(layer_norm(x, state, prefix + "norm1.", 1e-6), state, prefix + "attn.", num_heads)
    h = layer_norm(x, state, prefix + "norm2.", 1e-6)
    h = linear(F.gelu(linear(h, state, prefix + "mlp.fc1.")), state, prefix + "mlp.fc2.")
    return x + h


def eva_vit(pixels, state, num_blocks, num_heads):
    """[N, 3, H, W] -> [N, 1 + patches, W] after block ``num_blocks - 1`` (no final norm)."""
    x = F.conv2d(pixels, state["patch_embed.proj.weight"], state["patch_embed.proj.bias"],
                 stride=state["patch_embed.proj.weight"].shape[-1])
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([state["cls_token"].expand(x.shape[0], -1, -1), x], dim=1) + state["pos_embed"]
    for i in range(num_blocks):
        x = eva_block(x, state, f"blocks.{i}.", num_heads)
    return x


# ---------------------------------------------------------------------------------------------- BERT Q-Former (LAVIS)


def bert_attention(hidden, context, state, prefix, num_heads):
    """BertAttention: self (or cross) attention + BertSelfOutput (post-LN, eps 1e-12). All-ones masks."""
    q = linear(hidden, state, prefix + "self.query.")
    k = linear(context, state, prefix + "self.key.")
    v = linear(context, state, prefix + "self.value.")
    batch, lq, width = q.shape
    hd = width // num_heads

    def heads(t):
        return t.reshape(batch, t.shape[1], num_heads, hd).permute(0, 2, 1, 3)

    scores = heads(q) @ heads(k).transpose(-1, -2) / math.sqrt(hd)
    ctx = (scores.softmax(-1) @ heads(v)).permute(0, 2, 1, 3).reshape(batch, lq, width)
    return layer_norm(linear(ctx, state, prefix + "output.dense.") + hidden, state, prefix + "output.LayerNorm.", 1e-12)


def qformer_layer(hidden, encoder_states, state, prefix, num_heads, has_cross):
    h = bert_attention(hidden, hidden, state, prefix + "attention.", num_heads)
    if has_cross:
        h = bert_attention(h, encoder_states, state, prefix + "crossattention.", num_heads)
    inter = F.gelu(linear(h, state, prefix + "intermediate_query.dense."))
    return layer_norm(linear(inter, state, prefix + "output_query.dense.") + h, state,
                      prefix + "output_query.LayerNorm.", 1e-12)


def qformer(queries, encoder_states, state, prefix, num_layers, frequency, num_heads):
    """LAVIS BertModel(query_embeds=..., encoder_hidden_states=...) last_hidden_state; prefix e.g. 'Qformer.bert.'."""
    h = layer_norm(queries, state, prefix + "embeddings.LayerNorm.", 1e-12)
    for i in range(num_layers):
        h = qformer_layer(h, encoder_states, state, f"{prefix}encoder.layer.{i}.", num_heads, i % frequency == 0)
    return h


# ---------------------------------------------------------------------------------------------- ImageBind audio


def imagebind_block(x_lbd, state, prefix, num_heads):
    """BlockWithMasking on a sequence-first [L, B, D] tensor; nn.MultiheadAttention(add_bias_kv=True) written out."""
    def mha(x):
        length, batch, width = x.shape
        hd = width // num_heads
        w, b = state[prefix + "attn.in_proj_weight"], state[prefix + "attn.in_proj_bias"]
        q = x @ w[:width].T + b[:width]
        k = x @ w[width:2 * width].T + b[width:2 * width]
        v = x @ w[2 * width:].T + b[2 * width:]
        k = torch.cat([k, state[prefix + "attn.bias_k"].expand(1, batch, width)], dim=0)  # the extra key position
        v = torch.cat([v, state[prefix + "attn.bias_v"].expand(1, batch, width)], dim=0)

        def heads(t):
            return t.reshape(t.shape[0], batch * num_heads, hd).transpose(0, 1)  # [B*h, L, hd]

        attn = ((heads(q) / math.sqrt(hd)) @ heads(k).transpose(1, 2)).softmax(-1)
        out = (attn @ heads(v)).transpose(0, 1).reshape(length, batch, width)
        return linear(out, state, prefix + "attn.out_proj.")

    x = x_lbd + mha(layer_norm(x_lbd, state, prefix + "norm_1.", 1e-6))
    h = layer_norm(x, state, prefix + "norm_2.", 1e-6)
    return x + linear(F.gelu(linear(h, state, prefix + "mlp.fc1.")), state, prefix + "mlp.fc2.")


def imagebind_audio(spectrograms, state, num_blocks, num_heads, stride=10):
    """[N, 1, 128, 204] -> [N, 1024-ish]: stem, CLS + pos, trunk (sequence-first), head, normalise x exp(scale)."""
    pre = "modality_preprocessors.audio."
    x = F.conv2d(spectrograms, state[pre + "rgbt_stem.proj.weight"], stride=stride).flatten(2).transpose(1, 2)
    x = layer_norm(x, state, pre + "rgbt_stem.norm_layer.", 1e-5)
    x = torch.cat([state[pre + "cls_token"].expand(x.shape[0], -1, -1), x], dim=1)
    x = x + state[pre + "pos_embedding_helper.pos_embed"]
    x = x.transpose(0, 1)  # b l d -> l b d
    for i in range(num_blocks):
        x = imagebind_block(x, state, f"modality_trunks.audio.blocks.{i}.", num_heads)
    x = x.transpose(0, 1)
    x = layer_norm(x, state, "modality_heads.audio.0.", 1e-6)[:, 0]
    x = x @ state["modality_heads.audio.2.weight"].T
    x = F.normalize(x, dim=-1)
    return torch.clip(state["modality_postprocessors.audio.1.log_logit_scale"].exp(), max=100) * x


# ---------------------------------------------------------------------------------------------- whole branches


def encode_video(pixels_btchw, eva, blip2, vl, *, eva_blocks, eva_heads, qf_layers, qf_freq, qf_heads, vqf_layers,
                 vqf_heads):
    """video_llama.encode_videoQformer_visual with the original files' keys. [B, T, 3, H, W] -> [B, Qv, llm]."""
    batch, frames = pixels_btchw.shape[:2]
    x = eva_vit(pixels_btchw.flatten(0, 1), eva, eva_blocks, eva_heads)
    x = layer_norm(x, blip2, "ln_vision.", 1e-5)
    queries = blip2["query_tokens"].expand(x.shape[0], -1, -1)
    q = qformer(queries, x, blip2, "Qformer.bert.", qf_layers, qf_freq, qf_heads)  # [B*T, Q, D]
    q = q.reshape(batch, frames, q.shape[1], q.shape[2]) + vl["video_frame_position_embedding.weight"][:frames, None]
    q = q.reshape(batch, -1, q.shape[-1])
    vq = qformer(vl["video_query_tokens"].expand(batch, -1, -1), q, vl, "video_Qformer.bert.", vqf_layers, 1, vqf_heads)
    return linear(vq, vl, "llama_proj.")


def encode_audio(features_bs1mf, imagebind, al, *, ib_blocks, ib_heads, aqf_layers, aqf_heads):
    """video_llama.encode_audioQformer (audio modality). [B, S, 1, 128, 204] -> [B, Qa, llm]."""
    batch, clips = features_bs1mf.shape[:2]
    e = imagebind_audio(features_bs1mf.flatten(0, 1), imagebind, ib_blocks, ib_heads).reshape(batch, clips, -1)
    e = e + al["audio_position_embedding.weight"][:clips]
    aq = qformer(al["audio_query_tokens"].expand(batch, -1, -1), e, al, "audio_Qformer.bert.", aqf_layers, 1, aqf_heads)
    return linear(aq, al, "audio_llama_proj.")
