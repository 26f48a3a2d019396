"""The one interface every Vidi model backend implements.

Nothing here imports Qt or torch: the CLI, the GUI's worker thread and the tests drive backends through these
plain types. A backend turns a conversation (turns of text with media references) into a stream of text pieces.

Flow for one question::

    backend = load_backend("path/or/id")          # registry in core_model.backends
    backend.load(progress=lambda fraction, message: ...)
    for piece in backend.answer(conversation, options):   # the last turn carries the question's media
        ...                                        # stream to the user
    info = backend.last_run                        # frames' timestamps, timings, stopped flag

``cancel()`` may be called from any thread while ``answer`` is iterating; the answer then stops in whatever phase
it is (decoding media, the processor, the encoders, generation) and the iterator ends (``last_run.stopped`` True).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator, Literal, Protocol, Sequence, Union, runtime_checkable

# Errors live with every other Vidi error in core_model.errors (one root, each with a kind); re-exported here
# because every backend raises them.
from core_model.errors import (  # noqa: F401
    BackendError,
    MediaError,
    ModelLoadError,
    ModelProcessError,
    OutOfMemoryError,
    UnsupportedMediaError,
    VidiError,
)

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
    prompt_tokens: int = 0
    """Tokens the model read before answering (text and media), 0 when unknown."""
    stopped: bool = False
    notice: str = ""
    """A warning about how the model runs, fit to show as it is (e.g. "Running on the CPU: answers will be slow")."""


@dataclass(frozen=True)
class BackendInfo:
    """What a backend is and how it runs, for the window's status bar, the CLI's ``--json`` and the chooser.

    ``device``: "cuda", "mps", "cpu" or "remote". ``load_in_4bit``: the weights really are NF4. ``dtype``: the
    compute precision ("bfloat16", "float32", ...). ``host``: the server a remote backend talks to ("" = this
    machine). ``memory_used_bytes``: GPU memory in use once loaded (-1 when unknown or not on a GPU).
    """

    model_id: str
    capabilities: Capabilities
    device: str
    load_in_4bit: bool = False
    dtype: str = ""
    notice: str = ""
    loaded: bool = False
    host: str = ""
    memory_used_bytes: int = -1
    memory_estimate: MemoryEstimate | None = None

    @property
    def precision(self) -> str:
        """How the weights are held, in words: "4-bit", "bfloat16", ... ("" when unknown)."""
        return "4-bit" if self.load_in_4bit else self.dtype


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
    """A multimodal model that answers questions about media, streaming.

    Every backend (the transformers families, the model process proxy, a remote server, the test fake) has all of
    these; callers never probe with ``getattr``. Media travel once, in the turns: the last turn's ``media`` are
    the question's attachments, earlier turns' ``media`` what those questions were about.
    """

    model_id: str
    capabilities: Capabilities
    last_run: RunInfo
    device: str
    """Where the model runs: "cuda", "mps", "cpu" or "remote" (never "auto")."""
    load_in_4bit: bool
    notice: str
    """A warning about how the model runs, fit to show as it is ("" when none)."""

    def describe(self) -> BackendInfo:
        """What this backend is and how it runs; cheap, loads no weights."""

    def load(self, progress: ProgressCallback | None = None) -> None:
        """Load weights onto the device. Raises ModelLoadError or OutOfMemoryError with a plain-words message."""

    def answer(self, conversation: Conversation, options: GenerationOptions | None = None) -> Iterator[str]:
        """Stream the answer to the last (user) turn of ``conversation`` as text pieces.

        Refuses an unsupported media combination before any work (UnsupportedMediaError naming the model).
        Raises only VidiError subclasses (core_model.errors); after any of them the backend answers again.
        """

    def cancel(self) -> None:
        """Stop the running ``answer`` as soon as possible, in whatever phase it is; safe from any thread."""

    def abort(self) -> None:
        """Vidi is closing: stop everything now, even a load; safe from any thread. The backend is unusable after."""

    def unload(self) -> None:
        """Free the model's memory (GPU included)."""

    def memory_estimate(self) -> MemoryEstimate:
        """Memory needed to run this model on its device with its precision."""


def check_media_supported(capabilities: Capabilities, media: Sequence[MediaRef], model_id: str = "") -> None:
    """Raise UnsupportedMediaError, naming the model, when ``media`` holds a kind ``capabilities`` lacks."""
    who = f"{model_id} " if model_id else "This model "
    for item in media:
        if isinstance(item, SegmentRef) and not capabilities.video:
            raise UnsupportedMediaError(f"{who}cannot look at video; choose a model that takes video.")
        if isinstance(item, ImageRef) and not capabilities.image:
            raise UnsupportedMediaError(f"{who}cannot look at images; choose a model that takes images.")
        if isinstance(item, AudioRef) and not capabilities.audio:
            raise UnsupportedMediaError(f"{who}cannot listen to audio; choose a model that takes audio.")
