#!/usr/bin/env python
"""Full-size Video-LLaMA-2-7B with random weights: load time, peak GPU memory, time to first token, tokens/s.

    python bench/gpu_videollama.py              # a CUDA GPU with bitsandbytes: LLM in 4-bit NF4, encoders fp16
    python bench/gpu_videollama.py --dry-run    # anywhere: parameter counts and the planner's memory figure
    python bench/gpu_videollama.py --smoke      # the CPU: the same code on a shrunken config (checks the code)
    python bench/gpu_videollama.py --size 13b --new-tokens 128

No weights are downloaded (none exist on the lent GPU machines). The model is built from its configuration
(core_model.videollama.configuration_videollama.videollama2_config: the sizes the converter infers from the released
files) with random weights, which cost the same memory and compute as the real ones:
 1. the encoders, Q-Formers and projections are built with empty (meta) parameters, materialised on the GPU and
    filled with random values, in fp16 (what the backend loads on CUDA);
 2. the LLaMA-2 decoder is built in bf16 on the GPU, then every linear layer of its decoder blocks becomes a
    bitsandbytes NF4 ``Linear4bit`` (double quantisation, bf16 compute), quantised from those weights: what
    ``from_pretrained(quantization_config=nf4_config())`` loads; embeddings, norms and lm_head stay bf16.
"load s" is that build + quantisation time (a real load also reads ~6 GB from disk).

The question then runs through the real backend (core_model.videollama.backend.VideoLlamaBackend: the embedding
cache, the original's audio+video prompt, ``embed_prompt``, ``stream_generate``) on a folder holding only the
config.json; only decoding is synthetic: a processor stand-in gives 8 random 224x224 frames and the real Kaldi
fbank features of 15 s of random 16-kHz noise (a 15-s segment with audio). The tokenizer is a word-level stand-in
(the LLaMA tokenizer is not here), so the prompt is ~20% shorter in tokens than with the real one.
Peak memory is torch's ``max_memory_allocated`` from the end of loading to the end of the answer (weights
included; the CUDA context, ~0.5 GB, is not). ``measure()`` returns the row as a dict; bench/gpu_check.py calls it.
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

GB = 1e9
SEGMENT_S = 15.0
SAMPLE_RATE = 16000
QUESTION = "What is happening in this video, and what can you hear?"


# ----------------------------------------------------------------------------------------------------------------
# Building the model with random weights
# ----------------------------------------------------------------------------------------------------------------


def smoke_config():
    """A shrunken Video-LLaMA config for --smoke (the tests' tiny sizes; 4-bit-compatible widths)."""
    from core_model.videollama.configuration_videollama import (
        EvaVisionConfig, ImageBindAudioConfig, QFormerConfig, VideoLlamaConfig, llama2_chat_text_config)

    text = llama2_chat_text_config("7b")
    text.update(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                num_key_value_heads=4, vocab_size=512)
    return VideoLlamaConfig(
        vision_config=EvaVisionConfig(hidden_size=176, intermediate_size=300, num_hidden_layers=2,
                                      num_attention_heads=2, image_size=28),
        qformer_config=QFormerConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=200, num_query_tokens=4),
        video_qformer_config=QFormerConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                                           intermediate_size=200, cross_attention_frequency=1, num_query_tokens=6),
        audio_config=ImageBindAudioConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                                          intermediate_size=256, output_size=96),
        audio_qformer_config=QFormerConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
                                           intermediate_size=200, cross_attention_frequency=1, num_query_tokens=3),
        text_config=text,
    )


def random_encoders(config, device, dtype):
    """VideoLlama (encoders, Q-Formers, projections) with random weights on ``device`` in ``dtype``."""
    import torch

    from core_model.videollama.modeling_videollama import VideoLlama, build_empty

    model = build_empty(VideoLlama, config)  # parameters on meta: nothing allocated yet
    model.to_empty(device=device)
    generator = torch.Generator(device=device).manual_seed(0)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if name.endswith(("norm.weight", "layernorm.weight", "LayerNorm.weight", "layer_norm1.weight",
                              "layer_norm2.weight", "norm_1.weight", "norm_2.weight")):
                param.fill_(1.0)
            else:
                param.normal_(0.0, 0.02, generator=generator)
        model.audio_encoder.log_logit_scale.fill_(math.log(20.0)) if config.has_audio else None
    return model.to(dtype=dtype).eval().requires_grad_(False)


