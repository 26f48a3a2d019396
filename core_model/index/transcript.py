"""Where a video's transcript comes from, best first: a sidecar subtitle file, an embedded text subtitle track;
otherwise speech recognition (core_model.index.asr).

A sidecar is a ``.srt`` or ``.vtt`` file beside the video with the same base name (``talk.srt`` for
``talk.mp4``), or with a language tag between (``talk.en.srt``). An embedded track is a text subtitle stream of the
container (mov_text in MP4, SubRip / WebVTT / ASS in Matroska), read with PyAV: only its packets are demuxed, no
picture or sound is decoded.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import av

from core_model.index.subtitles import clean_text, parse_subtitles
from core_model.media.container import open_container, time_origin_s
from core_model.media.errors import MediaError
from core_model.store.index_records import Cue

SIDECAR_SUFFIXES = (".srt", ".vtt")
TEXT_SUBTITLE_CODECS = ("mov_text", "subrip", "srt", "webvtt", "ass", "ssa", "text")


@dataclass(frozen=True)
class FoundTranscript:
    """A transcript that needs no model: its cues and where they came from ("sidecar" or "embedded")."""

    cues: list[Cue]
    source: str
    origin: str
    """The sidecar's file name, or "track N (codec)"."""


def find_sidecar(video: str | os.PathLike) -> Path | None:
    """The subtitle file beside ``video`` with its base name (``talk.srt``, ``talk.vtt``, ``talk.en.srt``)."""
    video = Path(video)
    for suffix in SIDECAR_SUFFIXES:
        exact = video.with_suffix(suffix)
        if exact.is_file():
            return exact
    tagged = sorted(p for p in video.parent.glob(f"{_glob_escape(video.stem)}.*")
                    if p.suffix.lower() in SIDECAR_SUFFIXES and p.is_file())
    return tagged[0] if tagged else None


def read_sidecar(path: Path) -> list[Cue]:
    """The cues of a sidecar file (UTF-8, else Latin-1: old SRT files are often not UTF-8)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    language = path.suffixes[-2].lstrip(".") if len(path.suffixes) >= 2 and len(path.suffixes[-2]) <= 4 else ""
    return parse_subtitles(text, source="sidecar", language=language)


def read_embedded(video: str | os.PathLike) -> FoundTranscript | None:
    """The cues of the video's first text subtitle track with any text, or None when it has none."""
    with open_container(video) as container:
        origin_s = time_origin_s(container)
        for stream in container.streams.subtitles:
            codec = stream.codec_context.name if stream.codec_context is not None else ""
            if codec not in TEXT_SUBTITLE_CODECS:
                continue  # bitmap subtitles (DVD, PGS) would need OCR
            language = (stream.metadata or {}).get("language", "")
            cues = _track_cues(container, stream, origin_s, "" if language == "und" else language)
            if cues:
                return FoundTranscript(cues, "embedded", f"track {stream.index} ({codec})")
    return None


def _track_cues(container, stream, origin_s: float, language: str) -> list[Cue]:
    cues: list[Cue] = []
    try:
        for packet in container.demux(stream):
            if packet.pts is None or packet.time_base is None:
                continue
            start_s = float(packet.pts * packet.time_base) - origin_s
            end_s = start_s + float((packet.duration or 0) * packet.time_base)
            for subtitle in packet.decode():
                text = clean_text(_subtitle_text(subtitle))
                if text:
                    cues.append(Cue(round(start_s, 3), round(end_s, 3), text, "embedded", language))
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot read the subtitles of {Path(container.name).name}: {exc}") from exc
    return sorted(cues, key=lambda cue: cue.start_s)


def _subtitle_text(subtitle) -> str:
    """The text of one decoded subtitle: ASS dialogue (PyAV gives every text codec as ASS), else its text."""
    for attribute in ("dialogue", "text"):
        value = getattr(subtitle, attribute, None)
        if value:
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return ""


def find_transcript(video: str | os.PathLike) -> FoundTranscript | None:
    """A transcript that needs no model: the sidecar first (the user put it there), then an embedded track."""
    sidecar = find_sidecar(video)
    if sidecar is not None:
        cues = read_sidecar(sidecar)
        if cues:
            return FoundTranscript(cues, "sidecar", sidecar.name)
    return read_embedded(video)


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)
