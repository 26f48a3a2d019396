"""Keyframe pictures taken during the scene pass, so the embeddings part never decodes the video a second time.

    candidates = CandidateBuffer(cap=64)
    for each sampled frame of the open scene:
        candidates.offer(time_s, lambda: small_rgb(frame))     # converted only when it is kept
    pictures = candidates.pictures(scene.keyframes_s, rotation)  # [KeyframePicture(time_s, shown_s, jpeg), ...]
    candidates.clear()                                          # the next scene starts

The scene's end (so its keyframe times: the middle, or the middles of its <=20-s parts) is known only when the next
cut is found, so the scan keeps candidates for the whole open scene and picks, once it closes, the nearest one to
each keyframe time. Memory stays flat whatever the scene's length: at most ``cap`` candidates are held (64 pictures
of 256x144 RGB: 7 MB); when the buffer is full every other one is dropped and only every second sample (then
fourth, ...) is kept from then on, so the candidates stay evenly spread over the scene.

Bounded error: a scene of up to cap / sample_fps seconds (16 s at 4 fps) keeps every sample, so each picture is
within half a sample gap (0.125 s) of its keyframe time; a longer scene of L seconds keeps candidates at most
about L / (cap / 2) apart, so a picture is within about L / cap seconds of its time (a 2-minute shot: ~2 s). The
keyframe times stored stay the exact centres; each picture records the time it was shown (``shown_s``).

Pictures are stored as JPEG at KEYFRAME_SIDE_PX on the long side, quality ``JPEG_QUALITY`` (a busy picture over
BUSY_PICTURE_BYTES: BUSY_JPEG_QUALITY): 5 kB for the bench's test pattern, at most about 13 kB for a detailed photo.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import cv2
import numpy as np

from core_model.store.index_records import KeyframePicture

KEYFRAME_SIDE_PX = 256
"""Keyframe pictures' long side: SigLIP sees 224 px anyway."""
CANDIDATE_CAP = 64
"""Candidate pictures held for the open scene, at most."""
JPEG_QUALITY = 85
BUSY_PICTURE_BYTES = 12_000
"""A picture larger than this at JPEG_QUALITY (a busy one: foliage, a crowd) is encoded again at BUSY_JPEG_QUALITY,
so fast-cut videos of busy pictures stay within the index's budget (about 20 MB per indexed hour in all)."""
BUSY_JPEG_QUALITY = 70


@dataclass
class _Candidate:
    time_s: float
    rgb: np.ndarray


class CandidateBuffer:
    """The open scene's candidate pictures: at most ``cap``, evenly spread over it (see the module's text)."""

    def __init__(self, cap: int = CANDIDATE_CAP) -> None:
        if cap < 2:
            raise ValueError("the candidate cap must be at least 2")
        self.cap = cap
        self._candidates: list[_Candidate] = []
        self._stride = 1
        self._offered = 0

    def __len__(self) -> int:
        return len(self._candidates)

    @property
    def stride(self) -> int:
        """One sample in ``stride`` is kept (1 until the buffer first fills)."""
        return self._stride

    @property
    def times_s(self) -> list[float]:
        return [c.time_s for c in self._candidates]

    def offer(self, time_s: float, picture: Callable[[], np.ndarray]) -> bool:
        """Offer the sample shown at ``time_s``; ``picture()`` (its small RGB) is called only when it is kept."""
        number = self._offered
        self._offered += 1
        if number % self._stride:
            return False
        self._candidates.append(_Candidate(float(time_s), picture()))
        if len(self._candidates) > self.cap:
            # kept samples were numbers 0, s, 2s, ...: keeping the even positions keeps 0, 2s, 4s, ... (stride 2s)
            self._candidates = self._candidates[::2]
            self._stride *= 2
        return True

    def clear(self) -> None:
        self._candidates = []
        self._stride = 1
        self._offered = 0

    def pictures(self, times_s: Sequence[float], rotation: int = 0) -> list[KeyframePicture]:
        """The nearest candidate to each of ``times_s``, turned as displayed (``rotation``: degrees counter-clockwise)
        and encoded as JPEG; [] when the buffer is empty."""
        if not self._candidates:
            return []
        kept = np.array(self.times_s)
        found = []
        for time_s in times_s:
            nearest = self._candidates[int(np.argmin(np.abs(kept - time_s)))]
            found.append(KeyframePicture(round(float(time_s), 3), round(nearest.time_s, 3),
                                         encode_jpeg(np.rot90(nearest.rgb, k=rotation // 90) if rotation else
                                                     nearest.rgb)))
        return found


def encode_jpeg(rgb: np.ndarray) -> bytes:
    """uint8 RGB [H, W, 3] -> JPEG bytes at JPEG_QUALITY, or BUSY_JPEG_QUALITY when that is over BUSY_PICTURE_BYTES."""
    bgr = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2BGR)
    data = _jpeg(bgr, JPEG_QUALITY)
    return data if len(data) <= BUSY_PICTURE_BYTES else _jpeg(bgr, BUSY_JPEG_QUALITY)


def _jpeg(bgr: np.ndarray, quality: int) -> bytes:
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("a keyframe picture could not be encoded as JPEG")
    return data.tobytes()


def decode_jpeg(jpeg: bytes) -> np.ndarray | None:
    """JPEG bytes -> uint8 RGB [H, W, 3]; None when they are not a picture (a damaged row: decode the video)."""
    bgr = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
