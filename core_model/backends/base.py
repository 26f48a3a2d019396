"""The one interface every Vidi model backend implements.

Nothing here imports Qt or torch: the CLI, the GUI's worker thread and the tests drive backends through these
plain types. A backend turns a conversation (turns of text with media references) into a stream of text pieces.

Flow for one question::

    backend = load_backend("path/or/id")          # registry in core_model.backends
    backend.load(progress=lambda fraction, message: ...)
    for piece in backend.answer(conversation, media, options):
        ...                                        # stream to the user
    info = backend.last_run                        # frames' timestamps, timings, stopped flag

``cancel()`` may be called from any thread while ``answer`` is iterating; generation then stops within one token
and the iterator ends (``last_run.stopped`` is True).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator, Literal, Protocol, Sequence, Union, runtime_checkable

ProgressCallback = Callable[[float, str], None]
"""progress(fraction in [0, 1], message) reported while a model loads."""


# ----------------------------------------------------------------------------------------------------------------
# Media references: what a question is about. Paths, never decoded pixels: the backend decodes what it needs.
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentRef:
    """A segment of a video file. ``start_s``/``end_s`` None means the start/end of the file."""

    path: str
    start_s: float | None = None
    end_s: float | None = None
    include_audio: bool = True
    kind: Literal["segment"] = "segment"


@dataclass(frozen=True)
class ImageRef:
    """A still image (PNG/JPEG/WebP/BMP/GIF)."""

    path: str
    kind: Literal["image"] = "image"


@dataclass(frozen=True)
class AudioRef:
    """A recorded or dropped audio clip (e.g. a microphone recording saved as WAV)."""

    path: str
    kind: Literal["audio"] = "audio"


MediaRef = Union[SegmentRef, ImageRef, AudioRef]


@dataclass(frozen=True)
class Turn:
    """One message of a conversation. ``media`` are the attachments that message was about."""

    role: Literal["user", "assistant"]
    text: str
    media: tuple[MediaRef, ...] = ()


Conversation = Sequence[Turn]


@dataclass(frozen=True)
class GenerationOptions:
    """How to generate. ``temperature == 0`` (the default) means greedy decoding."""

    max_new_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 0.9
    num_frames: int = 8
    seed: int | None = None


@dataclass(frozen=True)
class Capabilities:
    """Which media a backend understands."""

    video: bool = False
    audio: bool = False
    image: bool = False


@dataclass(frozen=True)
class MemoryEstimate:
    """Memory a backend needs, in bytes, per part (weights, activations, ...) on ``device``."""

    device: str
    parts_bytes: dict[str, int] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(self.parts_bytes.values())


@dataclass
class RunInfo:
    """What happened during the last ``answer`` call, for the UI, the CLI's ``--json`` and the store."""

    model_id: str = ""
    frame_timestamps_s: list[float] = field(default_factory=list)
    """Timestamps (seconds, in the file) of the frames the model saw, for each segment in order."""
    used_audio: bool = False
    plan: str = ""
    """Human-readable description of the sampling chosen, e.g. "15 s at 1 fps, 336 px"."""
    prepare_s: float = 0.0
    first_token_s: float = 0.0
    total_s: float = 0.0
    num_new_tokens: int = 0
    stopped: bool = False
    notice: str = ""
    """A warning about how the model runs, fit to show as it is (e.g. "Running on the CPU: answers will be slow")."""


# ----------------------------------------------------------------------------------------------------------------
# Errors a backend may raise, each with a message fit to show the user as it is.
# ----------------------------------------------------------------------------------------------------------------


class BackendError(Exception):
    """A model could not be loaded or could not answer. The message is meant for the user."""


class ModelLoadError(BackendError):
    """The model folder or checkpoint is missing, wrong or incomplete."""


class UnsupportedMediaError(BackendError):
    """The question carries a kind of media this model cannot take (e.g. audio for a video-only model)."""


class OutOfMemoryError(BackendError):
    """The request did not fit in memory, even after lowering the budget."""


# ----------------------------------------------------------------------------------------------------------------
# The protocol.
# ----------------------------------------------------------------------------------------------------------------


class CancelToken:
    """A thread-safe flag: ``cancel()`` from any thread, ``cancelled`` polled by the generating thread."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def reset(self) -> None:
        self._event.clear()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@runtime_checkable
class Backend(Protocol):
    """A multimodal model that answers questions about media, streaming."""

    model_id: str
    capabilities: Capabilities
    last_run: RunInfo

    def load(self, progress: ProgressCallback | None = None) -> None:
        """Load weights onto the device. Raises ModelLoadError with a plain-words message."""

    def answer(
        self,
        conversation: Conversation,
        media: Sequence[MediaRef] = (),
        options: GenerationOptions | None = None,
    ) -> Iterator[str]:
        """Stream the answer to the last (user) turn of ``conversation`` as text pieces.

        ``media`` are the attachments of that last turn (earlier turns carry theirs in ``Turn.media``).
        Raises UnsupportedMediaError, core_model.media.MediaError, OutOfMemoryError or BackendError.
        """

    def cancel(self) -> None:
        """Stop the running ``answer`` within one token; safe from any thread."""

    def unload(self) -> None:
        """Free the model's memory (GPU included)."""

    def memory_estimate(self) -> MemoryEstimate:
        """Memory needed to run this model on its device with its precision."""


def check_media_supported(capabilities: Capabilities, media: Sequence[MediaRef]) -> None:
    """Raise UnsupportedMediaError when ``media`` holds a kind ``capabilities`` lacks."""
    for item in media:
        if isinstance(item, SegmentRef) and not capabilities.video:
            raise UnsupportedMediaError("This model cannot look at video; choose a model that takes video.")
        if isinstance(item, ImageRef) and not capabilities.image:
            raise UnsupportedMediaError("This model cannot look at images; choose a model that takes images.")
        if isinstance(item, AudioRef) and not capabilities.audio:
            raise UnsupportedMediaError("This model cannot listen to audio; choose a model that takes audio.")
