"""Chapters: consecutive scenes grouped by time, each titled and summed up in a line by the chosen model.

    spans = group_scenes(scenes, duration_s)                    # [(0.0, 62.0), (62.0, 121.5), ...]
    chapters = title_chapters(spans, cues, captions, backend)   # Chapter(start_s, end_s, title, summary)
    chapter = title_chapter(3, 121.5, 180.0, cues, captions, backend)   # one at a time (the index builder)

Grouping: a chapter closes at the first scene boundary after it has lasted ``target_chapter_s(duration_s)`` (about
eight chapters per video, none shorter than a minute), so chapters never cut a shot; a short tail joins the chapter
before it. Titling: the chapter's transcript lines and captions (time-stamped, cut to ``MAX_PROMPT_CHARS`` evenly
over the chapter when longer) go to the model through the Backend protocol (``answer(conversation, options)``),
which answers "Title: ..." and "Summary: ..."; an answer without those labels gives its first line as the title.
A chapter with nothing said or captioned is titled by time, without a model pass. The index builder
(core_model.index.runner) saves the spans first and commits each title as it comes, so a build stopped or killed
while titling resumes at the first chapter without a title.
"""

from __future__ import annotations

import re
from typing import Callable, Sequence

from core_model.backends.base import GenerationOptions, Turn
from core_model.store.index_records import Caption, Chapter, Cue, Scene
from core_model.timefmt import format_clock_s

MIN_CHAPTER_S = 60.0
CHAPTERS_PER_VIDEO = 8
MAX_PROMPT_CHARS = 3000
MAX_TITLE_CHARS = 80
TITLE_OPTIONS = GenerationOptions(max_new_tokens=80)


def target_chapter_s(duration_s: float) -> float:
    return max(MIN_CHAPTER_S, duration_s / CHAPTERS_PER_VIDEO)


def group_scenes(scenes: Sequence[Scene], duration_s: float) -> list[tuple[float, float]]:
    """Chapter spans (start_s, end_s) covering [0, duration_s], each ending on a scene boundary."""
    if duration_s <= 0:
        return []
    target_s = target_chapter_s(duration_s)
    boundaries = sorted({s.end_s for s in scenes if 0 < s.end_s < duration_s})
    spans: list[tuple[float, float]] = []
    start_s = 0.0
    for boundary_s in boundaries:
        if boundary_s - start_s >= target_s:
            spans.append((start_s, boundary_s))
            start_s = boundary_s
    if not spans and not boundaries:  # no cuts at all: cut by time
        count = max(1, round(duration_s / target_s))
        return [(duration_s * i / count, duration_s * (i + 1) / count) for i in range(count)]
    if spans and duration_s - start_s < target_s / 2:
        spans[-1] = (spans[-1][0], duration_s)  # a short tail joins the chapter before it
    else:
        spans.append((start_s, duration_s))
    return spans


def chapter_text(start_s: float, end_s: float, cues: Sequence[Cue], captions: Sequence[Caption]) -> str:
    """What is said and seen in [start_s, end_s), one time-stamped line each, in time order, at most
    MAX_PROMPT_CHARS (lines taken evenly across the chapter when there are more)."""
    lines = [(c.start_s, f"[{format_clock_s(c.start_s)}] said: {c.text}") for c in cues
             if start_s <= c.start_s < end_s]
    lines += [(c.start_s, f"[{format_clock_s(c.start_s)}] seen: {c.text}") for c in captions
              if start_s <= c.start_s < end_s]
    texts = [text for _, text in sorted(lines)]
    if sum(len(t) + 1 for t in texts) <= MAX_PROMPT_CHARS:
        return "\n".join(texts)
    average = max(1, sum(len(t) + 1 for t in texts) // len(texts))
    keep = max(1, MAX_PROMPT_CHARS // average)
    step = len(texts) / keep
    return "\n".join(texts[int(i * step)] for i in range(keep))[:MAX_PROMPT_CHARS]


def chapter_prompt(start_s: float, end_s: float, text: str) -> str:
    return (
        f"Here is what is said and seen in one part of a video, from {format_clock_s(start_s)} to "
        f"{format_clock_s(end_s)}:\n\n{text}\n\n"
        "Give this part a short title (at most six words) and a one-sentence summary. "
        "Answer in exactly two lines:\nTitle: ...\nSummary: ..."
    )


_LABEL = re.compile(r"^\s*\**\s*(title|summary)\s*\**\s*:\s*\**\s*(.*?)\s*\**\s*$", re.IGNORECASE)


def parse_title_and_summary(answer: str) -> tuple[str, str]:
    """("title", "summary") from the model's answer; without labels, its first line and the rest."""
    found: dict[str, str] = {}
    rest: list[str] = []
    for line in answer.strip().splitlines():
        match = _LABEL.match(line)
        if match:
            found.setdefault(match.group(1).lower(), match.group(2).strip())
        elif line.strip():
            rest.append(line.strip())
    title = found.get("title") or (rest.pop(0) if rest else "")
    summary = found.get("summary") or " ".join(rest)
    title = " ".join(title.strip(" \"'#*").split())
    if len(title) > MAX_TITLE_CHARS:
        title = title[:MAX_TITLE_CHARS].rsplit(" ", 1)[0] + "…"
    return title, " ".join(summary.split())


def title_chapter(number: int, start_s: float, end_s: float, cues: Sequence[Cue], captions: Sequence[Caption],
                  backend) -> Chapter:
    """The ``number``-th chapter (from 1), [start_s, end_s), titled by ``backend`` (a loaded Backend; None, or a
    chapter with nothing said or seen: titled by its number and times, without a model pass)."""
    fallback = f"Part {number} ({format_clock_s(start_s)}–{format_clock_s(end_s)})"
    text = chapter_text(start_s, end_s, cues, captions)
    title, summary = "", ""
    if text and backend is not None:
        answer = "".join(backend.answer([Turn("user", chapter_prompt(start_s, end_s, text))], TITLE_OPTIONS))
        title, summary = parse_title_and_summary(answer)
    return Chapter(round(start_s, 3), round(end_s, 3), title or fallback, summary)


def title_chapters(spans: Sequence[tuple[float, float]], cues: Sequence[Cue], captions: Sequence[Caption],
                   backend, should_stop: Callable[[], bool] = lambda: False,
                   on_chapter: Callable[[int, float], None] | None = None) -> list[Chapter] | None:
    """A Chapter per span, titled by ``backend`` (a loaded Backend; None: titles by time only). None when
    ``should_stop()`` turned true before every chapter was titled."""
    chapters: list[Chapter] = []
    for number, (start_s, end_s) in enumerate(spans, start=1):
        if should_stop():
            return None
        chapters.append(title_chapter(number, start_s, end_s, cues, captions, backend))
        if on_chapter is not None:
            on_chapter(number, end_s)
    return chapters
