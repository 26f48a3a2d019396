"""``vidi index``: build or complete a video's index (transcript, scenes, captions, keyframe embeddings, chapters),
with a progress bar on stderr.

    vidi index wedding.mp4
    vidi index lecture.mkv --asr-model whisper-base --model gemma-4-e2b

Arguments
    VIDEO               the video file.
    --model ID_OR_PATH  the model that captions the scenes and titles chapters (default: the best one on this
                        machine).
    --asr-model ID_OR_PATH  the speech model for the transcript when the video has no subtitles (default: the
                        best Whisper on this machine; sidecar .srt/.vtt files and embedded text tracks need none).
    --embed-model ID_OR_PATH  the SigLIP model that embeds keyframes, so questions find moments by their look
                        (default: siglip2-base when it is on this machine).

Parts already built cost nothing; a part that was stopped or killed resumes where it was. A part whose model is not
here is skipped, and the end report says why and what to pull; running ``vidi index`` again later completes it.
The index lives in Vidi's database ($VIDI_DATA_DIR), keyed by the video's content, so it follows renames.
Bad input: one line on stderr, exit code 2; Ctrl+C keeps what was built (exit 130).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core_model.cli import CliError

PART_ORDER = ("transcript", "scenes", "captions", "embeddings", "chapters")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "index", help="build or complete a video's index (transcript, scenes, captions, embeddings, chapters)",
        description="Build or complete the index of a video: its transcript, scenes, captions, keyframe "
                    "embeddings and chapters.",
    )
    parser.add_argument("video", metavar="VIDEO", help="the video file")
    parser.add_argument("--model", metavar="ID_OR_PATH", help="the model that captions scenes and titles chapters")
    parser.add_argument("--asr-model", metavar="ID_OR_PATH", help="the speech model (Whisper) for the transcript")
    parser.add_argument("--embed-model", metavar="ID_OR_PATH", help="the embedding model (SigLIP)")
    parser.set_defaults(func=run)


def existing_video(text: str) -> Path:
    """The video path, or a CliError line when it is not a readable file."""
    path = Path(text).expanduser()
    if not path.exists():
        raise CliError(f"file not found: {path}")
    if not path.is_file():
        raise CliError(f"{path} is not a file")
    return path


def run(args: argparse.Namespace) -> int:
    from core_model.index.runner import build_index
    from core_model.store.index_store import IndexStore

    video = existing_video(args.video)
    bar = IndexProgressBar(sys.stderr)
    with IndexStore() as store:
        try:
            report = build_index(video, parts=PART_ORDER, progress=bar.update, store=store,
                                 asr_model=args.asr_model, chapter_model=args.model, embed_model=args.embed_model)
        finally:
            bar.close()  # Ctrl+C or an error: their line starts on a line of its own
        for line in summary_lines(report, store):
            print(line)
    return 0


def summary_lines(report, store) -> list[str]:
    """One line per part: what it holds now, or why it was skipped."""
    from core_model.timefmt import format_clock_s

    lines = [f"{report.video.name} ({format_clock_s(report.duration_s)}):"]
    counts = {
        "transcript": lambda: _count(len(store.cues(report.fingerprint)), "line"),
        "scenes": lambda: _count(len(store.scenes(report.fingerprint)), "scene"),
        "captions": lambda: _count(len(store.captions(report.fingerprint)), "caption"),
        "embeddings": lambda: _count(len(store.keyframe_times(report.fingerprint)), "keyframe"),
        "chapters": lambda: _count(len(store.chapters(report.fingerprint)), "chapter"),
    }
    for part in PART_ORDER:
        state = report.parts[part]
        if part in report.skipped:
            lines.append(f"  {part}: skipped: {report.skipped[part]}")
            continue
        what = counts[part]() if part in counts else ""
        how = {"sidecar": f" from {state.model_id}", "embedded": f" from the video's {state.model_id}",
               "asr": f" by {state.model_id}" if state.model_id else ""}.get(state.source, "")
        if part == "chapters" and state.model_id:
            how = f" titled by {state.model_id}"
        elif part in ("captions", "embeddings") and state.model_id:
            how = f" by {state.model_id}"
        if state.state == "done":
            lines.append(f"  {part}: {what}{how}" + (" (built now)" if part in report.built else ""))
        elif state.state == "partial":
            if part == "chapters":  # not listed until all are titled: say how many are
                spans = store.chapter_spans(report.fingerprint)
                what = f"{sum(titled for _, _, titled in spans)} of {_count(len(spans), 'chapter')} titled"
            lines.append(f"  {part}: partial, up to {format_clock_s(state.done_until_s)}: {what}")
        else:
            lines.append(f"  {part}: missing")
    if report.stopped:
        lines.append("Stopped: run 'vidi index' again to go on where it stopped.")
    return lines


class ProgressLine:
    """A progress line on stderr: one line on a terminal (redrawn with \\r); on a pipe, a new line only when its
    ``key`` changes (e.g. per part and per 10%)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.is_tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last_line = ""
        self._last_key = None

    def show(self, line: str, key) -> None:
        if self.is_tty:
            self.stream.write("\r" + line.ljust(len(self._last_line)))
            self._last_line = line
        else:
            if key == self._last_key:
                return
            self._last_key = key
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.is_tty and self._last_line:
            self.stream.write("\n")
            self.stream.flush()
            self._last_line = ""


class IndexProgressBar(ProgressLine):
    """One video's index: a line per part and per 10% on a pipe."""

    WIDTH = 24

    def update(self, progress) -> None:
        self.show(format_index_progress(progress, self.WIDTH), (progress.part, int(progress.fraction * 10)))


def format_index_progress(p, width: int = 24) -> str:
    """ "scenes 2/3 [##########--------------]  42%  4:12 / 10:00  ETA 0:21  loading whisper-base" """
    from core_model.timefmt import format_clock_s

    filled = int(round(p.fraction * width))
    eta = "" if p.eta_s is None or p.fraction >= 1 else f"  ETA {format_clock_s(p.eta_s)}"
    message = f"  {p.message}" if p.message else ""
    return (f"{p.part} {p.part_number}/{p.part_count} [{'#' * filled}{'-' * (width - filled)}] "
            f"{p.fraction * 100:3.0f}%  {format_clock_s(p.position_s)} / {format_clock_s(p.duration_s)}"
            f"{eta}{message}")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
