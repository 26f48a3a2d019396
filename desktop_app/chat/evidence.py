"""What the model really saw for one question, from that question's RunInfo (plain data; no Qt).

A backend reports ``RunInfo.frame_timestamps_s`` for every segment of the conversation it encoded, in order, so the
question's own segment comes last; when earlier turns' segments were sent again their frames come first. The chat
shows the question's own frames and counts the others apart, and says "with audio" only when the model heard the
segment (``RunInfo.used_audio``) and the video has sound at all (the probe).
"""

from __future__ import annotations

from dataclasses import dataclass, field

_EDGE_S = 0.05  # a frame's timestamp may round a little outside the segment it was sampled from


@dataclass(frozen=True)
class Evidence:
    frame_times_s: list[float] = field(default_factory=list)  # this question's frames, in the order the model saw them
    earlier_frames: int = 0  # frames of earlier questions' segments the model saw again for this answer
    heard_audio: bool = False


def evidence_of(frame_times_s, used_audio: bool, segment_ms: tuple[int, int] | None, whole_video: bool,
                has_sound: bool | None) -> Evidence:
    """This question's share of a run: the trailing frames inside its segment (all of them for the whole video)."""
    times = [float(t) for t in frame_times_s or ()]
    if segment_ms is None and not whole_video:
        own: list[float] = []  # no segment in this question: any frames belong to earlier turns
    elif whole_video or segment_ms is None:
        own = times
    else:
        start_s, end_s = segment_ms[0] / 1000 - _EDGE_S, segment_ms[1] / 1000 + _EDGE_S
        first = len(times)
        while first > 0 and start_s <= times[first - 1] <= end_s:
            first -= 1
        own = times[first:]
    asked_about_video = segment_ms is not None or whole_video
    heard = bool(used_audio) and asked_about_video and has_sound is not False
    return Evidence(own, len(times) - len(own), heard)


def spread(items: list, count: int) -> list:
    """At most ``count`` of ``items``, evenly spread, first and last kept (thumbnails for many frames)."""
    if count <= 0:
        return []
    if len(items) <= count:
        return list(items)
    if count == 1:
        return [items[0]]
    step = (len(items) - 1) / (count - 1)
    return [items[round(i * step)] for i in range(count)]
