"""Tiny Video-LLaMA checkpoints in the official formats and key names (videollama-spec.md §5), written by the tests.

Same layouts as the released files, shrunk: widths are multiples of the real head widths (EVA 88, Q-Formers and
ImageBind 64) so the converter's size inference is exercised as for the real files; odd FFN sizes catch transposes.

    eva_vit_g.pth                   raw state dict, EVA_BLOCKS blocks (the last one unused), q_bias/v_bias
    blip2_pretrained_flant5xxl.pth  {"model": Q-Former + unused text branch/MLM head/t5_proj, query_tokens, ln_vision}
    VL_tiny.pth                     {"model": video Q-Former + frame pos + llama_proj + buffers, "optimizer": ...}
    AL_tiny.pth                     {"model": audio Q-Former + audio pos + audio_llama_proj + buffers, "optimizer": ...}
    imagebind_huge.pth              raw state dict: the audio modality plus stand-ins for the other modalities
    llama-2-tiny-chat-hf/           LlamaForCausalLM (64 wide, 2 layers) + a Llama-style BPE tokenizer (byte fallback)
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import torch

EVA_WIDTH, EVA_BLOCKS, EVA_FFN, IMAGE_SIZE, PATCH = 176, 3, 300, 28, 14  # 2 heads of 88; 2 blocks used
QF_WIDTH, QF_LAYERS, QF_FREQ, QF_QUERIES, QF_FFN = 128, 2, 2, 4, 200  # image Q-Former: cross-attn on layer 0 only
VQF_LAYERS, VQF_QUERIES, MAX_FRAMES = 2, 6, 8
AQF_LAYERS, AQF_QUERIES, MAX_CLIPS = 2, 3, 8
IB_WIDTH, IB_BLOCKS, IB_FFN, IB_OUT, IB_PATCHES = 128, 2, 256, 96, 228  # 2 heads of 64; 12 x 19 patches
LLM_HIDDEN, LLM_LAYERS, LLM_HEADS, LLM_KV_HEADS, LLM_FFN = 64, 2, 4, 2, 128

_gen = torch.Generator().manual_seed(1234)


def rand(*shape: int, std: float = 0.05, mean: float = 0.0) -> torch.Tensor:
    return torch.randn(*shape, generator=_gen) * std + mean


def _ln(state: dict, prefix: str, width: int) -> None:
    state[prefix + "weight"] = rand(width, std=0.1, mean=1.0)
    state[prefix + "bias"] = rand(width, std=0.1)


def _linear(state: dict, prefix: str, out_features: int, in_features: int, bias: bool = True) -> None:
    state[prefix + "weight"] = rand(out_features, in_features, std=in_features**-0.5)
    if bias:
        state[prefix + "bias"] = rand(out_features, std=0.1)


def eva_state() -> dict[str, torch.Tensor]:
    grid = IMAGE_SIZE // PATCH
    state = {
        "cls_token": rand(1, 1, EVA_WIDTH, std=0.5),
        "pos_embed": rand(1, grid * grid + 1, EVA_WIDTH, std=0.5),
        "patch_embed.proj.weight": rand(EVA_WIDTH, 3, PATCH, PATCH, std=0.05),
        "patch_embed.proj.bias": rand(EVA_WIDTH, std=0.1),
    }
    for i in range(EVA_BLOCKS):
        p = f"blocks.{i}."
        _ln(state, p + "norm1.", EVA_WIDTH)
        _ln(state, p + "norm2.", EVA_WIDTH)
        _linear(state, p + "attn.qkv.", 3 * EVA_WIDTH, EVA_WIDTH, bias=False)
        state[p + "attn.q_bias"] = rand(EVA_WIDTH, std=0.2)
        state[p + "attn.v_bias"] = rand(EVA_WIDTH, std=0.2)
        _linear(state, p + "attn.proj.", EVA_WIDTH, EVA_WIDTH)
        _linear(state, p + "mlp.fc1.", EVA_FFN, EVA_WIDTH)
        _linear(state, p + "mlp.fc2.", EVA_WIDTH, EVA_FFN)
    return state


def qformer_state(prefix: str, num_layers: int, frequency: int, encoder_width: int, text_branch: bool) -> dict:
    """A LAVIS BertModel's query branch under ``prefix`` (e.g. 'Qformer.bert.'); the text parts when asked."""
    state: dict[str, torch.Tensor] = {}
    _ln(state, prefix + "embeddings.LayerNorm.", QF_WIDTH)
    state[prefix + "embeddings.position_ids"] = torch.arange(512).expand(1, -1).clone()
    if text_branch:
        state[prefix + "embeddings.word_embeddings.weight"] = rand(50, QF_WIDTH)
        state[prefix + "embeddings.position_embeddings.weight"] = rand(16, QF_WIDTH)
    for i in range(num_layers):
        p = f"{prefix}encoder.layer.{i}."
        blocks = [("attention", QF_WIDTH)] + ([("crossattention", encoder_width)] if i % frequency == 0 else [])
        for block, kv_width in blocks:
            _linear(state, f"{p}{block}.self.query.", QF_WIDTH, QF_WIDTH)
            _linear(state, f"{p}{block}.self.key.", QF_WIDTH, kv_width)
            _linear(state, f"{p}{block}.self.value.", QF_WIDTH, kv_width)
            _linear(state, f"{p}{block}.output.dense.", QF_WIDTH, QF_WIDTH)
            _ln(state, f"{p}{block}.output.LayerNorm.", QF_WIDTH)
        _linear(state, p + "intermediate_query.dense.", QF_FFN, QF_WIDTH)
        _linear(state, p + "output_query.dense.", QF_WIDTH, QF_FFN)
        _ln(state, p + "output_query.LayerNorm.", QF_WIDTH)
        if text_branch:
            _linear(state, p + "intermediate.dense.", QF_FFN, QF_WIDTH)
            _linear(state, p + "output.dense.", QF_WIDTH, QF_FFN)
            _ln(state, p + "output.LayerNorm.", QF_WIDTH)
    return state


