"""What the chat pane shows for one question and its answer (plain data; the controller fills it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from core_model.backends.base import AudioRef, Capabilities, ImageRef, SegmentRef


class AnswerState(str, Enum):
    QUEUED = "queued"
    LOADING = "loading"  # the model loads before it can answer
    ANSWERING = "answering"
    DONE = "done"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        return self in (AnswerState.DONE, AnswerState.STOPPED, AnswerState.FAILED)


@dataclass
class Exchange:
    key: int  # request id (live) or negative stored turn id (history)
    question: str
    segment_ms: tuple[int, int] | None = None  # None: no video, or see whole_video
    whole_video: bool = False
    include_audio: bool = False
    image_paths: list[str] = field(default_factory=list)
    audio_path: str | None = None
    answer: str = ""
    state: AnswerState = AnswerState.QUEUED
    detail: str = ""  # queue place, load progress, error message
    model_id: str = ""
    frame_times_s: list[float] = field(default_factory=list)  # this question's frames the model saw (its run)
    earlier_frames: int = 0  # frames of earlier questions the model saw again for this answer
    heard_audio: bool | None = None  # None until the run says; True only when the model heard the segment's sound
    sources: list[tuple[int, int, str]] = field(default_factory=list)  # a whole-video answer's moments (ms, ms, why)


def exchange_for(key: int, text: str, media, duration_ms: int) -> Exchange:
    """The Exchange of a question about ``media`` (SegmentRef / ImageRef / AudioRef) in a video of ``duration_ms``."""
    exchange = Exchange(key=key, question=text)
    for ref in media:
        if isinstance(ref, SegmentRef):
            if ref.start_s is None and ref.end_s is None:
                exchange.whole_video = True
            else:
                start_s = ref.start_s or 0.0
                end_s = ref.end_s if ref.end_s is not None else duration_ms / 1000
                exchange.segment_ms = (round(start_s * 1000), round(end_s * 1000))
            exchange.include_audio = ref.include_audio
        elif isinstance(ref, ImageRef):
            exchange.image_paths.append(ref.path)
        elif isinstance(ref, AudioRef):
            exchange.audio_path = ref.path
    return exchange


def refusal_for(media: list, model: str, capabilities: Capabilities | None) -> str:
    """Why a question about ``media`` cannot be sent to ``model`` ("" when it can), checked before any work.
    ``capabilities``: what the model takes (None while it is not described yet: the model itself then refuses)."""
    if not media:
        return "Open a video or attach an image to ask about."
    if not model:
        return "No model chosen: pick one in Settings (Ctrl+,) or Models…."
    caps, name = capabilities, Path(model).name or model
    if caps is None:
        return ""
    if not caps.image and any(isinstance(m, ImageRef) for m in media):
        return f"{name} does not take images: remove the attached images or choose another model."
    if not caps.video and any(isinstance(m, SegmentRef) for m in media):
        return f"{name} does not take video: untick Segment to ask about the images alone."
    if not caps.audio and any(isinstance(m, AudioRef) for m in media):
        return f"{name} does not take audio: remove the voice clip or type the question."
    return ""
