"""Frames at given times with PyAV, decoding as little as possible, several GOP runs in parallel."""

from __future__ import annotations

import math
import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Callable

import av
import numpy as np

from core_model.media.container import open_container, time_origin_s
from core_model.media.errors import DecodeStopped, MediaError
from core_model.media.probe import video_stream
from core_model.media.segment import TIME_EPSILON_S

_CUT_SHORT_S = 0.1
"""A file whose last decodable picture ends more than this before its declared end is truncated."""

_MAX_WORKERS = 4
"""Most readers decoding one request in parallel."""

_SEEK_GAP_S = 20.0
"""Beyond this distance ahead, seek instead of reading packets forward (reading skips GOPs without decoding)."""


def pyav_frames(
    path,
    times_s: list[float],
    workers: int | None = None,
    accurate: bool = True,
    *,
    stored_size: tuple[int, int] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[np.ndarray, list[float]]:
    """Frames shown at ``times_s`` (file timeline): (uint8 [N, h, w, 3] as stored, presentation times in s).

    The sorted targets are cut into up to ``workers`` runs of neighbours, each decoded by its own reader on its own
    thread (FFmpeg releases the GIL while decoding), so GOPs far apart decode in parallel on several cores.
    ``accurate=False`` takes the keyframe at or before each time instead (fast, for thumbnails).
    ``stored_size`` (w, h): each picture is scaled to it by FFmpeg as it is converted to RGB, so a 4K source never
    exists as full-size RGB arrays. ``should_stop``: polled before each frame; once True, DecodeStopped is raised.
    """
    order = sorted(range(len(times_s)), key=times_s.__getitem__)
    workers = _worker_count(len(order)) if workers is None else max(1, min(workers, len(order)))
    runs = [order[i * len(order) // workers : (i + 1) * len(order) // workers] for i in range(workers)]
    threads_per_decoder = max(2, _usable_cores() // workers)  # 2 each even on 2 cores: measured faster there
    frames: list[np.ndarray | None] = [None] * len(times_s)
    timestamps: list[float] = [0.0] * len(times_s)

    def decode_run(run: list[int]) -> None:
        _decode_run(path, run, times_s, frames, timestamps, threads_per_decoder, accurate, stored_size, should_stop)

    if workers == 1:
        decode_run(runs[0])
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vidi-decode") as pool:
            for future in [pool.submit(decode_run, run) for run in runs]:
                future.result()
    return np.stack(frames), timestamps


def _worker_count(num_targets: int) -> int:
    """Parallel readers: one per two targets, at most one per core and at most ``_MAX_WORKERS``."""
    return max(1, min(_MAX_WORKERS, _usable_cores(), num_targets // 2))


def _usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _decode_run(path, run: list[int], times_s, frames: list, timestamps: list, threads: int, accurate: bool,
                stored_size: tuple[int, int] | None = None, should_stop: Callable[[], bool] | None = None) -> None:
    """Decode the targets ``run`` (indices into ``times_s``, ascending times) into ``frames``/``timestamps``."""
    name = os.path.basename(os.fspath(path))
    with open_container(path) as container:
        stream = video_stream(container, name)
        stream.thread_type = "AUTO" if threads > 1 and accurate else "NONE"
        stream.thread_count = threads if accurate else 1
        reader = _ForwardReader(container, stream) if accurate else _KeyframeReader(container, stream)
        origin_s = time_origin_s(container)
        try:
            for index in run:
                if should_stop is not None and should_stop():
                    raise DecodeStopped()
                frame = reader.frame_at(times_s[index] + origin_s)
                frames[index] = _picture(frame, stored_size)
                timestamps[index] = float(frame.pts * stream.time_base) - origin_s
        except av.error.FFmpegError as exc:
            raise MediaError(f"file is truncated or damaged: {name} ({exc})") from exc


def _picture(frame: av.VideoFrame, stored_size: tuple[int, int] | None) -> np.ndarray:
    """The frame as uint8 RGB [h, w, 3], scaled to ``stored_size`` (w, h) by FFmpeg as it is converted."""
    if stored_size is not None and (frame.width, frame.height) != stored_size:
        frame = frame.reformat(width=stored_size[0], height=stored_size[1], format="rgb24", interpolation="AREA")
    return frame.to_ndarray(format="rgb24")


class InOrderReader:
    """Frames shown at non-decreasing times of one file, from one open container read front to back.

    The forward reader below does the work: GOPs holding no target are skipped without being decoded, a target more
    than ``_SEEK_GAP_S`` ahead seeks forward, and nothing is read twice. For many targets spread over a long video
    (the index's keyframes), where a ``pyav_frames`` call per few targets would open the file and seek each time.
    """

    def __init__(self, path, stored_size: tuple[int, int] | None = None) -> None:
        self._name = os.path.basename(os.fspath(path))
        self._stored_size = stored_size
        self._container = open_container(path)
        try:
            stream = video_stream(self._container, self._name)
            stream.thread_type = "AUTO"
            stream.thread_count = max(2, _usable_cores())
            self._time_base = Fraction(stream.time_base)
            self._reader = _ForwardReader(self._container, stream)
            self._origin_s = time_origin_s(self._container)
        except BaseException:
            self._container.close()
            raise
        self._last_time_s = -math.inf

    def frame_at(self, time_s: float) -> tuple[np.ndarray, float]:
        """(uint8 RGB [h, w, 3] as stored, its presentation time in s) of the frame shown at ``time_s`` (file
        timeline); ``time_s`` must not be before the previous call's."""
        if time_s < self._last_time_s - TIME_EPSILON_S:
            raise ValueError(f"frames are read in time order: {time_s:.3f} s comes after {self._last_time_s:.3f} s")
        self._last_time_s = time_s
        try:
            frame = self._reader.frame_at(time_s + self._origin_s)
            return _picture(frame, self._stored_size), float(frame.pts * self._time_base) - self._origin_s
        except av.error.FFmpegError as exc:
            raise MediaError(f"file is truncated or damaged: {self._name} ({exc})") from exc

    def close(self) -> None:
        self._container.close()


class _ForwardReader:
    """Frames shown at increasing times, decoding as little as possible.

    Packets are read ahead of decoding; a keyframe at or before the target drops the undecoded packets before it, so
    whole GOPs between targets are skipped without being decoded. Targets farther than ``_SEEK_GAP_S`` ahead seek.
    """

    def __init__(self, container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> None:
        self._container = container
        self._stream = stream
        self._time_base = Fraction(stream.time_base)
        self._packets = None
        self._pending: deque[av.Packet] = deque()  # read, not decoded, in decode order
        self._decoded: list[av.VideoFrame] = []  # decoded, ascending pts; at most one with pts <= last target
        self._read_dts = None  # dts of the last packet read
        self._eof = False
        self._drained = False
        self._from_file_start = False

    def frame_at(self, time_s: float) -> av.VideoFrame:
        """The frame shown at ``time_s`` (container time, seconds); times must not decrease between calls."""
        target = math.floor((time_s + TIME_EPSILON_S) / self._time_base)
        if self._packets is None or self._far_ahead(target):
            self._seek(target)
        frame = self._decode_through(target)
        if frame is None and not self._from_file_start:
            self._seek(None)  # the seek landed after the target (or the file starts late): decode from the start
            frame = self._decode_through(target)
        if frame is None:
            if not self._decoded:
                raise MediaError(f"file is truncated: no picture could be decoded at {time_s:.1f} s")
            frame = self._decoded[0]  # the target lies before the first frame
        elif self._drained and frame is self._decoded[-1]:
            self._check_not_cut_short(frame, time_s)
        return frame

    def _check_not_cut_short(self, last: av.VideoFrame, time_s: float) -> None:
        """The file ended at ``last``: MediaError when its index promised pictures well after it."""
        stream = self._stream
        if not stream.duration:
            return
        declared_end = (stream.start_time or 0) + stream.duration
        last_duration = last.duration or (1 / (stream.average_rate or 30)) / self._time_base
        if float((declared_end - last.pts - last_duration) * self._time_base) > _CUT_SHORT_S:
            raise MediaError(
                f"file is truncated: its pictures stop at {float(last.pts * self._time_base):.1f} s, "
                f"before {time_s:.1f} s"
            )

    def _far_ahead(self, target: int) -> bool:
        if self._read_dts is None:
            return False
        return float((target - self._read_dts) * self._time_base) > _SEEK_GAP_S

    def _seek(self, target: int | None) -> None:
        if target is None:
            self._container.seek(0, backward=True, any_frame=False)
        else:
            self._container.seek(max(target, 0), backward=True, any_frame=False, stream=self._stream)
        self._from_file_start = target is None
        self._stream.codec_context.flush_buffers()
        self._packets = self._container.demux(self._stream)
        self._pending.clear()
        self._decoded.clear()
        self._read_dts = None
        self._eof = False
        self._drained = False

    def _read_packet(self) -> av.Packet | None:
        for packet in self._packets:
            if packet.size == 0:  # demuxer's end-of-stream marker
                break
            dts = packet.dts if packet.dts is not None else packet.pts
            if dts is not None:
                self._read_dts = dts
            return packet
        self._eof = True
        return None

    def _decode_through(self, target: int) -> av.VideoFrame | None:
        # 1. Read packets up to the first one decoded after the target, skipping GOPs that end before it.
        while not self._eof and (self._read_dts is None or self._read_dts <= target):
            packet = self._read_packet()
            if packet is None:
                break
            if packet.is_keyframe and packet.pts is not None and packet.pts <= target:
                self._pending.clear()
                self._decoded.clear()
                self._stream.codec_context.flush_buffers()
            self._pending.append(packet)
        # 2. Decode until a frame after the target is out (the decoder may hold frames back) or nothing is left.
        while not (self._decoded and self._decoded[-1].pts is not None and self._decoded[-1].pts > target):
            if self._pending:
                self._add(self._stream.decode(self._pending.popleft()), target)
            elif not self._eof:
                packet = self._read_packet()
                if packet is not None:
                    self._pending.append(packet)
            else:
                if not self._drained:  # drain the decoder once at the end of the file
                    self._drained = True
                    self._add(self._stream.decode(None), target)
                break
        # 3. The last frame at or before the target.
        shown = [frame for frame in self._decoded if frame.pts is not None and frame.pts <= target]
        return shown[-1] if shown else None

    def _add(self, frames: list[av.VideoFrame], target: int) -> None:
        """Keep decoded frames, dropping those superseded (an earlier frame at or before the target)."""
        for frame in frames:
            if frame.pts is None:
                frame.pts = frame.dts
            self._decoded.append(frame)
        while len(self._decoded) >= 2 and self._decoded[1].pts is not None and self._decoded[1].pts <= target:
            self._decoded.pop(0)


class _KeyframeReader:
    """The keyframe at or before each time: one seek and one decoded picture per distinct keyframe."""

    def __init__(self, container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> None:
        self._container = container
        self._stream = stream
        self._time_base = Fraction(stream.time_base)
        self._last: av.VideoFrame | None = None

    def frame_at(self, time_s: float) -> av.VideoFrame:
        target = math.floor((time_s + TIME_EPSILON_S) / self._time_base)
        self._container.seek(max(target, 0), backward=True, any_frame=False, stream=self._stream)
        self._stream.codec_context.flush_buffers()
        for packet in self._container.demux(self._stream):
            if self._last is not None and packet.pts == self._last.pts:
                return self._last  # same keyframe as the previous time
            for frame in self._stream.decode(packet):
                self._last = frame
                return frame
        for frame in self._stream.decode(None):
            self._last = frame
            return frame
        if self._last is not None:
            return self._last
        raise MediaError("file is truncated: no picture could be decoded")