def random_llm_4bit(text_config: dict, device, quantize: bool = True):
    """LlamaForCausalLM with random bf16 weights on ``device``; decoder linears turned into NF4 Linear4bit."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(**{k: v for k, v in text_config.items() if k not in ("architectures", "torch_dtype")})
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)  # born in bf16 on the device: no fp32 copy (27 GB for 7B)
    try:
        with torch.device(device):  # only torch tensors are created here; no library is first imported meanwhile
            llm = LlamaForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    if quantize:
        quantize_decoder_linears(llm, device)
    gc.collect()
    if str(device).startswith("cuda"):
        torch.cuda.empty_cache()
    return llm.eval().requires_grad_(False)


def quantize_decoder_linears(llm, device) -> int:
    """Replace every nn.Linear inside ``llm.model.layers`` by an NF4 Linear4bit (double quant, bf16 compute)."""
    import bitsandbytes as bnb
    import torch

    count = 0
    for layer in llm.model.layers:
        for parent in list(layer.modules()):
            for child_name, child in list(parent.named_children()):
                if not isinstance(child, torch.nn.Linear):
                    continue
                quantized = bnb.nn.Linear4bit(child.in_features, child.out_features, bias=child.bias is not None,
                                              compute_dtype=torch.bfloat16, compress_statistics=True,
                                              quant_type="nf4", device="meta")
                quantized.weight = bnb.nn.Params4bit(child.weight.data, requires_grad=False, quant_type="nf4",
                                                     compress_statistics=True, module=quantized)
                if child.bias is not None:
                    quantized.bias = torch.nn.Parameter(child.bias.data, requires_grad=False)
                quantized.weight = quantized.weight.to(device)  # quantises here
                setattr(parent, child_name, quantized)
                del child
                count += 1
    return count


def word_tokenizer(vocab_size: int):
    """A word-level stand-in for the LLaMA tokenizer (<unk>=0, <s>=1, </s>=2; BOS added on request)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    words = ("close your eyes open ears and you imagine only based on the sound that . , : ? < > / [ ] video "
             "image here inst sys now answer my question what have just seen heard see is happening in this can "
             "hear").split()
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for word in words:
        vocab.setdefault(word, len(vocab))
    for index in range(len(vocab), min(vocab_size, 1000)):
        vocab[f"w{index}"] = index
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Punctuation()])
    backend.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


class SyntheticProcessor:
    """The processor's interface with synthetic decoding: random frames, the real fbank of random noise."""

    def __init__(self, real, seed: int = 0):
        self.real = real  # a VideoLlamaProcessor: its prompt building is used as is
        self.seed = seed

    def __getattr__(self, name):
        return getattr(self.real, name)

    def video(self, path, start=None, end=None, n_frames=None):
        import torch

        n = n_frames or self.real.num_frames
        size = self.real.image_size
        generator = torch.Generator().manual_seed(self.seed)
        pixels = torch.rand(n, size, size, 3, generator=generator).mul(255).to(torch.uint8).numpy()
        from core_model.videollama.processing_videollama import normalize_frames

        start = start or 0.0
        return normalize_frames(pixels), [start + i * SEGMENT_S / n for i in range(n)]

    def audio(self, path, start=None, end=None):
        import torch

        from core_model.media.fbank import audio_clip_features

        generator = torch.Generator().manual_seed(self.seed + 1)
        noise = torch.randn(int(SEGMENT_S * SAMPLE_RATE), generator=generator) * 0.1
        return audio_clip_features(noise.numpy(), num_clips=self.real.num_audio_clips, sample_rate=SAMPLE_RATE)


# ----------------------------------------------------------------------------------------------------------------
# The measurement
# ----------------------------------------------------------------------------------------------------------------


def measure(device: str = "auto", dry_run: bool = False, smoke: bool = False, new_tokens: int = 64,
            size: str = "7b") -> dict:
    """One row: params_b, weights_gb, planned_peak_gb, and (on a GPU or with ``smoke``) load_s, peak_gb, ttft_s,
    tokens_per_s, prompt_tokens. Without CUDA (and without ``smoke``/``dry_run``) only the planner's figures."""
    import torch

    from core_model.videollama.configuration_videollama import videollama2_config
    from core_model.videollama.memory import eva_params, imagebind_audio_params, llm_params, plan_from_config
    from core_model.videollama.memory import qformer_params

    config = smoke_config() if smoke else videollama2_config(size)
    linear, other = llm_params(config.text_config)
    encoder_params = (eva_params(config.vision_config) + qformer_params(config.qformer_config)
                      + qformer_params(config.video_qformer_config) + imagebind_audio_params(config.audio_config)
                      + qformer_params(config.audio_qformer_config))
    plan = plan_from_config(config, device="cuda", load_in_4bit=True)
    row = {
        "id": f"videollama2-{size}" + ("-smoke" if smoke else ""),
        "params_b": (linear + other + encoder_params) / 1e9,
        "weights_gb": sum(v for k, v in plan.parts_bytes.items()
                          if not k.startswith(("KV", "activations", "CUDA"))) / GB,
        "planned_peak_gb": plan.total_bytes / GB,
        "plan": plan,
    }
    use_cuda = device in ("auto", "cuda") and torch.cuda.is_available()
    if dry_run or not (use_cuda or smoke):
        row["note"] = "dry run: planner only" if dry_run else "no CUDA GPU here: the planner's figure only"
        return row
    target = "cuda" if use_cuda else "cpu"
    row.update(_run(config, target, new_tokens, quantize=use_cuda or smoke))
    row["device"] = torch.cuda.get_device_name(0) if use_cuda else "CPU (smoke)"
    return row


