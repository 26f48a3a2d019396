"""Benchmark of the media pipeline against the naive ways (a script, not a test).

    .venv/bin/python bench/media_bench.py [--gop-s 2] [--repeats 3] [--quick]

Generates once, cached under bench/out/: 1080p30 H.264 (x264 ultrafast, keyframe every ``--gop-s`` seconds) + AAC
stereo 48 kHz files of 60 s and 10 min (the 10-min file is the 60-s one joined ten times, stream copy). Then times,
median of ``--repeats`` runs, file opening included:

- N = 8 and N = 32 frames of a 15-s segment (at 300 s / 30 s) and of the whole file;
- 15 s of audio as 16 kHz mono;
- frames + audio of the 15-s segment with ``sample_segment`` (the target: under 0.3 s on the 10-min file);

with ``core_model.media`` (engine "auto" = PyAV reader, and engine "decord") and the naive ways: decord
``VideoReader.get_batch`` on the same indices, OpenCV seek-per-frame, PyAV seek-per-frame, decord ``AudioReader``
and a PyAV decode of the whole track. Ratios are naive time / our time with engine "auto" (> 1: we are faster).
Wall-clock times, so run it on a quiet machine; the table also gives our process CPU time, which shared cores
disturb less.
Needs the ffmpeg binary to make the files (the app itself never does).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core_model import media  # noqa: E402

OUT = ROOT / "bench" / "out"
SEGMENT_S = 15.0


# ----------------------------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------------------------


def make_files(gop_s: float) -> dict[str, Path]:
    """The 60-s and 10-min files, made once per GOP length."""
    OUT.mkdir(parents=True, exist_ok=True)
    gop = round(gop_s * 30)
    short = OUT / f"bench_60s_gop{gop}.mp4"
    long = OUT / f"bench_600s_gop{gop}.mp4"
    if not short.exists():
        print(f"making {short.name} (1080p30, ultrafast, keyframe every {gop} frames) ...", flush=True)
        partial = short.with_suffix(".part.mp4")
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=30",
             "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "60",
             "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop), "-pix_fmt", "yuv420p",
             "-c:a", "aac", "-ac", "2", "-b:a", "128k", str(partial)],
            check=True,
        )
        partial.rename(short)
    if not long.exists():
        print(f"making {long.name} (the 60-s file ten times, stream copy) ...", flush=True)
        playlist = OUT / "concat.txt"
        playlist.write_text("".join(f"file '{short.name}'\n" for _ in range(10)))
        partial = long.with_suffix(".part.mp4")
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(playlist),
                        "-c", "copy", str(partial)], check=True)
        partial.rename(long)
    return {"60 s": short, "10 min": long}


# ----------------------------------------------------------------------------------------------------------------
# The naive ways
# ----------------------------------------------------------------------------------------------------------------


def _indices(path: Path, times_s: list[float]) -> list[int]:
    fps = media.probe(path).fps
    return [int(t * fps) for t in times_s]


def decord_get_batch(path: Path, times_s: list[float]) -> np.ndarray:
    import decord

    reader = decord.VideoReader(str(path), num_threads=0)
    fps = reader.get_avg_fps()
    return reader.get_batch([min(int(t * fps), len(reader) - 1) for t in times_s]).asnumpy()


def opencv_seek_per_frame(path: Path, times_s: list[float]) -> np.ndarray:
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames = []
    for index in _indices(path, times_s):
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, bgr = capture.read()
        if not ok:
            raise RuntimeError(f"OpenCV could not read frame {index}")
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    capture.release()
    return np.stack(frames)


def pyav_seek_per_frame(path: Path, times_s: list[float]) -> np.ndarray:
    import av

    frames = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for time_s in times_s:
            target = int(time_s / stream.time_base)
            container.seek(target, stream=stream, backward=True)
            previous = None
            for frame in container.decode(stream):
                if frame.pts > target:
                    break
                previous = frame
            frames.append((previous or frame).to_ndarray(format="rgb24"))
    return np.stack(frames)


def decord_audio(path: Path, start_s: float, end_s: float) -> np.ndarray:
    import decord

    reader = decord.AudioReader(str(path), sample_rate=16000, mono=True)
    return reader[round(start_s * 16000) : round(end_s * 16000)].asnumpy()


def pyav_whole_track_audio(path: Path, start_s: float, end_s: float) -> np.ndarray:
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
    chunks = []
    with av.open(str(path)) as container:
        for frame in container.decode(container.streams.audio[0]):
            chunks.extend(out.to_ndarray()[0] for out in resampler.resample(frame))
    return np.concatenate(chunks)[round(start_s * 16000) : round(end_s * 16000)]


# ----------------------------------------------------------------------------------------------------------------
# Timing
# ----------------------------------------------------------------------------------------------------------------


CPU_S: dict[tuple[str, str], float] = {}
"""(task, way) -> median process CPU time, for the table's CPU column."""


