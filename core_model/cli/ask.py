"""``vidi ask``: ask a model about a segment of a video and/or images, streaming the answer to stdout.

    vidi ask talk.mp4 --start 1:05 --end 1:20 "What is written on the slide?"
    vidi ask talk.mp4 --start 65 --end 80.5 --image chart.png --frames 16 --json "Is this chart in the talk?"
    vidi ask --image photo.jpg "What breed is this dog?"          # no video: images only
    vidi ask talk.mp4 --server http://gpu-box:8000 --model Qwen/Qwen2.5-VL-7B-Instruct "..."   # on a vLLM server

Arguments
    VIDEO       the video file; may be left out when at least one --image is given.
    QUESTION    the question, the last positional word (quote it).
    --start/--end   the segment, as SS, M:SS or H:MM:SS, with decimals (65, 1:05, 0:01:05.5). Left out: the
                start / end of the video.
    --image IMG (repeatable), --no-audio (do not use the segment's sound), --frames N (frames sampled from the
    segment, default 8), --model ID_OR_PATH (default: $VIDI_MODEL, else the first model on this machine in the
    catalog's preferred order for the device; none there: one line saying which to pull, exit code 2),
    --server URL (an OpenAI-compatible server, e.g. vLLM, to run the model on; default $VIDI_SERVER; --model is
    then the model's name there), --device auto|cuda|mps|cpu, --4bit/--no-4bit (default: 4-bit on CUDA only),
    --max-new-tokens N (512),
    --json (print nothing while streaming; one JSON object at the end: answer, model, frames' timestamps,
    timings, chat id).

Without --start/--end, a question is about the whole video (core_model.cli.ask_whole_video): on an indexed video
(see `vidi index`) the moments that matter are found in its transcript and captions and re-watched (frames + sound),
and the answer cites times as M:SS; "summarise"-type questions are answered from its chapters. The sources follow the
answer ("Sources:" lines; with --json, ``sources``: a list of {"start_s", "end_s", "why"}, and ``answered_from``:
"moments", "summary", "segment" or "images"). A video up to a minute long without an index is answered in one pass
over the whole file; a longer one is indexed first (transcript and scenes, with a notice on stderr); an existing
index is never rebuilt by a question.

Every exchange is recorded in the conversation store through core_model.chat_session (a new chat per call;
$VIDI_DATA_DIR overrides its folder): the question and a pending answer before the model loads, the answer's
status (complete, stopped, or failed with its error) after. Bad arguments
and unreadable files give one line on stderr and exit code 2; Ctrl+C stops the answer (kept as "stopped") and
exits 130.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Iterator

from core_model.cli import CliError
from core_model.cli import remote as remote_cli

MAX_FRAMES = 256


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "ask",
        help="ask a model about a video segment and/or images",
        description="Ask a local model about a segment of a video and/or images; the answer streams to stdout.",
        usage="vidi ask [VIDEO] [--start TIME] [--end TIME] [--image IMG]... [options] QUESTION",
    )
    add = parser.add_argument
    add("words", nargs="*", metavar="[VIDEO] QUESTION", help="the video (optional with --image), then the question")
    add("--start", type=parse_time_s, metavar="TIME", help="segment start: SS, M:SS or H:MM:SS (default: 0)")
    add("--end", type=parse_time_s, metavar="TIME", help="segment end (default: end of the video)")
    add("--image", action="append", default=[], metavar="IMG", help="an image to ask about (repeatable)")
    add("--no-audio", action="store_true", help="do not use the segment's sound")
    add("--model", metavar="ID_OR_PATH",
        help="catalog id or model folder (default: $VIDI_MODEL, else the best model on this machine); "
             "with --server, the model's name on the server")
    add("--server", metavar="URL", help=remote_cli.SERVER_HELP)
    add("--frames", type=_positive_int("--frames", MAX_FRAMES), default=8, metavar="N",
        help="frames sampled from the segment (default: 8)")
    add("--device", choices=("auto", "cuda", "mps", "cpu"), default="auto", help="where to run (default: auto)")
    add("--4bit", dest="load_in_4bit", action=argparse.BooleanOptionalAction, default=None,
        help="load the model in 4-bit NF4 (default: on CUDA only)")
    add("--max-new-tokens", type=_positive_int("--max-new-tokens", 1_000_000), default=512, metavar="N",
        help="longest answer in tokens (default: 512)")
    add("--json", action="store_true", help="print one JSON object at the end instead of streaming")
    parser.set_defaults(func=run, intermixed_positionals="words")


# ----------------------------------------------------------------------------------------------------------------
# Argument parsing
# ----------------------------------------------------------------------------------------------------------------

_TIME_PATTERN = re.compile(r"^(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?|\.\d+)$")


def parse_time_s(text: str) -> float:
    """Seconds from "SS", "M:SS" or "H:MM:SS", each with optional decimals ("65", "1:05", "0:01:05.5").

    Minutes and seconds after a colon must be below 60. Raises argparse.ArgumentTypeError with a plain message.
    """
    match = _TIME_PATTERN.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a time: use SS, M:SS or H:MM:SS, e.g. 65, 1:05 or 0:01:05.5"
        )
    first, second, seconds_text = match.groups()
    seconds = float(seconds_text)
    if second is not None:  # H:MM:SS
        hours, minutes = int(first), int(second)
    elif first is not None:  # M:SS
        hours, minutes = 0, int(first)
    else:
        return seconds
    if seconds >= 60 or (second is not None and minutes >= 60):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a time: minutes and seconds after a colon must be below 60"
        )
    return hours * 3600 + minutes * 60 + seconds


def _positive_int(option: str, maximum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{option} takes a whole number, not '{text}'") from None
        if not 1 <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{option} must be between 1 and {maximum}, not {value}")
        return value

    return parse


def _split_words(args: argparse.Namespace) -> tuple[str | None, str]:
    """(video path or None, question) from the positional words."""
    words = list(args.words)
    if not words:
        raise CliError('no question given: vidi ask [VIDEO] [--start TIME] [--end TIME] [--image IMG] "QUESTION"')
    if len(words) > 2:
        raise CliError(f"too many words: put the question in quotes (got {len(words)} words: {' '.join(words)})")
    question = words[-1].strip()
    if not question:
        raise CliError("the question is empty")
    return (words[0] if len(words) == 2 else None), question


# ----------------------------------------------------------------------------------------------------------------
# The command
# ----------------------------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    from core_model.backends import ImageRef, SegmentRef

    video, question = _split_words(args)
    media = []
    duration_s = None
    if video is None:
        if not args.image:
            raise CliError("nothing to look at: give a VIDEO (with --start/--end) or at least one --image")
        if args.start is not None or args.end is not None:
            raise CliError("--start/--end need a VIDEO")
    else:
        duration_s = _check_video(video, args.start, args.end)
        media.append(SegmentRef(str(Path(video).resolve()), args.start, args.end, include_audio=not args.no_audio))
    for image in args.image:
        _check_image(image)
        media.append(ImageRef(str(Path(image).resolve())))
    plan = None
    if video is not None and args.start is None and args.end is None:
        # the whole video: from its index (moments or chapters), indexing a long one first; a short one without
        # an index stays one pass over the file
        from core_model.cli.ask_whole_video import whole_video_plan

        plan = whole_video_plan(video, question, duration_s, num_frames=args.frames, include_audio=not args.no_audio)

    server = remote_cli.chosen_server(args)
    model = remote_cli.remote_model(server, args.model) if server else (args.model or _default_model(args.device))
    with _quiet_libraries():
        # checks that need no model come first (above; a bad --model folder here), then the question is recorded,
        # then the model loads: a kill while it loads keeps the question (see _ask_and_record)
        backend = _backend_for(model, args.device, args.load_in_4bit)
        return _ask_and_record(args, backend, model, question, media, video, duration_s, plan)


def _default_model(device: str) -> str:
    """$VIDI_MODEL, else the first model on disk in the catalog's order for ``device``; none: CliError naming the
    model to pull."""
    import os

    from core_model.backends import MODEL_ENV
    from core_model.models.choice import model_on_disk, pull_hint
    from core_model.models.manager import ModelManager

    named = os.environ.get(MODEL_ENV, "").strip()
    if named:
        return named
    device_info = _device_info(device)
    model = model_on_disk(ModelManager(), device_info)
    if model is None:
        raise CliError(f"no model on this machine yet: {pull_hint(device_info)}; or give --model ID_OR_PATH")
    return model


def _device_info(device: str):
    """The DeviceInfo to choose a model for: detected for auto/cuda, plain for the CPU and MPS (no torch)."""
    from core_model.device import DeviceInfo, detect_device

    if device == "cpu":
        return DeviceInfo(kind="cpu", name="CPU")
    if device == "mps":
        return DeviceInfo(kind="mps", name="Apple GPU (MPS)")
    return detect_device()


def _check_video(video: str, start_s: float | None, end_s: float | None) -> float:
    """Probe the video (MediaError if unreadable) and check the segment lies in it. Returns its duration."""
    from core_model import media

    if not Path(video).is_file():
        raise CliError(f"video '{video}' does not exist" if not Path(video).exists() else f"'{video}' is not a file")
    info = media.probe(video)
    start = 0.0 if start_s is None else start_s
    end = info.duration_s if end_s is None else end_s
    if start >= info.duration_s:
        raise CliError(f"--start ({start:g} s) is past the end of the video ({info.duration_s:.2f} s)")
    if start >= end:
        raise CliError(f"the segment is empty: --start ({start:g} s) must be before --end ({end:g} s)")
    return info.duration_s


def _check_image(image: str) -> None:
    from core_model import media

    if not Path(image).is_file():
        raise CliError(f"image '{image}' does not exist" if not Path(image).exists() else f"'{image}' is not a file")
    media.load_image(image)  # MediaError with a plain message if it cannot be read


@contextmanager
def _quiet_libraries() -> Iterator[None]:
    """Library output while loading and answering: ``core_model.cli.main`` already keeps it off stderr (unless
    --verbose) for the whole command, see core_model/cli/quiet.py; kept as the one place ``run`` marks it."""
    yield


def _backend_for(model: str, device: str, load_in_4bit: bool | None):
    """The backend for ``model``, not loaded yet (a folder that is not a model is refused here, before recording)."""
    from core_model.backends import load_backend

    return load_backend(model, device=device, load_in_4bit=load_in_4bit)


def _load(backend) -> float:
    """Load the model; returns the seconds it took."""
    started = time.perf_counter()
    backend.load(progress=_terminal_progress(backend) if sys.stderr.isatty() else None)
    return time.perf_counter() - started


def _terminal_progress(backend):
    """A load-progress line on stderr (only on a terminal; it is erased once the model is ready)."""
    precision = "4-bit" if getattr(backend, "load_in_4bit", False) else "unquantized"
    where = f"{getattr(backend, 'device', '?')}, {precision}"

    def report(fraction: float, message: str) -> None:
        done = fraction >= 1.0
        line = "" if done else f"Loading {backend.model_id} ({where}): {message} {fraction:.0%}"
        sys.stderr.write("\r\033[K" + line)
        sys.stderr.flush()

    return report


def _ask_and_record(args, backend, model, question, media, video, duration_s, plan=None) -> int:
    """Record the question (before the model loads), load, answer, and record how the answer ended.

    Any failure while loading or answering is saved as a failed answer with its message and reaches ``main`` as a
    VidiError (one line, exit code 2). A store that fails mid-answer does not stop the answer: it is printed, then
    the StoreError is reported (exit code 2).
    """
    from core_model.backends import GenerationOptions, SegmentRef
    from core_model.chat_session import ChatSession
    from core_model.errors import VidiError, as_vidi_error
    from core_model.store import ConversationStore

    options = GenerationOptions(max_new_tokens=args.max_new_tokens, num_frames=args.frames)
    with ConversationStore() as store:  # a StoreError here: one line, nothing asked, the model never loads
        video_id = store.add_video(video, duration_s=duration_s).id if video else None
        session = ChatSession.start(store, video_id, title=question[:80])
        if plan is None:
            conversation = session.conversation_for(question, media)
            pieces = lambda: backend.answer(conversation, options)  # noqa: E731
            exchange = session.ask(question, media, model_id=backend.model_id,
                                   run_info=lambda: asdict(backend.last_run))
        else:
            from core_model.index.whole_video import answer_whole_video

            images = [m for m in media if not isinstance(m, SegmentRef)]
            plan.attach(images)
            history = session.history()
            pieces = lambda: answer_whole_video(plan, backend, options, history=history)  # noqa: E731
            # recorded as the window records it: a question about the whole video, its moments kept with the answer
            # (reopened in the window, they are its source chips; they never mark the timeline as asked)
            sources = [source.as_json() for source in plan.sources]
            exchange = session.ask(question, [media[0], *images], model_id=backend.model_id,
                                   run_info=lambda: {**asdict(backend.last_run), "sources": sources})
        try:
            with exchange:  # any exception below finishes the answer as failed (Ctrl+C: stopped)
                load_s = _load(backend)
                try:
                    for piece in pieces():
                        exchange.append(piece)
                        if not args.json:
                            sys.stdout.write(piece)
                            sys.stdout.flush()
                except BrokenPipeError:  # the reader went away (`vidi ask ... | head`): the answer stops there
                    backend.cancel()
                    exchange.finish("stopped")
                    raise
                exchange.finish("stopped" if backend.last_run.stopped else "complete")
        except KeyboardInterrupt:
            backend.cancel()
            raise
        except (VidiError, BrokenPipeError):  # a closed pipe is main's to end quietly
            raise
        except Exception as exc:  # a library's own error: one line for the user, the cause kept for --verbose
            raise as_vidi_error(exc) from exc

    if args.json:
        answer = exchange.text
        result = _json_result(args, backend, model, answer, video, media, exchange.chat_id, load_s)
        result["answered_from"] = plan.kind if plan is not None else ("segment" if video else "images")
        result["sources"] = [source.as_json() for source in plan.sources] if plan is not None else []
        print(json.dumps(result, ensure_ascii=False))
    else:
        sys.stdout.write("\n")
        if plan is not None:
            from core_model.cli.ask_whole_video import source_lines

            sys.stdout.write("".join(line + "\n" for line in source_lines(plan)))
    if exchange.save_error is not None:
        raise exchange.save_error  # the answer was shown; say once that it was not kept
    return 0


def _json_result(args, backend, model, answer, video, media, chat_id, load_s) -> dict:
    from core_model.backends import ImageRef

    run = backend.last_run
    return {
        "answer": answer,
        "model": model,
        "model_id": run.model_id,
        "device": getattr(backend, "device", args.device),
        "load_in_4bit": getattr(backend, "load_in_4bit", args.load_in_4bit),
        "video": str(Path(video).resolve()) if video else None,
        "start_s": args.start,
        "end_s": args.end,
        "images": [m.path for m in media if isinstance(m, ImageRef)],
        "frame_timestamps_s": run.frame_timestamps_s,
        "used_audio": run.used_audio,
        "plan": run.plan,
        "timings": {
            "load_s": round(load_s, 4),
            "prepare_s": round(run.prepare_s, 4),
            "first_token_s": round(run.first_token_s, 4),
            "total_s": round(run.total_s, 4),
        },
        "num_new_tokens": run.num_new_tokens,
        "stopped": run.stopped,
        "chat_id": chat_id,
    }
