"""Shot boundaries and keyframes, found while streaming through the video once at low resolution.

    for scene in detect_scenes("wedding.mp4", start_s=0.0, should_stop=stop.is_set):
        ...   # Scene(start_s, end_s, keyframes_s): each one as soon as its end is known

The method is PySceneDetect's ContentDetector (the default detector of the library made for this): frames are
compared in HSV, and a cut is where the mean absolute change of hue, saturation and value between two compared
frames is at least ``threshold`` (its default, 27 on a 0-255 scale), provided the scene before it lasts at least
``min_scene_s``. The library itself is not used because ``scenedetect`` depends on the GUI OpenCV wheel
(``opencv-python``), which collides with the headless one Vidi has; the method is twenty lines.

Cost: every frame must be decoded (inter-coded video), but only ``sample_fps`` frames a second are converted, to
``width_px`` wide (FFmpeg's swscale), and compared; non-reference frames (most B-frames) are skipped by the decoder
itself, and the decoder uses every core. Nothing is kept but the previous small frame and, for ``scan_scenes``, a
bounded set of candidate keyframe pictures of the open scene (core_model.index.keyframe_pictures): memory stays
flat. ``scan_scenes`` yields each scene with its keyframes' pictures, so the embeddings part reads those instead of
decoding the video a second time.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable, Iterator

import av
import cv2
import numpy as np

from core_model.index.keyframe_pictures import CANDIDATE_CAP, KEYFRAME_SIDE_PX, CandidateBuffer
from core_model.media.container import open_container, time_origin_s
from core_model.media.errors import MediaError
from core_model.media.frames import scaled_size
from core_model.media.probe import normalise_rotation
from core_model.store.index_records import KeyframePicture, Scene


@dataclass(frozen=True)
class SceneSettings:
    width_px: int = 96
    """Frames are compared at this width (height keeps the aspect ratio)."""
    sample_fps: float = 4.0
    """Frames compared per second of video."""
    threshold: float = 27.0
    """ContentDetector's threshold: mean absolute HSV change (0-255) that makes a cut."""
    min_scene_s: float = 0.6
    """No cut closer than this to the previous one (PySceneDetect: 15 frames)."""
    keyframe_every_s: float = 20.0
    """A scene longer than this gets one keyframe per this many seconds (each at the middle of its share)."""
    skip_non_reference: bool = True
    """Let the decoder skip frames nothing else refers to (B-frames): they are never compared anyway."""


def keyframe_times(start_s: float, end_s: float, every_s: float) -> tuple[float, ...]:
    """Times standing for [start_s, end_s]: the middle for a short scene, the middles of equal parts of at most
    ``every_s`` for a long one."""
    duration_s = max(end_s - start_s, 0.0)
    count = max(1, math.ceil(duration_s / every_s))
    return tuple(round(start_s + (i + 0.5) * duration_s / count, 3) for i in range(count))


def content_change(previous_hsv: np.ndarray, current_hsv: np.ndarray) -> float:
    """ContentDetector's score: the mean over H, S and V of the mean absolute change (0-255)."""
    delta = np.abs(current_hsv.astype(np.int16) - previous_hsv.astype(np.int16))
    return float(delta.reshape(-1, 3).mean(axis=0).mean())


def detect_scenes(
    video: str | os.PathLike,
    start_s: float = 0.0,
    settings: SceneSettings = SceneSettings(),
    should_stop: Callable[[], bool] = lambda: False,
    on_position: Callable[[float], None] | None = None,
) -> Iterator[Scene]:
    """The scenes of ``video`` from ``start_s`` on, each yielded once its end is known; the last one at the end.

    ``on_position(time_s)`` is called now and then with how far decoding got. When ``should_stop()`` turns
    true, decoding stops and the open scene is not yielded (it is found again when detection resumes at the last
    yielded scene's end). MediaError for files without a video stream or that cannot be decoded.
    """
    for found in scan_scenes(video, start_s, settings, should_stop, on_position, picture_side_px=None):
        yield found.scene


@dataclass(frozen=True)
class FoundScene:
    """A scene and the pictures of its keyframes (one per time of ``scene.keyframes_s``; none when not asked)."""

    scene: Scene
    pictures: tuple[KeyframePicture, ...] = ()


