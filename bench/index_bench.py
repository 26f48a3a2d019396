"""The index's cost per stage, in seconds per minute of video, and scenes + keyframes of a 10-min 1080p file.

    .venv/bin/python bench/index_bench.py [--work-dir /tmp/vidi-index-bench] [--skip-1080p] [--before] [--minutes 3]

Part 1, per stage on a generated 1280x720 25-fps H.264 + AAC video of ``--minutes`` minutes (speech from
espeak-ng when installed, else a tone): decode (every video frame, no conversion), audio (16-kHz mono in 30-s
windows, as ASR reads it), scenes (core_model.index.scenes, keyframe pictures included), ASR (a tiny random-weight
Whisper built here: the plumbing's cost, not a real model's), and the whole build_index (transcript by ASR + scenes).
Part 2: scenes + keyframes of a 10-min 1920x1080 25-fps file made with ffmpeg's testsrc2 (x264 ultrafast) whose
hue steps every 7 s (85 cuts), against the target of at most 30 s on this machine's 2 cores (20x real time): the
scene pass, which takes the keyframe pictures as it goes (one decode of the video for both), and their size; then,
apart, the keyframes decoded again as the embeddings part did before the pictures were stored (and still does for
an older index): the time that disappears. ``--before`` also times the scene pass without pictures.

Printed: a table of wall seconds, CPU seconds (every thread of this process) and seconds per minute of video, plus
the load average, since other programs share the cores. Generated files are kept in --work-dir for the next run.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import av  # noqa: E402

from core_model.index import keyframes  # noqa: E402
from core_model.index.asr import WhisperTranscriber  # noqa: E402
from core_model.index.runner import build_index  # noqa: E402
from core_model.index.scenes import detect_scenes, scan_scenes  # noqa: E402
from core_model.media import load_audio, probe  # noqa: E402
from core_model.store.index_store import IndexStore  # noqa: E402

TARGET_1080P_S = 30.0
CUT_EVERY_S = 7


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def ffmpeg(*arguments: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *arguments], check=True)


def make_720p(folder: Path, minutes: float) -> Path:
    path = folder / f"bench_720p_{minutes:g}min.mp4"
    if path.exists():
        return path
    duration = str(minutes * 60)
    if shutil.which("espeak-ng"):
        wav = folder / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "Welcome to the castle. The guide tells its story, "
                        "room by room, from the great hall to the garden."], check=True)
        audio = ["-stream_loop", "-1", "-i", str(wav)]
    else:
        audio = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=s=1280x720:r=25:d={duration}", *audio, "-t", duration,
           "-vf", f"hue=h='60*floor(t/{CUT_EVERY_S})'", "-c:v", "libx264", "-preset", "ultrafast",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(path))
    return path


def make_1080p(folder: Path) -> Path:
    path = folder / "bench_1080p_10min.mp4"
    if not path.exists():
        ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=25:d=600", "-vf", f"hue=h='60*floor(t/{CUT_EVERY_S})'",
               "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path))
    return path


def timed(function):
    wall, cpu = time.perf_counter(), cpu_s()
    result = function()
    return result, time.perf_counter() - wall, cpu_s() - cpu


def decode_all(path: Path) -> int:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        return sum(1 for _ in container.decode(stream))


def decode_keyframes(path: Path, scenes) -> int:
    """The scenes' keyframes decoded as the embeddings part decodes them, with an embedder that costs nothing."""
    import numpy as np

    class DecodeOnly:
        def embed_images(self, frames):
            return np.zeros((len(frames), 1), np.float32)

    duration_s = probe(path).duration_s
    return sum(len(times_s) for _, times_s, _ in keyframes.embed_keyframes(path, scenes, DecodeOnly(), duration_s))


