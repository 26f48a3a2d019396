"""Checking a requested segment against a file's length, and spreading sample times over it."""

from __future__ import annotations

import math
import numbers

from core_model.media.errors import MediaError

TIME_EPSILON_S = 1e-6
"""A sample time within this of a frame's start counts as that frame (float rounding of exact frame times)."""

END_TOLERANCE_S = 0.05
"""An ``end_s`` up to this much past the end of the file is taken as the end (timeline rounding)."""


def resolve_segment(
    start_s: float | None, end_s: float | None, duration_s: float, what: str = "video"
) -> tuple[float, float]:
    """(start_s, end_s) checked against ``duration_s``; None means the start/end of the file.

    MediaError: "start must be before end", "segment 12.0-15.0 s is outside the video (length 10.0 s)", ...
    An ``end_s`` slightly past the end (``END_TOLERANCE_S``) is clamped to the end.
    """
    start = 0.0 if start_s is None else _as_seconds(start_s, "start")
    end = duration_s if end_s is None else _as_seconds(end_s, "end")
    if start < 0:
        raise MediaError(f"start must not be negative (got {start:.1f} s)")
    if start >= end:
        raise MediaError(f"start must be before end (got {start:.1f}-{end:.1f} s)")
    if start >= duration_s or end > duration_s + END_TOLERANCE_S:
        raise MediaError(f"segment {start:.1f}-{end:.1f} s is outside the {what} (length {duration_s:.1f} s)")
    return start, min(end, duration_s)


def _as_seconds(value: float, name: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise MediaError(f"{name} must be a number of seconds, got {value!r}") from None
    if not math.isfinite(seconds):
        raise MediaError(f"{name} must be a finite number of seconds, got {value!r}")
    return seconds


def sample_times_s(start_s: float, end_s: float, num_frames: int) -> list[float]:
    """Centres of ``num_frames`` equal sub-intervals of [start_s, end_s]: ``start + (i + 0.5) * (end - start) / N``."""
    if isinstance(num_frames, bool) or not isinstance(num_frames, numbers.Integral) or num_frames < 1:
        raise MediaError(f"the number of frames must be a whole number of at least 1, got {num_frames!r}")
    step_s = (end_s - start_s) / num_frames
    return [start_s + (index + 0.5) * step_s for index in range(int(num_frames))]
