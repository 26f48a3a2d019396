"""Opening a media file with PyAV, turning every failure into a MediaError with a plain-words message."""

from __future__ import annotations

import os
from pathlib import Path

import av

from core_model.media.errors import MediaError

_ISO_BMFF_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip")
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"  # Matroska / WebM


def check_readable_file(path: str | os.PathLike) -> Path:
    """The path as a Path if it names a readable, non-empty file; MediaError otherwise."""
    file_path = Path(path)
    if not file_path.exists():
        raise MediaError(f"file not found: {file_path}")
    if file_path.is_dir():
        raise MediaError(f"{file_path} is a folder, not a file")
    try:
        size = file_path.stat().st_size
        with open(file_path, "rb"):
            pass
    except OSError as exc:
        raise MediaError(f"cannot read {file_path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise MediaError(f"the file is empty (0 bytes): {file_path.name}")
    return file_path


def looks_like_media_container(file_path: Path) -> bool:
    """True when the file starts like an MP4/MOV or Matroska/WebM container (used to word error messages)."""
    with open(file_path, "rb") as handle:
        head = handle.read(12)
    return head[4:8] in _ISO_BMFF_BOXES or head.startswith(_EBML_MAGIC)


def open_container(path: str | os.PathLike) -> av.container.InputContainer:
    """Open ``path`` for decoding; MediaError ("file not found", "not a video file", "file is truncated", ...)."""
    file_path = check_readable_file(path)
    try:
        return av.open(str(file_path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise MediaError(describe_open_failure(file_path, exc)) from exc


def describe_open_failure(file_path: Path, exc: Exception) -> str:
    """Plain words for a file FFmpeg could not open."""
    if looks_like_media_container(file_path):
        return f"file is truncated or damaged: {file_path.name} ({_ffmpeg_reason(exc)})"
    return f"not a video file: {file_path.name} is not a media format Vidi can read"


def _ffmpeg_reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def time_origin_s(container: av.container.InputContainer) -> float:
    """The container's start time in seconds: time 0 of every ``start_s``/``end_s`` in this package.

    This is where a media player's timeline starts (FFmpeg's format-level start time), so the times the user picks
    on a timeline are the times given here, for video and audio alike.
    """
    if container.start_time is None:
        return 0.0
    return container.start_time / av.time_base
