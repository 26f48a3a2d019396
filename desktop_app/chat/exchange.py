"""What the chat pane shows for one question and its answer (plain data; the controller fills it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


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
