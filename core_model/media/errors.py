"""The media pipeline's errors (defined with Vidi's other errors in core_model.errors)."""

from core_model.errors import Cancelled, MediaError  # noqa: F401


class DecodeStopped(Cancelled):
    """Decoding stopped because the caller's ``should_stop`` said so (the user pressed Stop)."""
