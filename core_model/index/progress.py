"""Progress of an index build: how far each part got and when it should end (an ETA from its own pace)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class IndexProgress:
    """One report: ``part`` ("transcript", "scenes", ...), the ``part_number``-th of ``part_count`` being built,
    how much of the video it has covered (``position_s`` of ``duration_s``), and the seconds it should still take
    (``eta_s``; None until its pace is known)."""

    part: str
    part_number: int
    part_count: int
    position_s: float
    duration_s: float
    eta_s: float | None
    message: str = ""

    @property
    def fraction(self) -> float:
        """The part's progress, 0..1."""
        return min(1.0, self.position_s / self.duration_s) if self.duration_s > 0 else 1.0


ProgressCallback = Callable[[IndexProgress], None]


class PartClock:
    """The ETA of one part: its pace since it (re)started, projected over what is left.

    Resumed work is not counted as done in this run, so a resumed part's ETA is its own pace, not an average
    flattered by what an earlier run did.
    """

    MIN_INTERVAL_S = 0.2
    """Reports closer together than this in time and than MIN_STEP_FRACTION of the video are dropped (a progress
    bar needs no more); forced ones (a part's first and last) never are."""
    MIN_STEP_FRACTION = 0.01

    def __init__(self, part: str, number: int, count: int, start_s: float, duration_s: float,
                 callback: ProgressCallback | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.part, self.number, self.count = part, number, count
        self.start_s, self.duration_s = start_s, duration_s
        self.callback = callback
        self.clock = clock
        self.began = clock()
        self.last_report = -1e9
        self.last_position_s = -1e9

    def eta_s(self, position_s: float) -> float | None:
        covered_s = position_s - self.start_s
        if covered_s <= 0:
            return None
        seconds_per_video_s = (self.clock() - self.began) / covered_s
        return max(0.0, (self.duration_s - position_s) * seconds_per_video_s)

    def report(self, position_s: float, message: str = "", force: bool = False) -> None:
        if self.callback is None:
            return
        now = self.clock()
        small_step = position_s - self.last_position_s < self.MIN_STEP_FRACTION * self.duration_s
        if not force and now - self.last_report < self.MIN_INTERVAL_S and small_step:
            return
        self.last_report, self.last_position_s = now, position_s
        self.callback(IndexProgress(self.part, self.number, self.count, position_s, self.duration_s,
                                    self.eta_s(position_s), message))
