"""A stored chat as Markdown, for "Export chat" and ``vidi`` tools."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from core_model.backends.base import ImageRef, SegmentRef
from core_model.store.records import ChatRecord, TurnRecord, VideoRecord

_STATUS_NOTES = {"stopped": "stopped by the user", "pending": "unfinished", "error": "failed"}


def format_clock(seconds: float | None) -> str:
    """M:SS(.s) or H:MM:SS(.s) for a time in seconds; "start"/"end" style callers pass None as "?"."""
    if seconds is None:
        return "?"
    whole = int(seconds)
    tenths = int(round((seconds - whole) * 10))
    if tenths == 10:
        whole, tenths = whole + 1, 0
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
    return f"{text}.{tenths}" if tenths else text


def _segment_label(ref: SegmentRef) -> str:
    start = "start" if ref.start_s is None else format_clock(ref.start_s)
    end = "end" if ref.end_s is None else format_clock(ref.end_s)
    return f"segment {start}–{end}" + ("" if ref.include_audio else " (no audio)")


def chat_to_markdown(chat: ChatRecord, video: VideoRecord | None, turns: Sequence[TurnRecord]) -> str:
    lines = [f"# {chat.title or 'Chat'}", ""]
    if video is not None:
        lines += [f"Video: `{video.path}`", ""]
    lines += [f"Started {chat.created_at}", ""]
    for turn in turns:
        if turn.role == "user":
            attachments = [
                _segment_label(m) if isinstance(m, SegmentRef) else f"image `{Path(m.path).name}`"
                for m in turn.media
                if isinstance(m, (SegmentRef, ImageRef))
            ]
            heading = "## You" + (f" — {', '.join(attachments)}" if attachments else "")
        else:
            notes = [turn.model_id] if turn.model_id else []
            if turn.status in _STATUS_NOTES:
                notes.append(_STATUS_NOTES[turn.status])
            heading = "## Vidi" + (f" ({', '.join(notes)})" if notes else "")
        lines += [heading, "", turn.text.strip() or "_(no text)_", ""]
        if turn.error:
            lines += [f"> Error: {turn.error}", ""]
    return "\n".join(lines).rstrip() + "\n"
