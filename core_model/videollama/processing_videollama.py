"""Video-LLaMA preprocessing, out of the model (videollama-spec.md §1.6.1, §3 and errata 1-6).

    processor = VideoLlamaProcessor.from_pretrained(folder)
    pixel_values, times_s = processor.video(path, start=65.0, end=80.0)   # [T, 3, S, S], T <= 8
    image = processor.image(path)                                          # [1, 3, S, S]
    audio = processor.audio(path, start=65.0, end=80.0)                    # [8, 1, 128, 204]
    prompt = processor.prompt("What happens?", media="video_audio")

Video, as the original: the frames of the segment are numbered 0..n-1 and frames ``floor(i * n / 8)`` are taken
(``np.arange(0, n, n / 8)``), decoded by decord resized to S x S in the decoder (no crop, aspect not kept; errata 5:
bit-identical to FFmpeg's bilinear scaler), then /255 and CLIP mean/std. A segment's frames are those whose start
time ``index / fps`` lies in [start, end); the whole file (start = end = None) is exactly the original's case.
When decord cannot open a file (AV1, ...), core_model.media.sample_frames (PyAV, its own time grid) gives the frames,
resized bilinearly here: close to, not bit-identical with, the original.

Images: RGB (EXIF orientation applied by core_model.media.load_image), PIL bicubic resize to S x S, CLIP mean/std.
Audio: the segment's samples at the file's own rate, every channel (core_model.media.load_audio_native), then
core_model.media.fbank.audio_clip_features: 8 clips of 2 s, Kaldi fbank 128 x 204, (x + 4.268) / 9.138.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from core_model.videollama.prompts import Conversation, MediaKind

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


class NoAudioError(Exception):
    """The file has no audio track (the original demo then falls back to video only)."""


def normalize_frames(frames_uint8: np.ndarray) -> torch.Tensor:
    """uint8 [T, H, W, 3] RGB -> float32 [T, 3, H, W], /255 then CLIP mean/std."""
    pixels = torch.from_numpy(np.array(frames_uint8, dtype=np.uint8)).permute(0, 3, 1, 2).float() / 255.0
    mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    return (pixels - mean) / std  # [T, 3, H, W]


def uniform_indices(num_frames_in_segment: int, num_samples: int) -> list[int]:
    """The original's "uniform" rule: floor of np.arange(0, n, n / k), k = min(num_samples, n)."""
    count = min(num_samples, num_frames_in_segment)
    return np.arange(0, num_frames_in_segment, num_frames_in_segment / count).astype(int).tolist()


class VideoLlamaProcessor:
    """Turns files into the model's inputs and builds the chat text. ``image_size``: S (224 for the real model)."""

    def __init__(self, image_size: int = 224, num_frames: int = 8, num_audio_clips: int = 8,
                 template: str = "llama_2"):
        self.image_size = image_size
        self.num_frames = num_frames
        self.num_audio_clips = num_audio_clips
        self.template = template

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike) -> "VideoLlamaProcessor":
        from core_model.videollama.configuration_videollama import VideoLlamaConfig

        config = VideoLlamaConfig.from_json_file(Path(path))
        return cls(image_size=config.vision_config.image_size, num_frames=config.num_frames,
                   num_audio_clips=config.num_audio_clips, template=config.conv_template)

    # ------------------------------------------------------------------------------------------------ video

    def video(self, path, start: float | None = None, end: float | None = None,
              n_frames: int | None = None) -> tuple[torch.Tensor, list[float]]:
        """Segment frames -> (pixel_values float32 [T, 3, S, S], timestamps_s: each frame's time in the file).

        T = min(n_frames, frames in the segment). MediaError for unreadable files and bad segments.
        """
        from core_model.media import probe
        from core_model.media.segment import resolve_segment

        n_frames = self.num_frames if n_frames is None else int(n_frames)
        info = probe(path)
        start_s, end_s = resolve_segment(start, end, info.duration_s)
        whole_file = start is None and end is None
        try:
            frames, times_s = self._decord_frames(path, start_s, end_s, n_frames, whole_file)
        except _DecordCannotOpen:
            frames, times_s = self._fallback_frames(path, start_s, end_s, n_frames)
        return normalize_frames(frames), times_s

    def _decord_frames(self, path, start_s, end_s, n_frames, whole_file):
        try:
            import decord

            reader = decord.VideoReader(os.fspath(path), width=self.image_size, height=self.image_size,
                                        num_threads=1)
        except Exception as exc:  # decord raises its own DECORDError for files it cannot open
            raise _DecordCannotOpen(str(exc)) from None
        num_file_frames = len(reader)
        fps = float(reader.get_avg_fps())
        if whole_file or fps <= 0:
            first, count = 0, num_file_frames
        else:
            first = min(max(math.ceil(start_s * fps - 1e-6), 0), num_file_frames - 1)
            last = min(max(math.ceil(end_s * fps - 1e-6), first + 1), num_file_frames)
            count = last - first
        indices = [first + i for i in uniform_indices(count, n_frames)]
        frames = reader.get_batch(indices).asnumpy()  # [T, S, S, 3] uint8
        return frames, [index / fps for index in indices]

    def _fallback_frames(self, path, start_s, end_s, n_frames):
        from core_model.media import sample_frames

        frames, times_s = sample_frames(path, start_s, end_s, n_frames)  # full size [T, H, W, 3]
        tensor = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
        tensor = torch.nn.functional.interpolate(tensor, size=(self.image_size, self.image_size), mode="bilinear",
                                                 align_corners=False)
        resized = tensor.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
        return resized, list(times_s)

    # ------------------------------------------------------------------------------------------------ image

    def image(self, path) -> torch.Tensor:
        """An image file -> float32 [1, 3, S, S] (PIL bicubic to S x S, CLIP mean/std)."""
        from PIL import Image

        from core_model.media import load_image

        rgb = Image.fromarray(load_image(path))
        resized = rgb.resize((self.image_size, self.image_size), Image.BICUBIC)
        return normalize_frames(np.asarray(resized)[None])  # [1, 3, S, S]

    # ------------------------------------------------------------------------------------------------ audio

    def audio(self, path, start: float | None = None, end: float | None = None) -> torch.Tensor:
        """The segment's audio -> float32 [clips, 1, 128, 204]. NoAudioError when the file has no audio track."""
        from core_model.media import load_audio_native
        from core_model.media.fbank import audio_clip_features

        decoded = load_audio_native(path, start, end)
        if decoded is None:
            raise NoAudioError(f"'{Path(path).name}' has no audio track")
        waveform, sample_rate = decoded  # float32 [channels, samples] at the file's rate
        return audio_clip_features(waveform, num_clips=self.num_audio_clips, sample_rate=sample_rate)

    # ------------------------------------------------------------------------------------------------ prompt

    def prompt(self, question: str, *, media: MediaKind | None = "video", frame_times_s: Sequence[float] = (),
               history: Sequence[tuple[str, str]] = (), template: str | None = None) -> str:
        """The chat text for ``question`` about ``media`` (one item), after earlier (question, answer) turns.

        ``frame_times_s``: the frames' times from the start of the clip, for the "The video contains ..." sentence.
        """
        conv = Conversation.for_media(media, template or self.template)
        if media is not None:
            conv.add_media(media, frame_times_s)
        for earlier_question, earlier_answer in history:
            conv.ask(earlier_question)
            conv.add_answer(earlier_answer)
        conv.ask(question)
        return conv.prompt()


class _DecordCannotOpen(Exception):
    pass
