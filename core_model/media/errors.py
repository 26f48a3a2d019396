"""The one exception type of the media pipeline."""


class MediaError(Exception):
    """A media file cannot be read, or a request on it makes no sense; the message says why in plain words.

    Examples of messages: "not a video file", "no video stream", "file is truncated",
    "segment 12.0-15.0 s is outside the video (length 10.0 s)", "start must be before end".
    """
