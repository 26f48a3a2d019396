"""Frames and sound of one segment in one call: ``sample_segment(path, start_s, end_s, num_frames, with_audio)``."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from core_model.media.audio import load_audio
from core_model.media.frames import sample_frames
from core_model.media.probe import MediaInfo, probe
from core_model.media.segment import resolve_segment


@dataclass(frozen=True)
class SegmentSample:
    """What a model gets from a segment.

    ``frames`` uint8 [N, H, W, 3] RGB as displayed; ``timestamps_s`` their presentation times (s); ``audio`` mono
    float32 [samples] at ``sample_rate`` Hz, or None (not asked for, or the file has no sound); ``start_s``/``end_s``
    the segment actually used (None resolved to the file's start/end); ``info`` the file's ``probe``.
    """

    frames: np.ndarray
    timestamps_s: list[float]
    audio: np.ndarray | None
    sample_rate: int
    start_s: float
    end_s: float
    info: MediaInfo


def sample_segment(
    path: str | os.PathLike,
    start_s: float | None = None,
    end_s: float | None = None,
    num_frames: int = 8,
    with_audio: bool = True,
    sample_rate: int = 16000,
) -> SegmentSample:
    """``sample_frames`` and (when ``with_audio``) ``load_audio`` of the same segment, the sound decoded on a second
    thread while the frames decode. MediaError as they raise."""
    info = probe(path)
    start, end = resolve_segment(start_s, end_s, info.duration_s)
    if not (with_audio and info.has_audio):
        frames, timestamps_s = sample_frames(path, start, end, num_frames)
        return SegmentSample(frames, timestamps_s, None, sample_rate, start, end, info)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vidi-audio") as pool:  # sound decodes meanwhile
        audio_job = pool.submit(load_audio, path, start, end, sample_rate)
        frames, timestamps_s = sample_frames(path, start, end, num_frames)
        audio = audio_job.result()
    return SegmentSample(frames, timestamps_s, audio, sample_rate, start, end, info)
