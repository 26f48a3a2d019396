"""Times as people read them: m:ss.f, or h:mm:ss.f past an hour. Used by the backends' prompts and the GUI."""

from __future__ import annotations


def format_time_s(time_s: float, decimals: int = 1) -> str:
    """``75.25 -> "1:15.3"`` (m:ss.f); hours appear only when needed: ``3725.0 -> "1:02:05.0"``."""
    time_s = max(0.0, float(time_s))
    scale = 10**decimals
    total = round(time_s * scale)
    whole_s, fraction = divmod(total, scale)
    hours, rest = divmod(whole_s, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    return f"{text}.{fraction:0{decimals}d}" if decimals else text


def format_clock_s(time_s: float) -> str:
    """``75.9 -> "1:15"``: whole seconds, for the player's time label and the times written into prompts."""
    return format_time_s(int(max(0.0, time_s)), decimals=0)