def blip2_checkpoint() -> dict:
    model = qformer_state("Qformer.bert.", QF_LAYERS, QF_FREQ, EVA_WIDTH, text_branch=True)
    model["query_tokens"] = rand(1, QF_QUERIES, QF_WIDTH, std=0.5)
    _ln(model, "ln_vision.", EVA_WIDTH)
    model["Qformer.cls.predictions.bias"] = rand(50)
    model["Qformer.cls.predictions.transform.dense.weight"] = rand(QF_WIDTH, QF_WIDTH)
    model["t5_proj.weight"] = rand(32, QF_WIDTH)
    model["t5_proj.bias"] = rand(32)
    return {"model": model}


def _training_checkpoint(model: dict) -> dict:
    """LAVIS runner_base._save_checkpoint layout: model, AdamW state, config, scaler, epoch."""
    trainable = [k for k, v in model.items() if v.is_floating_point()]
    optimizer = {
        "state": {i: {"step": torch.tensor(10.0), "exp_avg": torch.zeros_like(model[k]),
                      "exp_avg_sq": torch.zeros_like(model[k])} for i, k in enumerate(trainable)},
        "param_groups": [{"lr": 1e-5, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.05,
                          "params": list(range(len(trainable)))}],
    }
    return {"model": model, "optimizer": optimizer, "config": {"run": {"lr_sched": "linear_warmup_cosine_lr"}},
            "scaler": None, "epoch": 2}


def _inv_freq(model: dict) -> None:
    for i in range(LLM_LAYERS):
        model[f"llama_model.model.layers.{i}.self_attn.rotary_emb.inv_freq"] = rand(8).abs()


def vl_checkpoint() -> dict:
    model = qformer_state("video_Qformer.bert.", VQF_LAYERS, 1, QF_WIDTH, text_branch=False)
    model["Qformer.bert.embeddings.position_ids"] = torch.arange(512).expand(1, -1).clone()
    model["video_query_tokens"] = rand(1, VQF_QUERIES, QF_WIDTH, std=0.5)
    model["video_frame_position_embedding.weight"] = rand(MAX_FRAMES, QF_WIDTH, std=0.5)
    _linear(model, "llama_proj.", LLM_HIDDEN, QF_WIDTH)
    _inv_freq(model)
    return _training_checkpoint(model)


def al_checkpoint() -> dict:
    model = qformer_state("audio_Qformer.bert.", AQF_LAYERS, 1, IB_OUT, text_branch=False)
    model["Qformer.bert.embeddings.position_ids"] = torch.arange(512).expand(1, -1).clone()
    model["video_Qformer.bert.embeddings.position_ids"] = torch.arange(512).expand(1, -1).clone()
    model["audio_query_tokens"] = rand(1, AQF_QUERIES, QF_WIDTH, std=0.5)
    model["audio_position_embedding.weight"] = rand(MAX_CLIPS, IB_OUT, std=0.5)
    _linear(model, "audio_llama_proj.", LLM_HIDDEN, QF_WIDTH)
    _inv_freq(model)
    model["audio_encoder.modality_preprocessors.text.mask"] = torch.ones(8, 8)
    for modality in ("audio", "depth", "thermal", "imu"):
        model[f"audio_encoder.modality_postprocessors.{modality}.1.log_logit_scale"] = torch.tensor(2.9957)
    return _training_checkpoint(model)


