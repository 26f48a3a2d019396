"""What the window asks the inference worker: which model (ModelSpec) and one question (ChatRequest), with where a
whole-video question may be planned from (WholeVideoAsk). Plain frozen data: they cross threads in queued signals."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core_model.backends.base import GenerationOptions, MediaRef, Turn


@dataclass(frozen=True)
class ModelSpec:
    """Which model to run and how: ``model`` is a folder path or catalog id."""

    model: str
    device: str = "auto"
    load_in_4bit: bool | None = None


@dataclass(frozen=True)
class WholeVideoAsk:
    """The question may be about the whole of a video: if its index is in the database at ``db_path``, the worker
    plans it from there (core_model.index.whole_video.plan_question) before answering."""

    db_path: str
    duration_s: float


@dataclass(frozen=True)
class ChatRequest:
    """One question for the worker: the whole conversation (last turn = the question) and that turn's media."""

    request_id: int
    spec: ModelSpec
    conversation: tuple[Turn, ...]
    media: tuple[MediaRef, ...] = ()
    options: GenerationOptions = field(default_factory=GenerationOptions)
    whole_video: WholeVideoAsk | None = None

    def turns(self) -> list[Turn]:
        """The conversation with the question's media on its last turn (where the Backend protocol wants them)."""
        turns = list(self.conversation)
        if turns and self.media:
            turns[-1] = replace(turns[-1], media=tuple(self.media))
        return turns
