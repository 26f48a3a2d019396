"""Plain records of a video's index (see core_model.store.index_store): its parts' states, cues, scenes,
captions, chapters and text-search hits. Times are seconds from the start of the video's timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

PartName = Literal["transcript", "scenes", "captions", "embeddings", "chapters"]
PART_NAMES: tuple[str, ...] = ("transcript", "scenes", "captions", "embeddings", "chapters")

PartStateName = Literal["done", "partial", "missing"]
PART_STATES: tuple[str, ...] = ("done", "partial", "missing")
"""done: built to the end; partial: built up to ``done_until_s`` (building again resumes there); missing: not
built (``notice`` says why, e.g. which model to pull)."""

CueSource = Literal["sidecar", "embedded", "asr"]
CUE_SOURCES: tuple[str, ...] = ("sidecar", "embedded", "asr")


@dataclass(frozen=True)
class PartState:
    part: str
    state: str = "missing"
    model_id: str = ""
    source: str = ""
    done_until_s: float = 0.0
    notice: str = ""

    @property
    def done(self) -> bool:
        return self.state == "done"


@dataclass(frozen=True)
class Cue:
    """One line of a transcript."""

    start_s: float
    end_s: float
    text: str
    source: str = "sidecar"
    language: str = ""


@dataclass(frozen=True)
class Scene:
    """One shot, with the times of the keyframes chosen to stand for it (one, more for long scenes)."""

    start_s: float
    end_s: float
    keyframes_s: tuple[float, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class KeyframePicture:
    """A keyframe's picture, taken while the scenes were found: ``time_s`` is the keyframe's time (the one in its
    Scene), ``shown_s`` the time the picture was shown (the nearest sample kept: core_model.index.keyframe_pictures),
    ``jpeg`` the picture at KEYFRAME_SIDE_PX on its long side, as displayed."""

    time_s: float
    shown_s: float
    jpeg: bytes


@dataclass(frozen=True)
class Caption:
    start_s: float
    end_s: float
    text: str
    model_id: str = ""


@dataclass(frozen=True)
class Chapter:
    start_s: float
    end_s: float
    title: str
    summary: str = ""


@dataclass(frozen=True)
class TextHit:
    """A transcript cue or caption that matched a text search; ``rank``: 0 is the best match."""

    kind: Literal["cue", "caption"]
    start_s: float
    end_s: float
    text: str
    rank: int
    score: float