def imagebind_state() -> dict[str, torch.Tensor]:
    pre = "modality_preprocessors.audio."
    state = {
        pre + "cls_token": rand(1, 1, IB_WIDTH, std=0.5),
        pre + "rgbt_stem.proj.weight": rand(IB_WIDTH, 1, 16, 16, std=1 / 16),
        pre + "pos_embedding_helper.pos_embed": rand(1, IB_PATCHES + 1, IB_WIDTH, std=0.5),
        "modality_heads.audio.2.weight": rand(IB_OUT, IB_WIDTH, std=IB_WIDTH**-0.5),
        "modality_postprocessors.audio.1.log_logit_scale": torch.log(torch.tensor(20.0)),
    }
    _ln(state, pre + "rgbt_stem.norm_layer.", IB_WIDTH)
    _ln(state, "modality_heads.audio.0.", IB_WIDTH)
    for i in range(IB_BLOCKS):
        p = f"modality_trunks.audio.blocks.{i}."
        state[p + "attn.in_proj_weight"] = rand(3 * IB_WIDTH, IB_WIDTH, std=IB_WIDTH**-0.5)
        state[p + "attn.in_proj_bias"] = rand(3 * IB_WIDTH, std=0.1)
        state[p + "attn.bias_k"] = rand(1, 1, IB_WIDTH, std=0.5)
        state[p + "attn.bias_v"] = rand(1, 1, IB_WIDTH, std=0.5)
        _linear(state, p + "attn.out_proj.", IB_WIDTH, IB_WIDTH)
        _ln(state, p + "norm_1.", IB_WIDTH)
        _ln(state, p + "norm_2.", IB_WIDTH)
        _linear(state, p + "mlp.fc1.", IB_FFN, IB_WIDTH)
        _linear(state, p + "mlp.fc2.", IB_WIDTH, IB_FFN)
    # stand-ins for the five other modalities, which the converter must drop
    state["modality_preprocessors.vision.cls_token"] = rand(1, 1, 32)
    state["modality_trunks.vision.blocks.0.attn.in_proj_weight"] = rand(96, 32)
    state["modality_heads.text.proj.0.weight"] = rand(32, 32)
    state["modality_preprocessors.text.mask"] = torch.ones(4, 4)
    state["modality_postprocessors.depth.1.log_logit_scale"] = torch.tensor(2.0)
    state["modality_trunks.imu.blocks.0.norm_1.weight"] = rand(32)
    state["modality_preprocessors.thermal.rgbt_stem.proj.weight"] = rand(32, 1, 16, 16)
    return state


_CORPUS = (
    "the a video shows dog cat bird runs walks sits in on at park street room sound music man woman speaks "
    "what is doing describe this image seconds frames sampled contains close your eyes open ears and you "
    "imagine only based that now answer my question see heard just seen red blue green car ball"
).split()


def build_tokenizer(folder: Path):
    """A LLaMA-style tokenizer (BPE with byte fallback, '▁' metaspace, <unk>=0 <s>=1 </s>=2) trained here."""
    import sentencepiece as spm
    from transformers import LlamaTokenizer
    from transformers.tokenization_utils_tokenizers import generate_merges

    lines = [" ".join(_CORPUS[i:] + _CORPUS[:i]) for i in range(len(_CORPUS))] * 10
    lines += ["[INST] <<SYS>>", "<</SYS>>", "[/INST]", "<Video></Video>", "<Image></Image>", "0.0, 1.5 seconds.",
              "###Human: ###Assistant:"]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_writer=model, vocab_size=420, model_type="bpe", byte_fallback=True,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, character_coverage=1.0, minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    vocab = {processor.id_to_piece(i): i for i in range(processor.get_piece_size())}
    tokenizer = LlamaTokenizer(vocab=vocab, merges=generate_merges(vocab, skip_tokens={"<unk>", "<s>", "</s>"}),
                               legacy=True, add_bos_token=True, add_eos_token=False)
    tokenizer.save_pretrained(str(folder))
    return tokenizer


def build_llm_folder(folder: Path) -> Path:
    """llama-2-tiny-chat-hf: LlamaForCausalLM (random; special and byte-piece rows of lm_head zeroed) + tokenizer."""
    from transformers import LlamaConfig, LlamaForCausalLM

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer(folder)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=LLM_HIDDEN, intermediate_size=LLM_FFN, num_hidden_layers=LLM_LAYERS,
        num_attention_heads=LLM_HEADS, num_key_value_heads=LLM_KV_HEADS, max_position_embeddings=2048,
        rms_norm_eps=1e-5, bos_token_id=1, eos_token_id=2, pad_token_id=0, tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        model.lm_head.weight.normal_(0.0, 0.5)
        # never <unk>/<s>/</s> (ids 0-2) nor a byte-fallback piece (ids 3-258) by itself: answers are whole
        # words and run to max_new_tokens
        model.lm_head.weight[:259] = 0.0
    model.save_pretrained(str(folder))
    return folder


def write_official_files(folder: Path) -> dict[str, Path]:
    """Write every official-format file into ``folder``; returns their paths by converter flag name."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "eva": folder / "eva_vit_g.pth",
        "blip2": folder / "blip2_pretrained_flant5xxl.pth",
        "vl": folder / "VL_LLaMA_2_tiny_Finetuned.pth",
        "al": folder / "AL_LLaMA_2_tiny_Finetuned.pth",
        "imagebind": folder / "imagebind_huge.pth",
    }
    torch.save(eva_state(), paths["eva"])
    torch.save(blip2_checkpoint(), paths["blip2"])
    torch.save(vl_checkpoint(), paths["vl"])
    torch.save(al_checkpoint(), paths["al"])
    torch.save(imagebind_state(), paths["imagebind"])
    paths["llm"] = build_llm_folder(folder / "llama-2-tiny-chat-hf")
    (folder / "sizes.json").write_text(json.dumps({"eva_width": EVA_WIDTH}))
    return paths
