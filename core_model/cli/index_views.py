"""``vidi transcript`` and ``vidi chapters``: print what a video's index holds (built by ``vidi index``).

    vidi transcript talk.mp4 --format srt > talk.srt       # also vtt, txt, json
    vidi chapters talk.mp4 --json                          # [{"start_s", "end_s", "title", "summary"}, ...]

A video without that part in its index: one line saying to run ``vidi index``, exit code 2 (nothing is built
here: building takes minutes and models; it is never done silently). A partial transcript is printed with a
warning on stderr saying how far it goes.
"""

from __future__ import annotations

import argparse
import json
import sys

from core_model.cli import CliError
from core_model.cli.index import existing_video

FORMATS = ("srt", "vtt", "txt", "json")


def register(subparsers) -> None:
    transcript = subparsers.add_parser("transcript", help="print a video's transcript (from its index)",
                                       description="Print the transcript in a video's index.")
    transcript.add_argument("video", metavar="VIDEO", help="the video file")
    transcript.add_argument("--format", choices=FORMATS, default="srt", help="srt (default), vtt, txt or json")
    transcript.set_defaults(func=run_transcript)

    chapters = subparsers.add_parser("chapters", help="print a video's chapters (from its index)",
                                     description="Print the chapters in a video's index.")
    chapters.add_argument("video", metavar="VIDEO", help="the video file")
    chapters.add_argument("--json", action="store_true",
                          help='a JSON list of {"start_s", "end_s", "title", "summary"}')
    chapters.set_defaults(func=run_chapters)


def _fingerprint(video) -> str:
    from core_model.store.fingerprint import fingerprint_file

    try:
        return fingerprint_file(video)
    except OSError as exc:
        raise CliError(f"cannot read {video}: {exc.strerror or exc}") from exc


def run_transcript(args: argparse.Namespace) -> int:
    from core_model.index.subtitles import to_srt, to_text, to_vtt
    from core_model.store.index_store import IndexStore
    from core_model.timefmt import format_clock_s

    video = existing_video(args.video)
    fingerprint = _fingerprint(video)
    with IndexStore() as store:
        state = store.part(fingerprint, "transcript")
        cues = store.cues(fingerprint)
    if state.state == "missing":
        why = f" ({state.notice.rstrip('.')})" if state.notice else ""
        raise CliError(f"{video.name} has no transcript yet{why}: run 'vidi index {args.video}'")
    if state.done and not cues:  # said, not an empty output that looks like a failure
        print(f"vidi: note: nothing is said in {video.name}: it has no subtitles and no speech was heard",
              file=sys.stderr)
    if state.state == "partial":
        print(f"vidi: warning: the transcript is partial (up to {format_clock_s(state.done_until_s)}): run "
              f"'vidi index {args.video}' to complete it", file=sys.stderr)
    if args.format == "json":
        text = json.dumps([{"start_s": c.start_s, "end_s": c.end_s, "text": c.text, "source": c.source,
                            "language": c.language} for c in cues], ensure_ascii=False, indent=1) + "\n"
    else:
        text = {"srt": to_srt, "vtt": to_vtt, "txt": to_text}[args.format](cues)
    sys.stdout.write(text)
    return 0


def run_chapters(args: argparse.Namespace) -> int:
    from core_model.store.index_store import IndexStore
    from core_model.timefmt import format_clock_s

    video = existing_video(args.video)
    fingerprint = _fingerprint(video)
    with IndexStore() as store:
        state = store.part(fingerprint, "chapters")
        chapters = store.chapters(fingerprint)
    if not state.done:
        why = f" ({state.notice.rstrip('.')})" if state.notice else ""  # one sentence: no ".)" before the ":"
        raise CliError(f"{video.name} has no chapters yet{why}: run 'vidi index {args.video}'")
    if args.json:
        print(json.dumps([{"start_s": c.start_s, "end_s": c.end_s, "title": c.title, "summary": c.summary}
                          for c in chapters], ensure_ascii=False, indent=1))
        return 0
    for chapter in chapters:
        summary = f"  {chapter.summary}" if chapter.summary else ""
        print(f"{format_clock_s(chapter.start_s)}-{format_clock_s(chapter.end_s)}  {chapter.title}{summary}")
    return 0
