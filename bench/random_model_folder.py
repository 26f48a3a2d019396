#!/usr/bin/env python
"""Write a model folder any server loads (vLLM, ``transformers serve``): a catalog model at full size, random weights.

    python bench/random_model_folder.py qwen2.5-vl-7b /tmp/qwen2.5-vl-7b            # bf16 on the GPU, then saved
    python bench/random_model_folder.py qwen2.5-vl-7b /tmp/tiny --tiny --device cpu  # the same layout, shrunken

No weights exist on the lent GPU machines: the config comes from bench/gpu_check.py's table (the released
config.json files), the weights are drawn at random (the same memory and compute as the real ones), and the
tokenizer is gpu_check's word-level one with the special tokens at the config's ids, with the family's real
processor classes and chat template. The folder then holds config.json, model*.safetensors, tokenizer and processor
files, as a hub snapshot does, so ``vllm serve FOLDER`` loads it like the real model.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from bench import gpu_check  # noqa: E402


def write_folder(model_id: str, folder: Path, *, tiny: bool, device: str) -> Path:
    import torch

    spec = next((s for s in gpu_check.SPECS if s.id == model_id), None)
    if spec is None:
        raise SystemExit(f"unknown model '{model_id}': one of {', '.join(s.id for s in gpu_check.SPECS)}")
    data = gpu_check.config_dict(spec, tiny=tiny, configs_dir=None)
    config = gpu_check.build_config(spec, data)
    started = time.perf_counter()
    model = gpu_check.build_model(spec, config, device, torch.bfloat16, skip=None)
    model.config.architectures = [type(model).__name__]
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder, max_shard_size="5GB")
    gpu_check.build_processor(spec, config).save_pretrained(folder)
    size_gb = sum(p.stat().st_size for p in folder.glob("*.safetensors")) / 1e9
    print(f"{model_id}: {size_gb:.1f} GB written to {folder} in {time.perf_counter() - started:.0f} s", flush=True)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_id")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tiny", action="store_true", help="the shrunken config (a CPU check of the layout)")
    parser.add_argument("--device", default="cuda")
    args = parser.parse_args()
    write_folder(args.model_id, args.folder, tiny=args.tiny, device=args.device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
