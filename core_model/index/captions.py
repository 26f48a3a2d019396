"""Captions: the answering model describes each scene, or window of at most ~30 s, in a sentence or two.

    windows = caption_windows(scenes, duration_s)           # [(0.0, 10.0), (10.0, 20.0), ...]
    for caption in caption_video(video, windows, backend):  # one model pass per window, in time order
        store.add_captions(fingerprint, [caption], until_s=caption.end_s, done=...)

Windows follow the scenes, so a caption never straddles a cut: a scene longer than MAX_WINDOW_S is split into equal
parts of at most that length; scenes shorter than MIN_WINDOW_S join the next ones (a burst of quick cuts is one
happening, and a model pass per half-second shot would cost more than the rest of the index). Each window goes to
the model as one SegmentRef (with its sound where the model hears), through the Backend protocol's
``answer(conversation, options)``; the backend's budget planner fits the window's frames to memory. The captions are
stored in the captions table, which FTS5 searches with the transcript, so "the dog on the beach" finds the moment
where it is seen even when nobody says it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Callable, Iterator, Sequence

from core_model.backends.base import GenerationOptions, SegmentRef, Turn
from core_model.store.index_records import Caption, Scene
from core_model.timefmt import format_clock_s

MAX_WINDOW_S = 30.0
"""A caption describes at most this much video: one model pass sees it in enough detail."""
MIN_WINDOW_S = 4.0
"""Scenes shorter than this are captioned together with the ones after them."""
CAPTION_OPTIONS = GenerationOptions(max_new_tokens=64, num_frames=8)
"""A sentence or two; 8 frames of a window of at most 30 s is one every ~4 s."""
MAX_CAPTION_CHARS = 400


def caption_windows(scenes: Sequence[Scene], duration_s: float, max_window_s: float = MAX_WINDOW_S,
                    min_window_s: float = MIN_WINDOW_S) -> list[tuple[float, float]]:
    """(start_s, end_s) windows covering the scenes in time order, each at most ``max_window_s`` long, cut only at
    scene boundaries or inside a long scene. Without scenes: equal windows over [0, duration_s]."""
    spans = [(s.start_s, s.end_s) for s in sorted(scenes, key=lambda s: s.start_s) if s.end_s > s.start_s]
    if not spans:
        spans = [(0.0, duration_s)] if duration_s > 0 else []
    windows: list[tuple[float, float]] = []
    open_start: float | None = None
    open_end = 0.0
    for start_s, end_s in spans:
        if open_start is not None and end_s - open_start > max_window_s:
            windows.append((open_start, open_end))  # adding this scene would make the window too long
            open_start = None
        if open_start is None:
            open_start = start_s
        open_end = end_s
        if open_end - open_start >= min_window_s:
            windows.extend(_split(open_start, open_end, max_window_s))
            open_start = None
    if open_start is not None:
        if windows and open_end - windows[-1][0] <= max_window_s and windows[-1][1] >= open_start - 1e-6:
            windows[-1] = (windows[-1][0], open_end)  # a short tail joins the window before it
        else:
            windows.append((open_start, open_end))
    return [(round(a, 3), round(b, 3)) for a, b in windows]


def _split(start_s: float, end_s: float, max_window_s: float) -> list[tuple[float, float]]:
    count = max(1, math.ceil((end_s - start_s) / max_window_s - 1e-9))
    step_s = (end_s - start_s) / count
    return [(start_s + i * step_s, start_s + (i + 1) * step_s) for i in range(count)]


def caption_prompt(start_s: float, end_s: float, hears: bool) -> str:
    sound = " and what is heard (speech, music, other sounds)" if hears else ""
    return (f"This clip is a part of a video, from {format_clock_s(start_s)} to {format_clock_s(end_s)}. "
            f"Describe in one or two plain sentences what is seen{sound}: who or what is there and what happens. "
            "Do not guess names.")


_CONTROL_TOKEN = re.compile(r"</?\|?[\w.:-]*\|?>")
"""A model's control token as some servers leave it in the text they send (``<bos>``, ``<|image|>``, ``<|turn>``,
``</s>``, ``<start_of_turn>``): never a word of a caption, and harmful in one, as the caption goes into the chapter
titling prompt, where a server reads ``<|image|>`` as an image slot and rejects the request for want of images."""


def clean_caption(answer: str) -> str:
    """The model's answer as one line of plain words (control tokens left out) of at most MAX_CAPTION_CHARS (cut at
    a word)."""
    text = " ".join(_CONTROL_TOKEN.sub(" ", answer).split())
    if len(text) > MAX_CAPTION_CHARS:
        text = text[:MAX_CAPTION_CHARS].rsplit(" ", 1)[0] + "…"
    return text


def caption_video(video: str | Path, windows: Sequence[tuple[float, float]], backend, *, with_sound: bool,
                  should_stop: Callable[[], bool] = lambda: False,
                  options: GenerationOptions = CAPTION_OPTIONS) -> Iterator[Caption]:
    """A Caption per window, in order, from ``backend`` (loaded, or loading on first use). ``with_sound``: the
    clips carry their sound (the model hears and the video has a sound track). Once ``should_stop()`` is true, the
    window being captioned is cancelled (Backend.cancel) and not yielded, and no other starts. A window whose answer
    is empty still yields (an empty caption keeps resumption exact and is not searchable)."""
    path = str(Path(video).resolve())
    for start_s, end_s in windows:
        if should_stop():
            return
        clip = SegmentRef(path, start_s, end_s, include_audio=with_sound)
        turn = Turn("user", caption_prompt(start_s, end_s, with_sound), (clip,))
        pieces = []
        for piece in backend.answer([turn], options):
            pieces.append(piece)
            if should_stop():
                backend.cancel()  # a real model's window takes seconds: Stop ends it, the rest of it drains
        if should_stop():
            return  # a cut-short window is captioned again on resuming
        yield Caption(start_s, end_s, clean_caption("".join(pieces)), backend.model_id)
