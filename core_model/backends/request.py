"""What a local backend makes of a question before the model runs: the turns it sends, the media decoded, the request.

    turns = question_media_only(conversation)          # the question's media; earlier turns as text, within a budget
    pixels = read_image("photo.jpg")                  # uint8 [H, W, 3], at most 2048 px, no thinner than 1:20
    request: PreparedRequest                           # what ``generate`` gets, kept for tests and inspection

Shared by every family of core_model.backends.transformers_base (the decoding itself is core_model.media's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence, Union

import numpy as np

from core_model.backends.base import AudioRef, Conversation, ImageRef, MediaRef, SegmentRef, Turn
from core_model.backends.segment_frames import SegmentFrames
from core_model.budget import Plan, SegmentPlan
from core_model.errors import ModelLoadError
from core_model.timefmt import format_clock_s

SAMPLE_RATE = 16000
"""Every family that hears takes 16 kHz mono audio."""

MAX_IMAGE_SIDE_PX = 2048
"""Images are scaled down to this longer side when read: no processor here looks at more, and a 20-megapixel
photo would otherwise cost ~1 GB of float copies in the processor."""

HISTORY_CHARS = 1500
"""Earlier turns kept as text, newest first, up to about this many characters (~400 tokens): older exchanges are
left out whole, so the tenth question of a chat reads at most this much more than the first."""

MAX_IMAGE_ASPECT = 20.0
"""Thinner images are padded (black) to this ratio: processors refuse extreme ones (a 20000x1 strip)."""


# ----------------------------------------------------------------------------------------------------------------
# Decoded media and the prepared request
# ----------------------------------------------------------------------------------------------------------------


@dataclass
class DecodedSegment:
    """A segment as the model gets it: frames [T, H, W, 3] uint8 with timestamps, and its audio (or None)."""

    ref: SegmentRef
    clip: SegmentFrames
    audio: np.ndarray | None
    plan: SegmentPlan


@dataclass
class DecodedImage:
    ref: ImageRef
    pixels: np.ndarray  # uint8 [H, W, 3]


@dataclass
class DecodedAudio:
    ref: AudioRef
    wave: np.ndarray  # float32 [samples] at 16 kHz


Decoded = Union[DecodedSegment, DecodedImage, DecodedAudio]


@dataclass
class PreparedRequest:
    """Everything ``generate`` needs for one question, kept apart so tests and the CLI can inspect it.

    ``inputs``: the processor's tensors on the model's device. ``processor_kwargs``: the keyword arguments the
    processor was called with, media arrays left out. ``generate_kwargs``: what ``generate`` gets besides inputs.
    """

    inputs: dict[str, Any]
    generate_kwargs: dict[str, Any]
    processor_kwargs: dict[str, Any]
    plan: Plan
    segments: list[DecodedSegment] = field(default_factory=list)
    prompt: str = ""
    used_audio: bool = False
    """Whether any audio (a segment's or a recording) went to the model."""
    frame_timestamps_s: list[float] | None = None
    """The frames the model saw, when not ``segments``' own (a family that decodes itself sets it)."""
    stop_text: str = ""
    """Text that ends the answer where the model does not stop by itself (Video-LLaMA's "###"); "" when none."""

    @property
    def prompt_tokens(self) -> int:
        """Positions the model reads before answering: [1, L] input ids or [1, L, hidden] spliced embeddings."""
        for key in ("input_ids", "inputs_embeds"):
            value = self.inputs.get(key)
            if value is not None and hasattr(value, "shape"):
                return int(value.shape[1])
        return 0


# ----------------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------------


def question_media_only(
    conversation: Conversation, history_chars: int = HISTORY_CHARS
) -> list[tuple[Turn, list[MediaRef]]]:
    """Each turn with the media the model gets this time: only the question's (the last turn's), each once.

    Earlier turns go as text; an earlier question that was about media says so in a short note before its text
    ("[About the video 0:01-0:03]"), so the model can tell which answer was about what. Of the earlier turns, the
    newest whole exchanges that fit in ``history_chars`` are kept (always starting with a user turn).
    """
    *earlier, question = conversation
    history: list[Turn] = []
    for turn in earlier:
        note = describe_media(turn.media)
        history.append(Turn(turn.role, f"[{note}] {turn.text}" if note else turn.text))
    start, used = len(history), 0
    while start > 0 and used + len(history[start - 1].text) <= history_chars:
        start -= 1
        used += len(history[start].text)
    while start < len(history) and history[start].role != "user":
        start += 1  # a kept history opens with a question, as chat templates expect
    turns = [(turn, []) for turn in history[start:]]
    return turns + [(question, list(dict.fromkeys(question.media)))]


def collect_turn_media(conversation: Conversation) -> list[tuple[Turn, list[MediaRef]]]:
    """Each turn with its media, a reference that already appeared in an earlier turn dropped where it repeats (the
    model sees each distinct segment, image or recording once, where it first appeared)."""
    seen: set[MediaRef] = set()
    result: list[tuple[Turn, list[MediaRef]]] = []
    for turn in conversation:
        kept = [ref for ref in dict.fromkeys(turn.media) if ref not in seen]
        seen.update(kept)
        result.append((turn, kept))
    return result


def describe_media(media: Sequence[MediaRef]) -> str:
    """A short note of what a turn was about, e.g. "About the video 0:01-0:03 and an image"."""
    parts = []
    for ref in media:
        if isinstance(ref, SegmentRef):
            start = format_clock_s(ref.start_s or 0.0)
            end = format_clock_s(ref.end_s) if ref.end_s is not None else "end"
            parts.append(f"the video {start}-{end}")
        elif isinstance(ref, ImageRef):
            parts.append("an image")
        elif isinstance(ref, AudioRef):
            parts.append("a recording")
    return ("About " + " and ".join(parts)) if parts else ""


def read_image(path: str) -> np.ndarray:
    """An image as uint8 [H, W, 3], scaled to ``MAX_IMAGE_SIDE_PX`` at most and padded to ``MAX_IMAGE_ASPECT``."""
    from core_model import media as media_io
    from core_model.media.frames import scaled_size

    pixels = media_io.load_image(path)
    height, width = pixels.shape[:2]
    target = scaled_size(width, height, MAX_IMAGE_SIDE_PX)
    if target != (width, height):
        from PIL import Image

        pixels = np.asarray(Image.fromarray(pixels).resize(target, Image.Resampling.BICUBIC))
        height, width = pixels.shape[:2]
    if max(width, height) > MAX_IMAGE_ASPECT * min(width, height):
        side = int(np.ceil(max(width, height) / MAX_IMAGE_ASPECT))
        padded = np.zeros((max(height, side), max(width, side), 3), dtype=np.uint8)
        padded[:height, :width] = pixels
        pixels = padded
    return pixels


def check_all_weights_loaded(folder: Path, loading_info: dict) -> None:
    """Raise ModelLoadError when ``from_pretrained`` left weights uninitialised (a wrong or incomplete folder)."""
    missing = sorted(loading_info.get("missing_keys") or [])
    if missing:
        raise ModelLoadError(
            f"'{folder}' is missing {len(missing)} of the model's weights (e.g. '{missing[0]}'): the download may "
            "be incomplete, or the folder holds a different model."
        )
