"""Turn a question's media into OpenAI chat-completions content parts, and a conversation into messages.

    parts = frames_as_images(clip, max_side_px=640)    # [{"type": "text", ...}, {"type": "image_url", ...}, ...]
    parts = frames_as_video(clip, max_side_px=640)     # [{"type": "video_url", "video_url": {"url": "data:..."}}]
    part = audio_part(wave_16k)                        # {"type": "input_audio", "input_audio": {"data", "format"}}
    part = image_part(pixels)                          # {"type": "image_url", ...} (JPEG, or PNG for flat graphics)
    messages = build_messages(conversation, question_parts)

Only the question's media travel: earlier turns go as their text (an assistant turn as what it answered), so a
follow-up costs what a first question costs and nothing of an older segment is sent again. Frames are scaled down
to ``max_side_px`` before encoding: a 720p frame as JPEG is ~150 kB, at 640 px ~45 kB; servers resize to their own
processor's size anyway.
"""

from __future__ import annotations

import base64
import io
import wave
from fractions import Fraction
from typing import Sequence

import numpy as np
from PIL import Image

from core_model.backends.base import Turn
from core_model.backends.segment_frames import SegmentFrames
from core_model.timefmt import format_time_s

DEFAULT_MAX_SIDE_PX = 640
JPEG_QUALITY = 80
AUDIO_SAMPLE_RATE = 16000
CUT_MARK = " [answer cut off]"
"""Appended to an answer whose stream was cut; left out again when that answer is sent back as history."""


def _scaled(frame: np.ndarray, max_side_px: int) -> Image.Image:
    """uint8 [H, W, 3] -> a Pillow image whose longer side is at most ``max_side_px`` (even sides, for H.264).

    Fast on purpose (the client's overhead is part of every question): the pixels are wrapped, not copied, and the
    bulk of the shrink is an integer box reduction (720p -> 640 px: ~1 ms, against ~15 ms for a bicubic resize).
    """
    pixels = np.ascontiguousarray(frame)
    height, width = pixels.shape[:2]
    image = Image.frombuffer("RGB", (width, height), pixels, "raw", "RGB", 0, 1)
    scale = min(1.0, max_side_px / max(width, height))
    size = (max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2))
    if size == (width, height):
        return image
    factor = int(1 / scale)
    if factor >= 2:
        image = image.reduce(factor)
    return image if image.size == size else image.resize(size, Image.BILINEAR)


def _data_url(mime: str, payload: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(payload).decode('ascii')}"


def jpeg_bytes(frame: np.ndarray, max_side_px: int = DEFAULT_MAX_SIDE_PX, quality: int = JPEG_QUALITY) -> bytes:
    buffer = io.BytesIO()
    _scaled(frame, max_side_px).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _segment_text(clip: SegmentFrames) -> str:
    return (f"The video segment {format_time_s(clip.start_s)}-{format_time_s(clip.end_s)} "
            f"({clip.num_frames} frames)")


def frames_as_images(clip: SegmentFrames, max_side_px: int = DEFAULT_MAX_SIDE_PX) -> list[dict]:
    """The frames as JPEG ``image_url`` parts, each after a text part with its time in the file ("At 1:05.9:")."""
    parts: list[dict] = [{"type": "text", "text": _segment_text(clip) + ", one image per frame:"}]
    for frame, time_s in zip(clip.frames, clip.timestamps_s):
        parts.append({"type": "text", "text": f"At {format_time_s(time_s)}:"})
        url = _data_url("image/jpeg", jpeg_bytes(frame, max_side_px))
        parts.append({"type": "image_url", "image_url": {"url": url}})
    return parts


def mp4_bytes(clip: SegmentFrames, max_side_px: int = DEFAULT_MAX_SIDE_PX) -> bytes:
    """The sampled frames as a small H.264 MP4 (PyAV), each frame at its own time (pts) after the first sample.

    The server reads the frames back with their timing, so a model that reads time (Qwen2.5-VL's absolute time
    encoding) sees the real spacing of the samples.
    """
    import av

    images = [_scaled(frame, max_side_px) for frame in clip.frames]
    width, height = images[0].size
    buffer = io.BytesIO()
    time_base = Fraction(1, 1000)
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=max(1, round(_mean_rate(clip))))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = time_base
        # ultrafast + zerolatency: ~30 ms for 8 frames at 640 px (veryfast: ~170 ms, for ~10% fewer bytes)
        stream.options = {"crf": "23", "preset": "ultrafast", "tune": "zerolatency"}
        last_pts = -1
        for image, time_s in zip(images, clip.timestamps_s):
            frame = av.VideoFrame.from_image(image)
            pts = max(int(round((time_s - clip.timestamps_s[0]) * 1000)), last_pts + 1)  # strictly increasing
            frame.pts, frame.time_base, last_pts = pts, time_base, pts
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def _mean_rate(clip: SegmentFrames) -> float:
    return clip.num_frames / clip.duration_s if clip.duration_s > 0 else 1.0


def frames_as_video(clip: SegmentFrames, max_side_px: int = DEFAULT_MAX_SIDE_PX) -> list[dict]:
    """The frames as one ``video_url`` part (base64 ``data:video/mp4``), after a text part naming the segment."""
    times = ", ".join(format_time_s(t) for t in clip.timestamps_s)
    return [
        {"type": "text", "text": f"{_segment_text(clip)}, sampled at {times}:"},
        {"type": "video_url", "video_url": {"url": _data_url("video/mp4", mp4_bytes(clip, max_side_px))}},
    ]


def wav_bytes(wave_16k: np.ndarray, sample_rate: int = AUDIO_SAMPLE_RATE) -> bytes:
    """Mono float32 [-1, 1] samples -> a 16-bit PCM WAV file."""
    pcm = (np.clip(np.asarray(wave_16k, dtype=np.float32), -1.0, 1.0) * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(sample_rate)
        writer.writeframes(pcm.tobytes())
    return buffer.getvalue()


def audio_part(wave_16k: np.ndarray, sample_rate: int = AUDIO_SAMPLE_RATE) -> dict:
    """OpenAI's ``input_audio`` part: base64 WAV."""
    data = base64.b64encode(wav_bytes(wave_16k, sample_rate)).decode("ascii")
    return {"type": "input_audio", "input_audio": {"data": data, "format": "wav"}}


def image_part(pixels: np.ndarray, max_side_px: int = 1280) -> dict:
    """An ``image_url`` part: JPEG (a photo), scaled to ``max_side_px``."""
    return {"type": "image_url", "image_url": {"url": _data_url("image/jpeg", jpeg_bytes(pixels, max_side_px, 90))}}


def build_messages(conversation: Sequence[Turn], question_parts: list[dict]) -> list[dict]:
    """OpenAI messages: earlier turns as text only, the last (user) turn as ``question_parts`` + its text."""
    messages: list[dict] = []
    for turn in conversation[:-1]:
        text = turn.text.removesuffix(CUT_MARK) if turn.role == "assistant" else turn.text
        if text.strip():
            messages.append({"role": turn.role, "content": text})
    question = conversation[-1]
    messages.append({"role": "user", "content": [*question_parts, {"type": "text", "text": question.text}]})
    return messages


def request_size_bytes(messages: list[dict]) -> int:
    """Bytes of the messages as JSON: what crosses the network (the rest of the body is a few hundred bytes)."""
    import json

    return len(json.dumps(messages, separators=(",", ":")).encode("utf-8"))
