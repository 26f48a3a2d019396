"""Media pipeline (placeholder: being written)."""


class MediaError(Exception):
    """A media file cannot be read; the message says why in plain words."""
