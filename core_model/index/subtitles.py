"""SubRip (.srt) and WebVTT (.vtt) text to transcript cues, and cues back to SRT / VTT / plain text.

A small parser rather than a dependency: both formats are "a time line ``A --> B`` followed by text lines, blocks
separated by blank lines". Tolerated, as players tolerate them: a BOM, CRLF line ends, missing cue numbers, "." or
"," before the milliseconds, hours left out (``01:02.500``), WebVTT cue settings after the times, NOTE / STYLE /
REGION blocks, and markup (``<i>``, ``<c.yellow>``, ``{\\an8}``), which is removed. A block without a valid
time line is skipped, never fatal.
"""

from __future__ import annotations

import re
from typing import Iterable

from core_model.store.index_records import Cue

_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})[.,](\d{1,3})"
_TIME_LINE = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_TAG = re.compile(r"<[^>]*>|\{\\[^}]*\}")


def parse_subtitles(text: str, source: str = "sidecar", language: str = "") -> list[Cue]:
    """The cues of SRT or WebVTT ``text``, in time order; empty cues and blocks without times left out."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    cues: list[Cue] = []
    for block in re.split(r"\n\s*\n", text):
        lines = block.strip("\n").split("\n")
        for index, line in enumerate(lines):
            match = _TIME_LINE.match(line)
            if match is None:
                continue
            start_s, end_s = _seconds(match.groups()[:4]), _seconds(match.groups()[4:])
            words = clean_text("\n".join(lines[index + 1:]))
            if words and end_s >= start_s:
                cues.append(Cue(start_s, end_s, words, source, language))
            break
    return sorted(cues, key=lambda cue: (cue.start_s, cue.end_s))


def clean_text(text: str) -> str:
    """Subtitle text without markup, its lines joined by spaces (ASS ``\\N`` line breaks included)."""
    text = _TAG.sub("", text).replace("\\N", " ").replace("\\n", " ")
    return " ".join(text.split())


def _seconds(parts: Iterable[str | None]) -> float:
    hours, minutes, seconds, fraction = parts
    fraction = (fraction or "0").ljust(3, "0")
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds) + int(fraction) / 1000


# ----------------------------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------------------------


def format_timestamp(seconds: float, decimal: str = ",") -> str:
    """``HH:MM:SS,mmm`` (SRT) or with ``decimal="."`` ``HH:MM:SS.mmm`` (WebVTT)."""
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def to_srt(cues: Iterable[Cue]) -> str:
    blocks = [f"{number}\n{format_timestamp(c.start_s)} --> {format_timestamp(c.end_s)}\n{c.text}\n"
              for number, c in enumerate(cues, start=1)]
    return "\n".join(blocks)


def to_vtt(cues: Iterable[Cue]) -> str:
    blocks = [f"{format_timestamp(c.start_s, '.')} --> {format_timestamp(c.end_s, '.')}\n{c.text}\n" for c in cues]
    return "WEBVTT\n\n" + "\n".join(blocks)


def to_text(cues: Iterable[Cue]) -> str:
    return "".join(f"{c.text}\n" for c in cues)