def audio_windows(path: Path, duration_s: float) -> int:
    samples, start_s = 0, 0.0
    while start_s < duration_s:
        chunk = load_audio(path, start_s, min(start_s + 30.0, duration_s))
        samples += 0 if chunk is None else chunk.size
        start_s += 30.0
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()) / "vidi-index-bench")
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--skip-1080p", action="store_true")
    parser.add_argument("--before", action="store_true",
                        help="also time the 1080p scenes without pictures (the cost before they were taken)")
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    if shutil.which("ffmpeg") is None:
        print("ffmpeg is needed to make the bench videos", file=sys.stderr)
        return 2

    from tests.fixtures.tiny_siglip import build_tiny_siglip
    from tests.fixtures.tiny_vlm import build_tiny_vlm
    from tests.fixtures.tiny_whisper import build_tiny_whisper

    print(f"making the videos in {args.work_dir} (kept for the next run)...", file=sys.stderr)
    video = make_720p(args.work_dir, args.minutes)
    whisper = args.work_dir / "tiny-whisper"
    if not (whisper / "config.json").exists():
        build_tiny_whisper(whisper)
    vlm, siglip = args.work_dir / "tiny-vlm", args.work_dir / "tiny-siglip"
    if not (vlm / "config.json").exists():
        build_tiny_vlm(vlm)
    if not (siglip / "config.json").exists():
        build_tiny_siglip(siglip)
    minutes = probe(video).duration_s / 60
    rows = []

    def row(stage, what, wall, cpu, video_minutes, note=""):
        rows.append((stage, what, f"{wall:.2f}", f"{cpu:.2f}", f"{wall / video_minutes:.2f}", note))

    frames, wall, cpu = timed(lambda: decode_all(video))
    row("decode", "720p", wall, cpu, minutes, f"{frames} frames")
    samples, wall, cpu = timed(lambda: audio_windows(video, minutes * 60))
    row("audio", "720p", wall, cpu, minutes, f"{samples / 16000:.0f} s at 16 kHz")
    found, wall, cpu = timed(lambda: list(scan_scenes(video)))
    row("scenes", "720p", wall, cpu, minutes, f"{len(found)} scenes (expected {int(minutes * 60 // CUT_EVERY_S) + 1}),"
        " keyframe pictures included")
    transcriber, wall, cpu = timed(lambda: WhisperTranscriber.load(whisper, "tiny-whisper", device="cpu"))
    row("asr load", "tiny Whisper", wall, cpu, minutes)
    windows, wall, cpu = timed(lambda: list(transcriber.transcribe(video)))
    row("asr", "tiny Whisper", wall, cpu, minutes, f"{len(windows)} windows, {sum(len(w.cues) for w in windows)} cues")
    with IndexStore(args.work_dir / "bench.sqlite3") as store:
        store.reset_part(_fingerprint(video), "transcript")
        store.reset_part(_fingerprint(video), "scenes")
        report, wall, cpu = timed(lambda: build_index(video, parts=("transcript", "scenes"), store=store,
                                                      asr_model=str(whisper)))
    row("build_index", "transcript + scenes", wall, cpu, minutes, "built: " + ", ".join(report.built))
    with IndexStore(args.work_dir / "bench.sqlite3") as store:
        for part, model, option in (("captions", vlm, "chapter_model"), ("embeddings", siglip, "embed_model")):
            store.reset_part(_fingerprint(video), part)
            report, wall, cpu = timed(lambda: build_index(video, parts=(part,), store=store, **{option: str(model)}))
            count = (len(store.captions(report.fingerprint)) if part == "captions"
                     else len(store.keyframe_times(report.fingerprint)))
            row(part, model.name, wall, cpu, minutes,
                f"{count} {'windows' if part == 'captions' else 'keyframes'}, model load included"
                + ("" if part in report.built else f"; skipped: {report.skipped.get(part)}"))
    db_bytes = sum(f.stat().st_size for f in args.work_dir.glob("bench.sqlite3*"))

    if not args.skip_1080p:
        print("making the 10-min 1080p file (minutes, once)...", file=sys.stderr)
        big = make_1080p(args.work_dir)
        found, wall, cpu = timed(lambda: list(scan_scenes(big)))
        scenes = [f.scene for f in found]
        pictures = [p for f in found for p in f.pictures]
        picture_bytes = sum(len(p.jpeg) for p in pictures)
        verdict = "meets" if wall <= TARGET_1080P_S else "misses"
        row("scenes + keyframe pictures", "1080p 10 min", wall, cpu, 10.0,
            f"{len(scenes)} scenes, {len(pictures)} keyframe pictures; {verdict} the {TARGET_1080P_S:.0f}-s target "
            f"({600 / wall:.0f}x real time)")
        row("  keyframe pictures stored", "1080p 10 min", 0.0, 0.0, 10.0,
            f"{picture_bytes / max(len(pictures), 1) / 1e3:.1f} kB per keyframe (JPEG), "
            f"{picture_bytes * 6 / 1e6:.2f} MB per hour of this video; off by at most "
            f"{max((abs(p.shown_s - p.time_s) for p in pictures), default=0.0):.2f} s from the keyframe times")
        count, wall, cpu = timed(lambda: decode_keyframes(big, scenes))
        row("keyframes decoded again", "1080p 10 min", wall, cpu, 10.0, f"{count} keyframes at "
            f"{keyframes.KEYFRAME_SIDE_PX} px in one pass: what the embeddings part no longer spends (it still does "
            "for an index built before the pictures were stored)")
        if args.before:
            scenes, wall_before, cpu_before = timed(lambda: list(detect_scenes(big)))
            row("scenes alone (before)", "1080p 10 min", wall_before, cpu_before, 10.0,
                f"without pictures; + the decode above: {wall_before + wall:.1f} s wall, "
                f"{cpu_before + cpu:.1f} s CPU for scenes + keyframes the old way")

    header = ("stage", "on", "wall s", "CPU s", "s per video min", "")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{minutes:.1f}-min 720p video; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"index database {db_bytes / 1e3:.0f} kB (keyframe pictures included: "
          f"{db_bytes / 1e6 * 60 / minutes:.1f} MB per hour of video at most; free pages of earlier runs count too)")
    for line in [header, *rows]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip())
    return 0


def _fingerprint(path: Path) -> str:
    from core_model.store.fingerprint import fingerprint_file

    return fingerprint_file(path)


if __name__ == "__main__":
    sys.exit(main())
