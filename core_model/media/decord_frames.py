"""Frames at given times with decord (the product card's first choice of decoder)."""

from __future__ import annotations

import os

import numpy as np

from core_model.media.errors import MediaError
from core_model.media.probe import VideoTiming
from core_model.media.segment import TIME_EPSILON_S


class DecordCannotOpen(Exception):
    """decord is missing or refuses the file; PyAV takes over."""


def decord_frames(
    path, times_s: list[float], timing: VideoTiming, stored_size: tuple[int, int] | None = None
) -> tuple[np.ndarray, list[float]]:
    """Frames shown at ``times_s`` (file timeline, s): (uint8 [N, H, W, 3] RGB, their presentation times in s).

    decord turns frames by the file's rotation itself. ``stored_size`` (w, h): decord scales each picture to it
    while decoding. DecordCannotOpen when decord is missing or refuses the file.
    """
    if timing.info.video_codec not in _DECORD_CODECS:
        raise DecordCannotOpen()
    try:
        import decord
    except ImportError as exc:  # decord has no wheel for some platforms (e.g. macOS arm64)
        raise DecordCannotOpen() from exc
    try:
        size = {"width": stored_size[0], "height": stored_size[1]} if stored_size else {}
        reader = decord.VideoReader(os.fspath(path), num_threads=0, **size)
        starts_s = reader.get_frame_timestamp(range(len(reader)))[:, 0].astype(np.float64)
    except Exception as exc:  # decord raises its own DECORDError (and plain RuntimeErrors) on files it cannot open
        raise DecordCannotOpen() from exc
    # decord counts presentation times from the stream's first frame; our times count from the container's start.
    starts_s = starts_s - starts_s[0] + timing.video_start_s - timing.origin_s
    indices = np.searchsorted(starts_s, np.asarray(times_s) + TIME_EPSILON_S, side="right") - 1
    indices = np.clip(indices, 0, len(starts_s) - 1)
    unique, inverse = np.unique(indices, return_inverse=True)
    try:
        batch = reader.get_batch(unique.tolist()).asnumpy()  # [U, h, w, 3] uint8 RGB
    except Exception as exc:
        raise MediaError(f"file is truncated or damaged: {os.path.basename(os.fspath(path))} ({exc})") from exc
    return batch[inverse], [float(starts_s[i]) for i in indices]


_DECORD_CODECS = frozenset({"h264", "hevc", "mpeg4", "vp8", "vp9", "mpeg2video", "mjpeg"})
"""Codecs decord 0.6 (FFmpeg 4.1) decodes; anything else (AV1, ...) goes straight to PyAV."""


