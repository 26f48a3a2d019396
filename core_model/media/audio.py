"""A segment's audio: ``load_audio(path, start_s, end_s, sample_rate=16000)``, decoding only that segment (PyAV)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import av
import numpy as np

from core_model.media.container import open_container, time_origin_s
from core_model.media.errors import MediaError
from core_model.media.probe import is_image_format
from core_model.media.segment import resolve_segment

_MARGIN_S = 0.1
"""Audio decoded on each side of a segment, so the resampler's edges (and Opus' pre-roll) fall outside it."""


def load_audio(
    path: str | os.PathLike,
    start_s: float | None = None,
    end_s: float | None = None,
    sample_rate: int = 16000,
) -> np.ndarray | None:
    """The audio of [start_s, end_s] (seconds; None = start/end of the file) as mono float32 [samples] in [-1, 1].

    ``samples`` is ``round((end_s - start_s) * sample_rate)`` (fewer when the audio track ends earlier than the
    segment; silence where it starts later); for the whole file, every decoded sample. Only the packets of the
    segment (plus ``_MARGIN_S`` each side) are decoded; FFmpeg's resampler (libswresample) changes the rate on the
    fly, then the channels are averaged. Returns None when the file has no audio track (a video without sound). Works for
    audio-only files too. MediaError for unreadable files and bad segments.
    """
    if int(sample_rate) <= 0:
        raise MediaError(f"sample rate must be positive, got {sample_rate}")
    decoded = _decode(path, start_s, end_s, rate=int(sample_rate))
    if decoded is None:
        return None
    channels = decoded.segment()  # [channels, samples]
    return channels[0] if channels.shape[0] == 1 else channels.mean(axis=0, dtype=np.float32)


def load_audio_native(
    path: str | os.PathLike,
    start_s: float | None = None,
    end_s: float | None = None,
) -> tuple[np.ndarray, int] | None:
    """The audio of [start_s, end_s] at the file's own rate, every channel: (float32 [channels, samples], rate).

    For the whole file (both None) this is every decoded sample, exactly what ``torchaudio.load`` gives (encoder
    priming dropped, the last frame's padding kept), which Video-LLaMA's audio clip layout depends on (give it to
    ``fbank.audio_clip_features(waveform, sample_rate=rate)``). None when the file has no audio track.
    """
    decoded = _decode(path, start_s, end_s, rate=None)
    return None if decoded is None else (decoded.segment(), decoded.rate)


@dataclass
class _Decoded:
    """Samples decoded around a segment: it starts ``skip_s`` into ``waveform`` and lasts ``length_s`` (None: all)."""

    waveform: np.ndarray  # float32 [channels, samples]
    rate: int
    skip_s: float
    length_s: float | None

    def segment(self) -> np.ndarray:
        begin = round(self.skip_s * self.rate)
        end = None if self.length_s is None else begin + round(self.length_s * self.rate)
        return np.ascontiguousarray(self.waveform[:, begin:end])


def _decode(path, start_s, end_s, rate: int | None) -> _Decoded | None:
    """Decode the audio around a segment, at ``rate`` Hz (None: the file's), every channel. None: no audio track."""
    name = os.path.basename(os.fspath(path))
    with open_container(path) as container:
        if is_image_format(container):
            raise MediaError(f"not a video or audio file: {name} is a still image")
        if not container.streams.audio:
            if not container.streams.video:
                raise MediaError(f"not a video or audio file: {name} holds neither pictures nor sound")
            return None
        stream = container.streams.audio[0]
        whole_file = start_s is None and end_s is None
        what = "video" if container.streams.video else "audio"
        start, end = resolve_segment(start_s, end_s, _duration_s(container, stream), what=what)
        origin_s = time_origin_s(container)
        from_s = max(start - _MARGIN_S, 0.0)
        if from_s > 0:
            container.seek(math.floor((from_s + origin_s) / stream.time_base), backward=True, stream=stream)
        out_rate = rate or stream.codec_context.sample_rate
        converter = av.AudioResampler(format="fltp", rate=out_rate)  # float planar, layout kept
        stop_s = None if whole_file else end + _MARGIN_S + origin_s
        try:
            waveform, first_s = _decode_frames(container, stream, converter, stop_s)
        except av.error.FFmpegError as exc:
            raise MediaError(f"file is truncated or damaged: the sound of {name} cannot be decoded ({exc})") from exc
        if first_s is None:
            raise MediaError(f"file is truncated or damaged: no sound could be decoded at {start:.1f} s in {name}")
        if whole_file:
            return _Decoded(waveform, out_rate, 0.0, None)
        first_s -= origin_s
        if first_s > from_s:  # the track starts after the segment does: silence until it begins
            silence = np.zeros((waveform.shape[0], round((first_s - from_s) * out_rate)), np.float32)
            waveform, first_s = np.concatenate([silence, waveform], axis=1), from_s
        return _Decoded(waveform, out_rate, start - first_s, end - start)


def _decode_frames(container, stream, converter: av.AudioResampler, stop_s: float | None):
    """Decode from the current position until ``stop_s`` (container seconds; None = the end) through ``converter``.

    Returns (float32 [channels, samples], the first sample's time in container seconds, or None when nothing came).
    """
    chunks: list[np.ndarray] = []
    first_s = None
    for frame in container.decode(stream):
        frame_start_s = frame.time
        if frame_start_s is None:
            continue
        if stop_s is not None and frame_start_s >= stop_s:
            break
        if first_s is None:
            first_s = frame_start_s
        chunks.extend(converted.to_ndarray() for converted in converter.resample(frame))  # [channels, n] each
    if first_s is None:
        return np.zeros((1, 0), np.float32), None
    chunks.extend(converted.to_ndarray() for converted in converter.resample(None))  # the resampler's tail
    return np.concatenate(chunks, axis=1).astype(np.float32, copy=False), first_s


def _duration_s(container, stream) -> float:
    if container.duration:
        return container.duration / av.time_base
    if stream.duration:
        return float(stream.duration * stream.time_base)
    raise MediaError(f"file is truncated or damaged: the length of {os.path.basename(container.name)} is unknown")
