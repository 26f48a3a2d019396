"""What a video file holds: ``probe(path) -> MediaInfo``."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import av

from core_model.media.container import check_readable_file, open_container, time_origin_s
from core_model.media.errors import MediaError

_IMAGE_FORMATS = ("image2", "_pipe", "apng", "webp")
"""FFmpeg demuxers (by name or suffix) that read still images: such a file is an image, not a video."""


@dataclass(frozen=True)
class MediaInfo:
    """Facts about a video file.

    ``duration_s``: length of the file's timeline in seconds (what a player shows; times in this package count from
    its start). ``fps``: average frame rate (frames per second; for variable-frame-rate files an average).
    ``num_frames``: frames in the video stream (from the index, or estimated from duration x fps when the container
    keeps no count, e.g. WebM). ``width``/``height``: pixels *as displayed*, i.e. after applying ``rotation``.
    ``rotation``: degrees counter-clockwise (0, 90, 180 or 270) the stored picture is turned for display, as FFmpeg
    reads the display matrix; frames from ``sample_frames`` are already turned. ``video_codec``/``audio_codec``:
    FFmpeg codec names ("h264", "av1", "aac", ...); ``audio_codec`` is None when ``has_audio`` is False.
    """

    duration_s: float
    fps: float
    num_frames: int
    width: int
    height: int
    rotation: int
    has_audio: bool
    video_codec: str
    audio_codec: str | None


def normalise_rotation(degrees: float | int | None) -> int:
    """Display rotation in degrees counter-clockwise -> one of 0, 90, 180, 270."""
    if degrees is None:
        return 0
    return int(round(degrees / 90.0)) % 4 * 90


def is_image_format(container: av.container.InputContainer) -> bool:
    """True when FFmpeg opened the file with a still-image demuxer (PNG, JPEG, ...)."""
    names = container.format.name.split(",")
    return any(name == fmt or name.endswith(fmt) for name in names for fmt in _IMAGE_FORMATS)


def video_stream(container: av.container.InputContainer, file_name: str) -> av.video.stream.VideoStream:
    """The file's first video stream; MediaError "no video stream" (or "not a video file" for an image)."""
    if is_image_format(container):
        raise MediaError(f"not a video file: {file_name} is a still image; add it as an image instead")
    streams = [s for s in container.streams.video if not (s.disposition & av.stream.Disposition.attached_pic)]
    if not streams:
        if container.streams.audio:
            raise MediaError(f"no video stream: {file_name} holds only audio")
        raise MediaError(f"no video stream: {file_name} holds no pictures")
    return streams[0]


def probe(path: str | os.PathLike) -> MediaInfo:
    """Read the facts of a video file (decodes its first frame, to know the rotation and that it decodes at all).

    Raises MediaError with a plain-words message: "file not found", "the file is empty", "not a video file",
    "no video stream" (e.g. an audio-only file), "file is truncated or damaged". Results are remembered per file
    (path, size and modification time), so probing again is free.
    """
    return inspect_video(path).info


@dataclass(frozen=True)
class VideoTiming:
    """``probe``'s facts plus where the timeline starts: ``origin_s`` (container start, time 0 of this package) and
    ``video_start_s`` (the video stream's first presentation time), both in seconds of the file's own clock."""

    info: MediaInfo
    origin_s: float
    video_start_s: float


def inspect_video(path: str | os.PathLike) -> VideoTiming:
    """``probe`` with timing details, cached per (path, size, modification time)."""
    check_readable_file(path)
    stat = os.stat(path)
    return _inspect_cached(os.path.realpath(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _inspect_cached(path: str, size: int, mtime_ns: int) -> VideoTiming:
    name = os.path.basename(path)
    with open_container(path) as container:
        stream = video_stream(container, name)
        first = _first_frame(container, stream, name)
        rotation = normalise_rotation(first.rotation)
        fps = _fps(stream)
        duration_s = _duration_s(container, stream, fps)
        num_frames = stream.frames or max(1, round(duration_s * fps))
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        audio = container.streams.audio[0] if container.streams.audio else None
        info = MediaInfo(
            duration_s=duration_s,
            fps=fps,
            num_frames=int(num_frames),
            width=int(width),
            height=int(height),
            rotation=rotation,
            has_audio=audio is not None,
            video_codec=_codec_name(stream),
            audio_codec=_codec_name(audio) if audio is not None else None,
        )
        video_start_s = float((stream.start_time or 0) * stream.time_base)
        return VideoTiming(info=info, origin_s=time_origin_s(container), video_start_s=video_start_s)


def _first_frame(container, stream, name: str) -> av.VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError as exc:
        raise MediaError(f"file is truncated or damaged: {name} (its first picture cannot be decoded)") from exc
    raise MediaError(f"file is truncated or damaged: {name} holds no picture that can be decoded")


def _codec_name(stream) -> str:
    """The format's name ("h264", "av1"), not the decoder's ("libdav1d")."""
    codec = stream.codec_context.codec
    return getattr(codec, "canonical_name", None) or codec.name


def _fps(stream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    return 0.0


def _duration_s(container, stream, fps: float) -> float:
    """Timeline length in seconds: the container's duration, else the video stream's, else frames / fps."""
    if container.duration:
        return container.duration / av.time_base
    if stream.duration and stream.time_base:
        start = stream.start_time or 0
        return float((stream.duration + start) * stream.time_base) - time_origin_s(container)
    if stream.frames and fps:
        return stream.frames / fps
    raise MediaError(f"file is truncated or damaged: the length of {container.name} is unknown")
