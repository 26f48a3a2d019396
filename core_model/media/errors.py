"""The one exception type of the media pipeline (defined with Vidi's other errors in core_model.errors)."""

from core_model.errors import MediaError  # noqa: F401
