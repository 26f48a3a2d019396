"""What a search by look costs the window: the question's words through SigLIP in the text embedder's child process
(desktop_app/workers/text_embedder_process.py) against the same call in the process itself (what `vidi search` does).

    python bench/look_search_bench.py                # the tiny SigLIP of the tests
    python bench/look_search_bench.py --size base    # SigLIP 2 base's shapes, random weights (1.5 GB on disk, ~1 min)

Prints: the first search (spawn, torch import, model load, one text), the next ones (median and p95 of --runs), the
same text embedded in this process for comparison, the child's resident memory, and how long an idle child takes to
give it back. No weights are downloaded: the base model is built from its config with random weights, which cost
the same to run as trained ones.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

QUERIES = ["a dog jumps off the pier", "grandma gives her speech", "fireworks over the lake at night",
           "a red car in the snow", "children blowing out candles"]


def build_base_siglip(folder: Path) -> Path:
    """SigLIP 2 base (patch 16, 224 px) shapes with random weights and the tests' word-level tokenizer padded to its
    256k vocabulary: the same compute per text as the real checkpoint."""
    import torch
    from transformers import PreTrainedTokenizerFast, SiglipConfig, SiglipImageProcessor, SiglipModel, SiglipProcessor

    from tests.fixtures.tiny_vlm import TINY_VLM_VOCAB, word_level_model

    tokenizer_core = word_level_model(("[PAD]", "[UNK]", "</s>"), TINY_VLM_VOCAB)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tokenizer_core, pad_token="[PAD]", unk_token="[UNK]",
                                        eos_token="</s>", model_max_length=64)
    tower = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12)
    config = SiglipConfig(text_config=dict(tower, vocab_size=256000, max_position_embeddings=64, pad_token_id=0,
                                           eos_token_id=2), vision_config=dict(tower, image_size=224, patch_size=16))
    torch.manual_seed(0)
    SiglipModel(config).save_pretrained(folder)
    SiglipProcessor(image_processor=SiglipImageProcessor(size={"height": 224, "width": 224}),
                    tokenizer=tokenizer).save_pretrained(folder)
    return folder


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("tiny", "base"), default="tiny")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    from core_model.index.keyframes import embed_texts_here
    from desktop_app.workers.text_embedder_process import TextEmbedderProcess
    from tests.fixtures.tiny_siglip import build_tiny_siglip

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        folder = (build_base_siglip if args.size == "base" else build_tiny_siglip)(Path(tmp) / "siglip")
        print(f"model: {args.size} SigLIP, built in {time.perf_counter() - started:.1f} s")

        embedder = TextEmbedderProcess(idle_exit_s=3.0)
        started = time.perf_counter()
        embedder(folder, [QUERIES[0]])
        first_s = time.perf_counter() - started
        child_ms = []
        for run in range(args.runs):
            started = time.perf_counter()
            embedder(folder, [QUERIES[run % len(QUERIES)]])
            child_ms.append((time.perf_counter() - started) * 1000)
        memory_mb = rss_mb(embedder._process.pid)
        process = embedder._process
        started = time.perf_counter()
        process.join(60)
        idle_s = time.perf_counter() - started
        embedder.close()

        # after the child has ended: two torch processes on the same cores slow each other (OpenMP threads spin
        # after each call), which is not the cost being measured
        embed_texts_here(folder, [QUERIES[0]])  # load here too, then time the same calls in this process
        here_ms = []
        for run in range(args.runs):
            started = time.perf_counter()
            embed_texts_here(folder, [QUERIES[run % len(QUERIES)]])
            here_ms.append((time.perf_counter() - started) * 1000)

    def p95(values):
        return sorted(values)[max(0, round(0.95 * len(values)) - 1)]

    print(f"first search by look (spawn + import torch + load + embed): {first_s:.2f} s")
    print(f"next searches, child:        median {statistics.median(child_ms):7.1f} ms   p95 {p95(child_ms):7.1f} ms")
    print(f"same texts, in this process: median {statistics.median(here_ms):7.1f} ms   p95 {p95(here_ms):7.1f} ms")
    print(f"child overhead: {statistics.median(child_ms) - statistics.median(here_ms):+.1f} ms per search "
          f"(ratio {statistics.median(child_ms) / max(1e-9, statistics.median(here_ms)):.2f}x)")
    print(f"child resident memory: {memory_mb:.0f} MB; ended itself {idle_s:.1f} s after the last search "
          f"(idle_exit_s=3 here, 600 in the window)")


if __name__ == "__main__":
    main()
