"""Times as people read them (m:ss.f), and timestamps inside answer text turned into seek links.

Pure functions, no Qt: the chat pane renders the Markdown these produce; a link ``vidi-seek:65.0`` seeks to 65 s.
"""

from __future__ import annotations

import re

from core_model.timefmt import format_clock_s, format_time_s  # noqa: F401  (re-exported for the GUI)

SEEK_SCHEME = "vidi-seek"


def format_range_s(start_s: float, end_s: float) -> str:
    """``"0:12.0 – 0:27.5 (15.5 s)"``."""
    return f"{format_time_s(start_s)} – {format_time_s(end_s)} ({end_s - start_s:.1f} s)"


def parse_time_s(text: str) -> float:
    """``"1:05" -> 65.0``, ``"1:02:05.5" -> 3725.5``, ``"42" -> 42.0``. Raises ValueError on anything else."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or any(p == "" for p in parts):
        raise ValueError(f"not a time: {text!r}")
    value = 0.0
    for part in parts:
        value = value * 60 + float(part)
    return value


# 1:05, 01:05, 1:05.5, 1:02:05, optionally a range "1:05-1:20" / "1:05–1:20" / "1:05 to 1:20".
_TIME = r"(?:\d{1,2}:)?\d{1,2}:[0-5]\d(?:\.\d+)?"
_TIMESTAMP_RE = re.compile(rf"(?<![\w:/\[])({_TIME})(?:\s*(?:-|–|—|to)\s*({_TIME}))?(?![\w:])")
_CODE_RE = re.compile(r"(```.*?```|`[^`\n]*`|\[[^\]]*\]\([^)]*\))", re.S)


def seek_url(time_s: float) -> str:
    return f"{SEEK_SCHEME}:{time_s:.3f}"


def time_from_seek_url(url: str) -> float | None:
    """The seconds a ``vidi-seek:`` link points at, or None for any other link."""
    prefix = SEEK_SCHEME + ":"
    if not url.startswith(prefix):
        return None
    try:
        return float(url[len(prefix) :].lstrip("/"))
    except ValueError:
        return None


def linkify_timestamps(markdown: str, duration_s: float | None = None) -> str:
    """Wrap timestamps in ``markdown`` as seek links (the start of a range is the target).

    Code spans/blocks and existing links are left alone; a time past ``duration_s`` (when known) stays text.
    """

    def replace(match: re.Match[str]) -> str:
        try:
            start_s = parse_time_s(match.group(1))
        except ValueError:
            return match.group(0)
        if duration_s is not None and start_s > duration_s + 1.0:
            return match.group(0)
        return f"[{match.group(0)}]({seek_url(start_s)})"

    pieces = _CODE_RE.split(markdown)
    # split() with one capture group: even indexes are plain text, odd ones are code or links.
    return "".join(p if i % 2 else _TIMESTAMP_RE.sub(replace, p) for i, p in enumerate(pieces))
