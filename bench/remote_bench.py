"""Remote inference bench (a script, not a test): what the remote path costs on top of running the model here.

    .venv/bin/python bench/remote_bench.py                      # local vs transformers serve on loopback, tiny model
    .venv/bin/python bench/remote_bench.py --server http://127.0.0.1:8000 --model Qwen/Qwen2.5-VL-7B-Instruct \\
        --concurrency 1,4,16                                     # an existing server (bench/gpu_vllm.sh on a GPU)

Measures, for one question about 8 frames of a 15-s segment of a 1280x720 video with its 15 s of sound:

- request size: the JSON messages with the frames as JPEG images or as one MP4, plus the WAV (target < 1.5 MB);
- client overhead: encoding frames and sound, base64 and JSON (what the remote path adds here; decoding the video
  is the same work for a local model), median of 5 (target < 50 ms);
- time to first token added by the remote path: the same tiny Gemma 4 (tests/fixtures/tiny_omni.py) answered by a
  local backend in this process and by ``transformers serve`` on 127.0.0.1 (median of 3 each);
- with ``--server``: time to first token and tokens/s at each ``--concurrency`` (questions sent at once).

The 720p file is generated once under bench/out/ (ffmpeg testsrc2 with film-grain noise, so JPEG sizes are those of
camera footage, not of flat test colours).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core_model import media  # noqa: E402
from core_model.backends import GenerationOptions, SegmentRef, Turn  # noqa: E402
from core_model.backends import openai_content  # noqa: E402
from core_model.backends.segment_frames import sample_segment  # noqa: E402

OUT = ROOT / "bench" / "out"
SEGMENT = (5.0, 20.0)
NUM_FRAMES = 8
QUESTION = "What happens in this segment, and what is heard?"


def make_video() -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "remote_720p_30s.mp4"
    if not path.exists() and shutil.which("ffmpeg") is None:  # e.g. a lent GPU machine: PyAV writes one
        from tests.fixtures.media import write_numbered_video

        print(f"making {path.name} with PyAV (no ffmpeg here) ...", flush=True)
        write_numbered_video(path, num_frames=900, fps=30, width=1280, height=720, audio_codec="aac")
    if not path.exists():
        print(f"making {path.name} (1280x720 30 fps with grain, AAC) ...", flush=True)
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "30",
             "-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-ac", "2", str(path)],
            check=True,
        )
    return path


def _median_s(function, repeats: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``function`` (CPU time: less disturbed by other work on shared cores)."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
    return statistics.median(walls), statistics.median(cpus), result


def measure_payload(video: Path) -> list[tuple[str, str, str]]:
    clip = sample_segment(SegmentRef(str(video), *SEGMENT), NUM_FRAMES)
    wave = media.load_audio(str(video), *SEGMENT)
    rows = []
    for name, encode in (("JPEG images", openai_content.frames_as_images),
                         ("one MP4 (video_url)", openai_content.frames_as_video)):
        def build():
            parts = [*encode(clip), openai_content.audio_part(wave)]
            messages = openai_content.build_messages([Turn("user", QUESTION)], parts)
            return openai_content.request_size_bytes(messages)  # serialising is part of the cost

        wall_s, cpu_s, size = _median_s(build, 5)
        rows.append((f"8 frames 720p as {name} + 15 s WAV", f"{size / 1e6:.2f} MB",
                     f"{wall_s * 1000:.0f} ms wall, {cpu_s * 1000:.0f} ms CPU"))
    return rows


def _ttft(backend, video: Path, repeats: int) -> tuple[float, float]:
    """Median time to first token and tokens/s of ``repeats`` answers (16 new tokens each)."""
    firsts, rates = [], []
    options = GenerationOptions(max_new_tokens=16, num_frames=NUM_FRAMES)
    for _ in range(repeats):
        pieces = list(backend.answer([Turn("user", QUESTION, (SegmentRef(str(video), *SEGMENT),))], options))
        run = backend.last_run
        assert pieces, "no answer"
        firsts.append(run.first_token_s)
        generating_s = max(run.total_s - run.first_token_s, 1e-6)
        rates.append(max(run.num_new_tokens - 1, 1) / generating_s)
    return statistics.median(firsts), statistics.median(rates)


def measure_local_vs_remote(video: Path, repeats: int) -> list[tuple[str, str, str]]:
    from core_model.backends import load_backend
    from core_model.backends.remote import RemoteBackend
    from core_model.backends.remote_probe import SupportCache
    from tests.fixtures.remote_server import start_transformers_server
    from tests.fixtures.tiny_omni import build_tiny_gemma4

    folder = OUT / "tiny-gemma4"
    if not (folder / "config.json").exists():
        build_tiny_gemma4(folder)
    local = load_backend(str(folder), device="cpu")
    local.load()
    local_ttft, local_rate = _ttft(local, video, repeats)
    local_plan = local.last_run.plan
    local.unload()
    server = start_transformers_server(folder, OUT)
    try:
        remote = RemoteBackend(server.base_url, server.model, support_cache=SupportCache(OUT / "remote_servers.json"))
        remote.load()
        remote_ttft, remote_rate = _ttft(remote, video, repeats)
        plan = remote.last_run.plan
    finally:
        server.stop()
    return [
        ("local tiny Gemma 4 (this process, CPU)", f"TTFT {local_ttft * 1000:.0f} ms",
         f"{local_rate:.0f} tok/s; {local_plan}"),
        ("same model via transformers serve (loopback)", f"TTFT {remote_ttft * 1000:.0f} ms",
         f"{remote_rate:.0f} tok/s; {plan}"),
        ("time to first token added by the remote path", f"{(remote_ttft - local_ttft) * 1000:+.0f} ms", ""),
    ]


def measure_server(video: Path, server: str, model: str, levels: list[int], max_new_tokens: int):
    """TTFT and tokens/s with N questions at once, each from its own backend (its own connection)."""
    from core_model.backends.remote import RemoteBackend

    rows = []
    for level in levels:
        backends = [RemoteBackend(server, model) for _ in range(level)]
        for backend in backends:
            backend.load()
        results: list[tuple[float, int, float]] = []
        lock = threading.Lock()

        def ask(backend):
            options = GenerationOptions(max_new_tokens=max_new_tokens, num_frames=NUM_FRAMES)
            list(backend.answer([Turn("user", QUESTION, (SegmentRef(str(video), *SEGMENT),))], options))
            run = backend.last_run
            with lock:
                results.append((run.first_token_s, run.num_new_tokens, run.total_s))

        started = time.perf_counter()
        threads = [threading.Thread(target=ask, args=(b,)) for b in backends]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall_s = time.perf_counter() - started
        ttfts = sorted(r[0] for r in results)
        per_question = statistics.median(max(n - 1, 1) / max(total - first, 1e-6) for first, n, total in results)
        total_tokens = sum(r[1] for r in results)
        rows.append((f"{level} at once", f"TTFT median {statistics.median(ttfts) * 1000:.0f} ms, "
                                         f"max {ttfts[-1] * 1000:.0f} ms",
                     f"{per_question:.1f} tok/s each, {total_tokens / wall_s:.1f} tok/s in all"))
    return rows


def print_table(title: str, rows: list[tuple[str, str, str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print(f"\n{title}")
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", help="bench an existing server instead of a local transformers serve")
    parser.add_argument("--model", help="the model's name on --server")
    parser.add_argument("--concurrency", default="1,4,16", help="questions at once with --server (default 1,4,16)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--video", type=Path, help="a video to ask about (default: the generated 720p file)")
    args = parser.parse_args()
    video = args.video or make_video()
    print_table("Request (target < 1.5 MB) and client overhead (target < 50 ms), median of 5:",
                measure_payload(video))
    if args.server:
        levels = [int(n) for n in args.concurrency.split(",") if n.strip()]
        print_table(f"{args.model} on {args.server}:",
                    measure_server(video, args.server, args.model, levels, args.max_new_tokens))
    else:
        print_table(f"Local vs remote, same tiny model, median of {args.repeats}:",
                    measure_local_vs_remote(video, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