def scan_scenes(
    video: str | os.PathLike,
    start_s: float = 0.0,
    settings: SceneSettings = SceneSettings(),
    should_stop: Callable[[], bool] = lambda: False,
    on_position: Callable[[float], None] | None = None,
    *,
    picture_side_px: int | None = KEYFRAME_SIDE_PX,
    candidate_cap: int = CANDIDATE_CAP,
) -> Iterator[FoundScene]:
    """``detect_scenes``, each scene with its keyframes' pictures taken from the frames sampled for the comparison
    (``picture_side_px`` on the long side, as displayed; None: no pictures). The sampled frames of the open scene
    are also scaled to that size, at most ``candidate_cap`` of them held (core_model.index.keyframe_pictures), and
    each keyframe gets the nearest one once the scene closes: the video is decoded once for both."""
    with open_container(video) as container:
        if not container.streams.video:
            raise MediaError(f"no video stream in {os.path.basename(os.fspath(video))}")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        if settings.skip_non_reference:
            stream.codec_context.skip_frame = "NONREF"
        origin_s = time_origin_s(container)
        if start_s > 0:
            container.seek(int((start_s + origin_s) / stream.time_base), stream=stream, backward=True)
        candidates = CandidateBuffer(candidate_cap) if picture_side_px else None
        yield from _scan(container, stream, origin_s, float(start_s), settings, should_stop, on_position,
                         candidates, picture_side_px)


def _scan(container, stream, origin_s, start_s, settings, should_stop, on_position, candidates,
          picture_side_px) -> Iterator[FoundScene]:
    sample_gap_s = 1.0 / settings.sample_fps
    scene_start_s = start_s
    next_sample_s = start_s
    previous_hsv = None
    last_time_s = start_s
    rotation = None
    frame_duration_s = 1.0 / float(stream.average_rate) if stream.average_rate else 0.0

    def closed(end_s: float) -> FoundScene:
        scene = Scene(round(scene_start_s, 3), round(end_s, 3),
                      keyframe_times(scene_start_s, end_s, settings.keyframe_every_s))
        if candidates is None:
            return FoundScene(scene)
        pictures = candidates.pictures(scene.keyframes_s, rotation or 0)
        candidates.clear()
        return FoundScene(scene, tuple(pictures))

    try:
        for frame in container.decode(stream):
            if frame.time is None:
                continue
            time_s = frame.time - origin_s
            if time_s < start_s - 1e-6:
                continue  # decoded from the keyframe before the resume point
            last_time_s = time_s
            if time_s + 1e-6 < next_sample_s:
                continue
            next_sample_s = time_s + sample_gap_s
            if should_stop():
                return
            if on_position is not None:
                on_position(time_s)
            if rotation is None:
                rotation = normalise_rotation(getattr(frame, "rotation", 0))
            hsv = _small_hsv(frame, settings.width_px)
            if previous_hsv is not None and hsv.shape == previous_hsv.shape:
                if (content_change(previous_hsv, hsv) >= settings.threshold
                        and time_s - scene_start_s >= settings.min_scene_s):
                    yield closed(time_s)
                    scene_start_s = time_s
            previous_hsv = hsv
            if candidates is not None:  # after the cut: this frame is the new scene's first
                candidates.offer(time_s, lambda: _small_rgb(frame, picture_side_px))
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot decode {os.path.basename(container.name)}: {exc}") from exc
    end_s = last_time_s + frame_duration_s
    if end_s > scene_start_s:
        yield closed(end_s)


def _small_hsv(frame: av.VideoFrame, width_px: int) -> np.ndarray:
    """The frame at ``width_px`` wide (even height), as uint8 HSV [H, W, 3] (OpenCV's H is 0-179)."""
    height_px = max(2, round(frame.height * width_px / frame.width / 2) * 2)
    rgb = frame.to_ndarray(width=width_px, height=height_px, format="rgb24", interpolation="FAST_BILINEAR")
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)


def _small_rgb(frame: av.VideoFrame, side_px: int) -> np.ndarray:
    """The frame as stored, ``side_px`` on its long side (even sides), as uint8 RGB: scaled as FrameStream scales
    the keyframes (FFmpeg's swscale, area averaging), so the embeddings see the same pictures either way."""
    width_px, height_px = scaled_size(frame.width, frame.height, side_px)
    return frame.to_ndarray(width=width_px, height=height_px, format="rgb24", interpolation="AREA")