def _run(config, device: str, new_tokens: int, quantize: bool) -> dict:
    import torch

    from core_model.backends import GenerationOptions, SegmentRef, Turn
    from core_model.videollama.backend import VideoLlamaBackend
    from core_model.videollama.processing_videollama import VideoLlamaProcessor

    cuda = device == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    model = random_encoders(config, device, torch.float16 if cuda else torch.float32)
    llm = random_llm_4bit(config.text_config, device, quantize=quantize)
    object.__setattr__(model, "llm", llm)
    object.__setattr__(model, "tokenizer", word_tokenizer(config.text_config["vocab_size"]))
    if cuda:
        torch.cuda.synchronize()
    load_s = time.perf_counter() - started
    load_peak = torch.cuda.max_memory_allocated() if cuda else 0
    weights_bytes = torch.cuda.memory_allocated() if cuda else 0

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "video-llama-2-random"
        folder.mkdir()
        config.save(folder)
        clip = write_blank_clip(Path(tmp) / "segment.mp4", 60.0 + SEGMENT_S + 1)  # probed; its pixels unused
        backend = VideoLlamaBackend(folder, device=device, load_in_4bit=quantize)
        backend._model = model
        backend._processor = SyntheticProcessor(VideoLlamaProcessor(
            image_size=config.vision_config.image_size, template=config.conv_template))
        segment = SegmentRef(str(clip), 60.0, 60.0 + SEGMENT_S, include_audio=True)
        options = GenerationOptions(max_new_tokens=new_tokens, temperature=0.0)
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        pieces = list(backend.answer([Turn("user", QUESTION, (segment,))], options))
        if cuda:
            torch.cuda.synchronize()
        run = backend.last_run
        peak = torch.cuda.max_memory_allocated() if cuda else 0
        reserved = torch.cuda.max_memory_reserved() if cuda else 0
        prompt_tokens = _prompt_tokens(backend, segment, options)
    decode_s = run.total_s - run.first_token_s
    return {
        "load_s": load_s,
        "load_peak_gb": load_peak / GB,
        "loaded_gb": weights_bytes / GB,
        "peak_gb": peak / GB,
        "peak_reserved_gb": reserved / GB,
        "ttft_s": run.first_token_s,
        "tokens_per_s": (run.num_new_tokens - 1) / decode_s if run.num_new_tokens > 1 and decode_s > 0 else None,
        "new_tokens": run.num_new_tokens,
        "prompt_tokens": prompt_tokens,
        "used_audio": run.used_audio,
        "answer_chars": len("".join(pieces)),
    }


def _prompt_tokens(backend, segment, options) -> int:
    """Length of the spliced inputs_embeds for the question (media tokens included); the cache makes it free."""
    from core_model.backends import Turn

    request = backend.prepare([Turn("user", QUESTION, (segment,))], options)
    return int(request.inputs["inputs_embeds"].shape[1])


def write_blank_clip(path: Path, duration_s: float) -> Path:
    """A small real video (64x64, 1 fps, black) of ``duration_s``: the backend probes the segment's file; the
    synthetic processor makes the pixels."""
    import av
    import numpy as np

    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=1)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        black = np.zeros((64, 64, 3), dtype=np.uint8)
        for _ in range(int(duration_s) + 1):
            container.mux(stream.encode(av.VideoFrame.from_ndarray(black, format="rgb24")))
        container.mux(stream.encode(None))
    return path


# ----------------------------------------------------------------------------------------------------------------
# Output
# ----------------------------------------------------------------------------------------------------------------


def print_row(row: dict) -> None:
    from core_model.videollama.memory import format_plan

    print(format_plan(row["plan"], f"planner, {row['id']} on CUDA (LLM NF4, encoders fp16):"))
    print(f"parameters: {row['params_b']:.2f} B; planned weights {row['weights_gb']:.2f} GB; "
          f"planned peak {row['planned_peak_gb']:.2f} GB (target < 8 GB)")
    if "note" in row:
        print(row["note"])
        return
    header = ("model", "device", "load s", "loaded GB", "peak GB", "reserved GB", "TTFT s", "tok/s", "prompt tok",
              "audio")
    values = (row["id"], row["device"], f"{row['load_s']:.1f}", f"{row['loaded_gb']:.2f}", f"{row['peak_gb']:.2f}",
              f"{row['peak_reserved_gb']:.2f}", f"{row['ttft_s']:.2f}",
              "-" if row["tokens_per_s"] is None else f"{row['tokens_per_s']:.1f}", str(row["prompt_tokens"]),
              "yes" if row["used_audio"] else "no")
    widths = [max(len(h), len(v)) for h, v in zip(header, values)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join(v.ljust(w) for v, w in zip(values, widths)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="planner and parameter counts only")
    parser.add_argument("--smoke", action="store_true", help="run the GPU code on a shrunken config (CPU is fine)")
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    parser.add_argument("--size", choices=("7b", "13b"), default="7b")
    parser.add_argument("--new-tokens", type=int, default=64)
    args = parser.parse_args(argv)
    row = measure(device=args.device, dry_run=args.dry_run, smoke=args.smoke, new_tokens=args.new_tokens,
                  size=args.size)
    print_row(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