def measure(task: str, ways: dict, repeats: int) -> tuple[str, dict[str, float]]:
    """Median wall time of each way (and its CPU time into CPU_S); the ways take turns, run after run."""
    walls: dict[str, list[float]] = {name: [] for name in ways}
    cpus: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(repeats):
        for name, function in ways.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            function()
            walls[name].append(time.perf_counter() - started)
            cpus[name].append(time.process_time() - started_cpu)
    for name in ways:
        CPU_S[(task, name)] = statistics.median(cpus[name])
    return task, {name: statistics.median(values) for name, values in walls.items()}


def run(gop_s: float, repeats: int, quick: bool) -> None:
    files = make_files(gop_s)
    load_before = f"{os.getloadavg()[0]:.2f}"
    media.load_audio(files["60 s"], 1.0, 2.0)  # import torch / torchaudio once, outside the timings
    rows = []
    for label, path in files.items():
        duration_s = media.probe(path).duration_s
        segment = (300.0, 300.0 + SEGMENT_S) if duration_s > 400 else (30.0, 30.0 + SEGMENT_S)
        for num_frames in (8, 32):
            for span_label, (start_s, end_s) in (("15-s segment", segment), ("whole file", (0.0, duration_s))):
                if quick and span_label == "whole file" and label == "10 min":
                    continue
                times_s = media.sample_times_s(start_s, end_s, num_frames)
                task = f"{label}: {num_frames} frames, {span_label}"
                ours = {
                    "ours (auto)": lambda: media.sample_frames(path, start_s, end_s, num_frames),
                    "ours (engine=decord)": lambda: media.sample_frames(path, start_s, end_s, num_frames,
                                                                         engine="decord"),
                }
                naive = {
                    "decord get_batch": lambda: decord_get_batch(path, times_s),
                    "OpenCV seek/frame": lambda: opencv_seek_per_frame(path, times_s),
                    "PyAV seek/frame": lambda: pyav_seek_per_frame(path, times_s),
                }
                rows.append(measure(task, {**ours, **naive}, repeats))
                print_row(*rows[-1])
        start_s, end_s = segment
        audio_ways = {
            "ours (auto)": lambda: media.load_audio(path, start_s, end_s),
            "decord AudioReader": lambda: decord_audio(path, start_s, end_s),
            "PyAV whole track": lambda: pyav_whole_track_audio(path, start_s, end_s),
        }
        rows.append(measure(f"{label}: 15 s of audio", audio_ways, repeats))
        print_row(*rows[-1])
        both = {
            "ours (auto)": lambda: media.sample_segment(path, start_s, end_s, 8, with_audio=True),
            "ours (engine=decord)": lambda: (media.sample_frames(path, start_s, end_s, 8, engine="decord"),
                                             media.load_audio(path, start_s, end_s)),
            "decord + decord audio": lambda: (decord_get_batch(path, media.sample_times_s(start_s, end_s, 8)),
                                              decord_audio(path, start_s, end_s)),
            "PyAV seek/frame + whole track": lambda: (
                pyav_seek_per_frame(path, media.sample_times_s(start_s, end_s, 8)),
                pyav_whole_track_audio(path, start_s, end_s),
            ),
        }
        rows.append(measure(f"{label}: 8 frames + audio, 15-s segment", both, repeats))
        print_row(*rows[-1])
    print()
    print(f"load average before/after: {load_before} / {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    print(f"| task (1080p30 H.264 ultrafast, keyframe every {gop_s:g} s; median of {repeats}) | ours wall (CPU) | "
          "best naive wall (CPU) | naive / ours: wall, CPU | every way, wall s |")
    print("|---|---|---|---|---|")
    for task, timings in rows:
        ours_s, ours_cpu_s = timings["ours (auto)"], CPU_S[(task, "ours (auto)")]
        naive = {k: v for k, v in timings.items() if not k.startswith("ours")}
        best = min(naive, key=naive.get)
        best_cpu_s = min(CPU_S[(task, k)] for k in naive)
        detail = ", ".join(f"{k} {v:.3f}" for k, v in timings.items())
        print(f"| {task} | {ours_s:.3f} s ({ours_cpu_s:.3f}) | {naive[best]:.3f} s ({best}; CPU {best_cpu_s:.3f}) | "
              f"{naive[best] / ours_s:.1f}x, {best_cpu_s / ours_cpu_s:.1f}x | {detail} |")


def print_row(task: str, timings: dict[str, float]) -> None:
    print(f"{task:45s} " + "  ".join(f"{k}={v:.3f}s" for k, v in timings.items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gop-s", type=float, default=2.0, help="keyframe interval of the generated files, seconds")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="skip the slow whole-file rows of the 10-min file")
    args = parser.parse_args()
    run(args.gop_s, args.repeats, args.quick)


if __name__ == "__main__":
    main()
