"""Turn a SegmentRef into the frames a model sees, with their timestamps: shared by every video backend.

    clip = sample_segment(SegmentRef("talk.mp4", 65.0, 80.0), num_frames=8)
    clip.frames          # uint8 [8, H, W, 3] RGB
    clip.timestamps_s    # [65.9, 67.8, ...] seconds in the file, one per frame
    clip.describe()      # "8 frames over 15.0 s (0.53 fps)"

Decoding itself is core_model.media's job (frame-accurate, rotation honoured); this module only resolves the
segment's bounds (None = start/end of the file) and keeps what a backend needs next to the pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from core_model.backends.base import SegmentRef


@dataclass(frozen=True)
class SegmentFrames:
    """Frames sampled from one segment.

    ``frames``: uint8 [T, H, W, 3] RGB. ``timestamps_s``: T times in seconds from the start of the file.
    ``start_s``/``end_s``: the segment's resolved bounds. ``source_fps``: the file's frame rate (None if unknown).
    """

    frames: np.ndarray
    timestamps_s: list[float]
    start_s: float
    end_s: float
    source_fps: float | None

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def duration_s(self) -> float:
        return max(self.end_s - self.start_s, 0.0)

    def describe(self) -> str:
        """Plain words for the UI: how many frames over how long."""
        rate = f" ({self.num_frames / self.duration_s:.2f} fps)" if self.duration_s > 0 else ""
        return f"{self.num_frames} frames over {self.duration_s:.1f} s{rate}"


def sample_segment(
    segment: SegmentRef,
    num_frames: int,
    *,
    max_side_px: int | None = None,
    size_px: tuple[int, int] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> SegmentFrames:
    """Decode ``num_frames`` frames spread uniformly over ``segment`` (see core_model.media.sample_frames).

    ``max_side_px``: frames come out with their longer side at most this (scaled while decoding); ``size_px``
    (width, height): frames come out exactly this size (the planner's choice). ``should_stop``:
    polled between frames (Stop); then core_model.errors.Cancelled is raised.
    Raises core_model.media.MediaError when the file cannot be read or the segment lies outside it.
    """
    from core_model import media

    if num_frames < 1:
        raise ValueError(f"num_frames must be at least 1, got {num_frames}")
    info = media.probe(segment.path)
    start_s = 0.0 if segment.start_s is None else float(segment.start_s)
    end_s = float(info.duration_s) if segment.end_s is None else float(segment.end_s)
    frames, timestamps_s = media.sample_frames(segment.path, segment.start_s, segment.end_s, num_frames,
                                               max_side_px=max_side_px, size_px=size_px,
                                               should_stop=should_stop)
    fps = float(info.fps) if info.fps else None
    return SegmentFrames(
        frames=np.asarray(frames), timestamps_s=[float(t) for t in timestamps_s], start_s=start_s, end_s=end_s,
        source_fps=fps,
    )
