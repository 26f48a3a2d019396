"""The one root of every error Vidi raises, and how an error crosses the model-process boundary.

Every error meant for the user is a ``VidiError`` whose message is fit to show as it is, in one line, and whose
``kind`` (a short stable word) says what went wrong without matching class names::

    try:
        ...
    except VidiError as exc:
        show(exc.kind, str(exc))

The model runs in a child process; an exception there travels as ``to_wire(exc)`` (a plain dict a pipe can carry)
and is raised again in the parent as ``from_wire(payload)``: the same class for Vidi's own errors, and for any
other exception (a library's ``ValueError``, ``MemoryError``, torch's out-of-memory) the Vidi error of its kind
with a one-line message. Nothing here imports torch or Qt.
"""

from __future__ import annotations

from typing import ClassVar

_CLASSES_BY_KIND: dict[str, type["VidiError"]] = {}


class VidiError(Exception):
    """An error whose message is meant for the user. Subclasses set ``kind``."""

    kind: ClassVar[str] = "internal"

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        # the first class that declares a kind owns it on the wire; subclasses that only narrow keep theirs
        _CLASSES_BY_KIND.setdefault(cls.kind, cls)

    def __str__(self) -> str:
        return super().__str__() or self.__class__.__doc__.split("\n")[0].strip()


class InternalError(VidiError):
    """Something unexpected went wrong inside Vidi."""

    kind = "internal"


class UsageError(VidiError):
    """A bad argument or input on the command line."""

    kind = "usage"


class BackendError(VidiError):
    """A model could not be loaded or could not answer."""

    kind = "backend"


class ModelLoadError(BackendError):
    """The model folder or checkpoint is missing, wrong or incomplete."""

    kind = "model_load"


class UnsupportedMediaError(BackendError):
    """The question carries a kind of media this model cannot take."""

    kind = "unsupported_media"


class OutOfMemoryError(BackendError):
    """The request did not fit in memory, even after lowering the budget."""

    kind = "out_of_memory"


class ModelProcessError(BackendError):
    """The model process ended unexpectedly (crashed, killed, out of memory)."""

    kind = "model_process"


class RemoteError(BackendError):
    """A remote inference server could not be reached or refused the request."""

    kind = "remote"


class MediaError(VidiError):
    """A media file cannot be read, or a request on it makes no sense.

    Examples of messages: "not a video file", "no video stream", "file is truncated",
    "segment 12.0-15.0 s is outside the video (length 10.0 s)", "start must be before end".
    """

    kind = "media"


class StoreError(VidiError):
    """The chat database cannot be opened, read or written."""

    kind = "store"


class ModelsError(VidiError):
    """A model cannot be downloaded, imported or removed."""

    kind = "models"


_OUT_OF_MEMORY_MESSAGE = (
    "The model ran out of memory. Try fewer frames, a shorter segment, 4-bit loading, or a smaller model."
)


def first_line(exc: BaseException, limit: int = 300) -> str:
    """An exception's message as one line: its first line, cut after the first sentence when long."""
    text = str(exc).strip()
    line = text.splitlines()[0].strip() if text else type(exc).__name__
    if len(line) > limit:
        end = line.find(". ")
        line = line[: end + 1] if 0 < end < limit else line[: limit - 1] + "…"
    return line


def is_out_of_memory(exc: BaseException) -> bool:
    """torch's CUDA/MPS out-of-memory errors and Python's MemoryError, without importing torch."""
    if isinstance(exc, (MemoryError, OutOfMemoryError)):
        return True
    name = type(exc).__name__
    return name in ("OutOfMemoryError", "OutOfMemory") or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()
    )


def as_vidi_error(exc: BaseException) -> VidiError:
    """``exc`` itself when it is a VidiError, else the VidiError of its kind with a one-line message."""
    if isinstance(exc, VidiError):
        return exc
    if is_out_of_memory(exc):
        wrapped: VidiError = OutOfMemoryError(_OUT_OF_MEMORY_MESSAGE)
    else:
        wrapped = InternalError(f"Unexpected error ({type(exc).__name__}): {first_line(exc)}")
    wrapped.__cause__ = exc
    return wrapped


def user_message(exc: BaseException) -> str:
    """The one line to show the user for ``exc``."""
    return first_line(as_vidi_error(exc), limit=1000)


def to_wire(exc: BaseException) -> dict[str, str]:
    """A plain dict for ``exc`` that a pipe can carry: ``{"kind", "message"}``."""
    error = as_vidi_error(exc)
    return {"kind": error.kind, "message": user_message(error)}


def from_wire(payload: dict[str, str]) -> VidiError:
    """The VidiError ``to_wire`` described (InternalError for a kind this side does not know)."""
    cls = _CLASSES_BY_KIND.get(str(payload.get("kind", "")), InternalError)
    return cls(str(payload.get("message", "")))


class Cancelled(VidiError):
    """The user stopped the work before it finished (not a failure: nothing to show but "stopped")."""

    kind = "cancelled"
