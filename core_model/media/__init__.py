"""Media pipeline: reading videos, audio and images into arrays. Imports no Qt.

Public API (others code against these names):

- ``probe(path) -> MediaInfo``: duration, fps, frame count, displayed size, rotation, audio, codecs.
- ``sample_frames(path, start_s, end_s, num_frames) -> (frames uint8 [N, H, W, 3] RGB, timestamps_s)``.
- ``FrameStream(path, max_side_px=...)``: ``.frames(start_s, end_s, num_frames)`` as ``sample_frames`` gives them, for
  many segments of one video in time order, from one open file read forward (the index's keyframes).
- ``load_audio(path, start_s, end_s, sample_rate=16000) -> float32 [samples] or None`` (no audio track).
- ``load_image(path) -> uint8 [H, W, 3] RGB``.
- ``sample_segment(path, start_s, end_s, num_frames, with_audio) -> SegmentSample``: frames, timestamps, audio.
- ``MediaError``: the one exception for unreadable input and bad requests; its message is plain words.
- ``core_model.media.fbank``: ImageBind / Video-LLaMA audio features (``audio_clip_features``).

Times are seconds from the start of the file's timeline (what a player shows); ``None`` means start/end of file.
"""

from core_model.media.audio import load_audio, load_audio_native
from core_model.media.bundle import SegmentSample, sample_segment
from core_model.media.errors import MediaError
from core_model.media.frames import FrameStream, sample_frames
from core_model.media.image import MAX_IMAGE_PIXELS, load_image
from core_model.media.probe import MediaInfo, probe
from core_model.media.segment import sample_times_s

__all__ = [
    "FrameStream",
    "MAX_IMAGE_PIXELS",
    "MediaError",
    "MediaInfo",
    "SegmentSample",
    "load_audio",
    "load_audio_native",
    "load_image",
    "probe",
    "sample_frames",
    "sample_segment",
    "sample_times_s",
]
