"""Follow-ups cost what a first question costs: 10 questions in one chat on the tiny models, per turn.

    .venv/bin/python bench/followup_bench.py [--turns 10] [--models qwen2_vl,smolvlm,qwen_omni]

Each turn asks about a different 2-s segment of a generated 12-s video (as a user moving along the timeline does),
with the whole chat so far as history, through the real backends on the CPU. Two ways are measured:

- "now": Vidi's way (core_model.backends.transformers_base): earlier turns travel as their text, only the
  question's segment is decoded and encoded;
- "re-sent": the old way, every earlier turn's segment decoded and encoded again on every turn (the model sees
  10 segments on the tenth question).

Printed: prompt tokens and seconds (whole answer, prepare included) for turns 1 and N, and tenth/first ratios.
The target is a tenth question within 1.2x of the first. Tiny random-weight models: the ratios carry over, the
absolute seconds do not.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core_model.backends import load_backend  # noqa: E402
from core_model.backends.base import GenerationOptions, SegmentRef, Turn  # noqa: E402

OPTIONS = GenerationOptions(max_new_tokens=8, num_frames=4, temperature=0.0)
VIDEO_S = 12
BUILDERS = {
    "qwen2_vl": ("tests.fixtures.tiny_vlm", "build_tiny_vlm"),
    "smolvlm": ("tests.fixtures.tiny_vlm", "build_tiny_smolvlm"),
    "qwen_omni": ("tests.fixtures.tiny_omni", "build_tiny_qwen_omni"),
    "gemma4": ("tests.fixtures.tiny_omni", "build_tiny_gemma4"),
}


def build_model(kind: str, folder: Path) -> Path:
    import importlib

    module_name, function = BUILDERS[kind]
    return getattr(importlib.import_module(module_name), function)(folder)


def make_video(folder: Path) -> Path:
    from tests.fixtures.media import write_numbered_video

    return write_numbered_video(folder / "followups.mp4", num_frames=VIDEO_S * 25, fps=25, audio_codec="aac")


def run_chat(backend, video: Path, turns: int) -> list[tuple[int, float]]:
    """(prompt tokens, seconds) of each turn of one chat of ``turns`` questions."""
    history: list[Turn] = []
    figures = []
    for index in range(turns):
        start_s = float(index % (VIDEO_S - 2))
        segment = SegmentRef(str(video), start_s, start_s + 2.0)
        conversation = history + [Turn("user", f"what happens now {index} ?", (segment,))]
        started = time.perf_counter()
        answer = "".join(backend.answer(conversation, OPTIONS))
        figures.append((backend.last_run.prompt_tokens, time.perf_counter() - started))
        history = conversation + [Turn("assistant", answer)]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--models", default="qwen2_vl,smolvlm,qwen_omni")
    parser.add_argument("--repeats", type=int, default=2, help="chats per way; the median per turn is printed")
    args = parser.parse_args(argv)

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        video = make_video(folder)
        for kind in args.models.split(","):
            backend = load_backend(str(build_model(kind, folder / kind)), device="cpu")
            backend.load()
            run_chat(backend, video, 2)  # warm-up: first calls pay one-off costs (kernels, token counts)
            for way, resend in (("now", False), ("re-sent", True)):
                backend.resends_earlier_media = resend
                chats = [run_chat(backend, video, args.turns) for _ in range(args.repeats)]
                first_s = statistics.median(chat[0][1] for chat in chats)
                last_s = statistics.median(chat[-1][1] for chat in chats)
                rows.append((kind, way, chats[0][0][0], chats[0][-1][0], first_s, last_s))
            backend.unload()

    n = args.turns
    print(f"\nFollow-up cost, {n} questions in one chat (tiny models, CPU, median of {args.repeats} chats)\n")
    print(f"| model | history | tokens q1 | tokens q{n} | ratio | s q1 | s q{n} | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for kind, way, tokens_first, tokens_last, first_s, last_s in rows:
        print(f"| {kind} | {way} | {tokens_first} | {tokens_last} | {tokens_last / tokens_first:.2f}x | "
              f"{first_s:.3f} | {last_s:.3f} | {last_s / first_s:.2f}x |")
    print("\nTarget: the tenth question within 1.2x of the first (row 'now').")
    return 0


if __name__ == "__main__":
    sys.exit(main())
