"""From Stop to the next question, in every phase of an answer, on the tiny models (in-process and the real model
child process).

    .venv/bin/python bench/stop_bench.py [--repeats 3]

For each backend and phase, a failpoint (core_model/backends/failpoints.py) holds the answer in that phase, Stop is
pressed 0.5 s in, and two times are printed: Stop -> the stopped answer's iterator ends ("ended"), and Stop -> the
first piece of the next question ("next piece", which includes that question's own decoding and prompt pass).
Medians over ``--repeats``. The contract tests assert "ended" < 1 s; this prints the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core_model.backends.base import GenerationOptions, SegmentRef, Turn  # noqa: E402
from core_model.backends.failpoints import FAILPOINTS_ENV  # noqa: E402

LONG = GenerationOptions(max_new_tokens=400, num_frames=4, temperature=0.0)
SHORT = GenerationOptions(max_new_tokens=4, num_frames=4, temperature=0.0)
PHASES = ("decoding", "processor", "generation")


def measure(backend, video: Path, points: Path, phase: str) -> tuple[float, float]:
    points.write_text(f"{phase}=sleep:30")
    question = [Turn("user", "what is here ?", (SegmentRef(str(video), 1.0, 3.0),))]
    ended: dict = {}

    def consume() -> None:
        for _ in backend.answer(question, LONG):
            pass
        ended["at"] = time.perf_counter()

    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.5)
    stop = time.perf_counter()
    backend.cancel()
    thread.join(30)
    points.write_text("")
    stream = backend.answer([Turn("user", "and now ?", (SegmentRef(str(video), 1.5, 3.5),))], SHORT)
    next(iter(stream))
    first_piece = time.perf_counter()
    for _ in stream:
        pass
    return ended["at"] - stop, first_piece - stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        points = folder / "points.txt"
        points.write_text("")
        os.environ[FAILPOINTS_ENV] = f"@{points}"  # before the model process starts: it inherits it
        from core_model.backends import load_backend
        from desktop_app.workers.model_process import ProcessBackend
        from tests.fixtures.media import write_numbered_video
        from tests.fixtures.tiny_omni import build_tiny_qwen_omni
        from tests.fixtures.tiny_vlm import build_tiny_vlm

        video = write_numbered_video(folder / "clip.mp4", num_frames=125, fps=25, audio_codec="aac")
        vlm, omni = build_tiny_vlm(folder / "vlm"), build_tiny_qwen_omni(folder / "omni")
        backends = {
            "qwen2_vl (in process)": load_backend(str(vlm), device="cpu"),
            "qwen_omni (in process)": load_backend(str(omni), device="cpu"),
            "qwen2_vl (model process)": ProcessBackend(str(vlm), device="cpu", load_in_4bit=False),
        }
        print("\nFrom Stop to the next question (tiny models, CPU; median of", args.repeats, "runs)\n")
        print("| backend | phase | Stop -> answer ended (ms) | Stop -> next question's first piece (ms) |")
        print("|---|---|---|---|")
        for name, backend in backends.items():
            backend.load()
            list(backend.answer([Turn("user", "warm ?", (SegmentRef(str(video), 0.0, 2.0),))], SHORT))
            for phase in PHASES:
                runs = [measure(backend, video, points, phase) for _ in range(args.repeats)]
                ended_ms = statistics.median(r[0] for r in runs) * 1000
                next_ms = statistics.median(r[1] for r in runs) * 1000
                print(f"| {name} | {phase} | {ended_ms:.0f} | {next_ms:.0f} |")
            backend.unload()
    return 0


if __name__ == "__main__":
    sys.exit(main())
