"""Qwen2.5-Omni (Thinker only, text out): a segment's frames and its own audio together, images, recordings.

    backend = QwenOmniBackend(Path("~/models/Qwen2.5-Omni-7B"), device="auto")
    for piece in backend.answer([Turn("user", "What does she say?", (SegmentRef("talk.mp4", 65, 80),))]):
        print(piece, end="")

Loading: only the Thinker (``Qwen2_5OmniThinkerForConditionalGeneration``) is built, from a full Qwen2.5-Omni folder
(``model_type: qwen2_5_omni``: its ``thinker_config``; transformers renames the weights under ``thinker.`` and
leaves the talker and token2wav weights on disk) or from a Thinker-only folder (``qwen2_5_omni_thinker``). No ``trust_remote_code``.

Audio in video. transformers declares it in two places, and a mismatch raises nothing (the 3-D positions change
silently; ``model.model.rope_deltas`` shows it), so one flag drives both:
  * processor: ``load_audio_from_video=True`` and ``audio_from_video_indices`` (which audio slot belongs to which
    video; ``None`` for a recording), the segment's audio given as decoded 16 kHz samples (no torchcodec), and
    ``videos_kwargs["fps"]`` = the real sampling rate, so that video and audio positions line up in time;
  * ``generate(..., use_audio_in_video=True)``.
The flag is per request: only the question's media are sent (earlier turns travel as text), and transformers lays
out all videos of a request the same way, so the flag is True only when every segment of the question brings its
audio; when some are silent (or the user left a segment's audio out) the segments that have audio get it as a
separate audio item right after the video, and the flag is False everywhere.

Long audio: the Whisper feature extractor cuts at 30 s unless told otherwise; ``audio_kwargs["max_length"]`` is
set to the longest clip, and the audio tower runs its 2-s windows over the whole of it.
"""

from __future__ import annotations

from typing import Any

from core_model.backends.base import GenerationOptions, Turn
from core_model.backends.generation import greedy_or_sampling
from core_model.backends.costs import qwen_omni_costs
from core_model.backends.transformers_base import (
    SAMPLE_RATE,
    Decoded,
    DecodedAudio,
    DecodedImage,
    DecodedSegment,
    PreparedRequest,
    TransformersBackend,
    check_all_weights_loaded,
)
from core_model.backends.quantization import skip_modules_for
from core_model.budget import ModelCosts, Plan
from core_model.timefmt import format_clock_s

WHISPER_WINDOW_SAMPLES = 30 * SAMPLE_RATE
"""The feature extractor's default length (30 s): shorter clips are padded to it."""


class QwenOmniBackend(TransformersBackend):
    """Qwen2.5-Omni's Thinker: video with its audio, images and recordings in, text out (module docstring)."""

    skip_modules = tuple(skip_modules_for("qwen2_5_omni"))
    """Kept in 16-bit under 4-bit loading: the vision and audio encoders ("model.visual", "model.audio_tower";
    quantizing them hurts and saves little: ~1.3 B of 8.9 B parameters) and the output head ("lm_head")."""

    def _thinker_config(self) -> dict:
        if self.config.get("model_type") == "qwen2_5_omni":
            return self.config.get("thinker_config") or {}
        return self.config

    def _costs(self) -> ModelCosts:
        return qwen_omni_costs(self._thinker_config())

    def _load_model(self, kwargs: dict[str, Any]):
        from transformers import AutoConfig, Qwen2_5OmniThinkerForConditionalGeneration

        config = AutoConfig.from_pretrained(self.folder)
        if config.model_type == "qwen2_5_omni":  # a full Omni folder: the Thinker's config
            kwargs["config"] = config.thinker_config
        # transformers renames the checkpoint's "thinker.*" weights itself and skips the talker's
        model, info = Qwen2_5OmniThinkerForConditionalGeneration.from_pretrained(
            self.folder, output_loading_info=True, **kwargs
        )
        check_all_weights_loaded(self.folder, info)
        return model

    def _build_inputs(
        self, turns: list[tuple[Turn, list[Decoded]]], plan: Plan, options: GenerationOptions
    ) -> PreparedRequest:
        segments = [item for _turn, items in turns for item in items if isinstance(item, DecodedSegment)]
        use_audio_in_video = bool(segments) and all(segment.audio is not None for segment in segments)

        messages: list[dict] = []
        videos, images, audios = [], [], []
        audio_video_index: list[int | None] = []  # per audio slot: the video it belongs to, or None
        for turn, items in turns:
            content: list[dict] = []
            for item in items:
                if isinstance(item, DecodedSegment):
                    start_s, end_s = item.clip.start_s, item.clip.end_s
                    label = f"Video from {format_clock_s(start_s)} to {format_clock_s(end_s)}:"
                    content.append({"type": "text", "text": label})
                    content.append({"type": "video"})
                    videos.append(item.clip.frames)
                    if item.audio is not None:
                        if not use_audio_in_video:
                            content.append({"type": "audio"})
                        audios.append(item.audio)
                        audio_video_index.append(len(videos) - 1 if use_audio_in_video else None)
                elif isinstance(item, DecodedImage):
                    content.append({"type": "image"})
                    images.append(item.pixels)
                elif isinstance(item, DecodedAudio):
                    content.append({"type": "audio"})
                    audios.append(item.wave)
                    audio_video_index.append(None)
            content.append({"type": "text", "text": turn.text})
            messages.append({"role": turn.role, "content": content})

        prompt = self._processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        factor = 28
        kwargs: dict[str, Any] = {}
        if videos:
            rates = [segment.plan.fps for segment in segments if segment.plan.fps > 0]
            kwargs["videos_kwargs"] = {
                "size": {"shortest_edge": 4 * factor * factor, "longest_edge": plan.level * plan.level},
                "do_sample_frames": False,
                "cap_pixels_per_frame": False,  # the planner already chose the pixels per frame
                # one rate for all videos (transformers takes one): exact for one segment, the mean otherwise
                "fps": sum(rates) / len(rates) if rates else 2.0,
            }
        if images:
            kwargs["images_kwargs"] = {
                "size": {"shortest_edge": 4 * factor * factor, "longest_edge": plan.image_level * plan.image_level}
            }
        if audios:
            kwargs["audio_kwargs"] = {"max_length": max(WHISPER_WINDOW_SAMPLES, *(len(a) for a in audios))}
        if use_audio_in_video:
            kwargs["load_audio_from_video"] = True
            kwargs["audio_from_video_indices"] = audio_video_index
        inputs = self._run_processor(
            text=[prompt], videos=videos or None, images=images or None, audio=audios or None,
            return_tensors="pt", **kwargs,
        )
        generate_kwargs = greedy_or_sampling(options)
        generate_kwargs["use_audio_in_video"] = use_audio_in_video
        return PreparedRequest(
            inputs=inputs, generate_kwargs=generate_kwargs, processor_kwargs=kwargs, plan=plan, segments=segments,
            prompt=prompt, used_audio=bool(audios),
        )
