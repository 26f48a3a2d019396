"""Backend for transformers' native image-text-to-text models: SmolVLM2, LLaVA-OneVision, Qwen2-VL / Qwen2.5-VL, ...

    backend = ImageTextToTextBackend(Path("~/models/Qwen2.5-VL-7B-Instruct"), device="auto")
    backend.load()
    for piece in backend.answer([Turn("user", "What happens here?", (SegmentRef("a.mp4", 65, 80),))]):
        print(piece, end="")

One question, step by step (the shared steps are core_model.backends.transformers_base's):
 1. The budget planner picks the frame count and the size frames are decoded at (at most ``options.num_frames``;
    fewer when memory, the host's RAM or the model's context is short); the tokens a frame becomes are counted by
    running this model's own processor on a blank frame of that size, so the plan is exact for every family.
 2. The conversation becomes the processor's chat messages: each turn's media first ({"type": "video"} or
    {"type": "image"}), then its text; the processor's chat template turns them into the prompt text.
 3. ``processor(text=[prompt], videos=[frames...], images=[...], videos_kwargs=...)`` expands the placeholders and
    makes pixel tensors. A segment goes in as a video with a ``VideoMetadata`` (the file's fps, frame indices and
    the segment's length), so SmolVLM2 writes per-frame timestamps into the prompt and Qwen2.5-VL spaces its
    temporal positions by the real sampling rate; ``do_sample_frames=False`` keeps the frames we chose.
    A processor with no video processor gets the frames as images, each after a "Frame at M:SS:" line; so does
    SmolVLM2 when the question also has images (its processor cannot mix a video and images in one prompt).
 4. ``generate`` streams greedily (or samples when ``temperature > 0``) through core_model.backends.generation.

Multi-turn: earlier turns go as their text; only the question's media are sent (the GUI attaches the segment to
every question about it). The segment's audio is not used: these models do not listen (``last_run.used_audio`` is
False).

Precision: the one device policy (core_model.backends.policy). One ``answer`` at a time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core_model.backends.base import Capabilities, GenerationOptions, MediaRef, SegmentRef, Turn
from core_model.backends.costs import measured_costs
from core_model.backends.generation import greedy_or_sampling
from core_model.backends.segment_frames import SegmentFrames
from core_model.backends.transformers_base import (
    Decoded,
    DecodedImage,
    DecodedSegment,
    PreparedRequest,
    TransformersBackend,
    check_all_weights_loaded,
)
from core_model.budget import ModelCosts, Plan
from core_model.errors import ModelLoadError
from core_model.timefmt import format_clock_s

FRAMES_AS_IMAGES_WITH_IMAGES = frozenset({"smolvlm", "idefics3"})
"""Families whose processor cannot take a video and images in one prompt ("Image features and image tokens do not
match"): their segments go in as frames-as-images whenever the question also has an image."""


class ImageTextToTextBackend(TransformersBackend):
    """A transformers ``AutoModelForImageTextToText`` model with its ``AutoProcessor`` (see the module docstring).

    ``folder``: a local model folder (config.json, weights, processor files). ``device``: "auto", "cuda", "mps"
    or "cpu". ``load_in_4bit``: None = the device policy's default.
    """

    @property
    def skip_modules(self) -> tuple[str, ...]:  # type: ignore[override]
        from core_model.backends.quantization import skip_modules_for

        return tuple(skip_modules_for(str(self.config.get("model_type", ""))))

    token_counts: dict[tuple[str, int, int], int]
    """Prompt tokens per frame/image by (kind, width, height), measured once per size (``_count_tokens``)."""

    def __init__(self, *args, **kwargs) -> None:
        self.token_counts = {}
        super().__init__(*args, **kwargs)

    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type", ""))

    def _capabilities(self) -> Capabilities:
        return Capabilities(video=True, audio=False, image=True)

    # -- loading --------------------------------------------------------------------------------------------

    def _load_processor(self):
        from transformers import AutoProcessor

        _check_folder_is_loadable(self.folder, self.config)
        processor = AutoProcessor.from_pretrained(self.folder)
        if not hasattr(processor, "tokenizer") or getattr(processor, "chat_template", None) is None:
            raise ModelLoadError(
                f"'{self.folder}' has no multimodal processor with a chat template: "
                "it is not a chat model Vidi can run."
            )
        return processor

    def _load_model(self, kwargs: dict[str, Any]):
        from transformers import AutoModelForImageTextToText

        if self.load_in_4bit:  # this family's own towers stay 16-bit (the policy's generic list is the LM head)
            kwargs["quantization_config"].llm_int8_skip_modules = list(self.skip_modules)
        model, info = AutoModelForImageTextToText.from_pretrained(self.folder, output_loading_info=True, **kwargs)
        check_all_weights_loaded(self.folder, info)
        return model

    # -- costs: counted by this model's own processor --------------------------------------------------------

    def _costs(self) -> ModelCosts:
        self.load()
        return measured_costs(self.config, self._count_video_tokens, self._count_image_tokens,
                              dtype_bytes=self.policy.dtype_bytes)

    @property
    def _takes_video(self) -> bool:
        return getattr(self._processor, "video_processor", None) is not None

    def _count_video_tokens(self, width: int, height: int) -> int:
        """Prompt tokens one frame of width x height becomes (2 vs 4 blank frames: the difference over 2)."""
        return _count_tokens(self, "video", width, height)

    def _count_image_tokens(self, width: int, height: int) -> int:
        return _count_tokens(self, "image", width, height)

    def _prompt_tokens(self, kind: str, width: int, height: int, count: int) -> int:
        blank = np.zeros((height, width, 3), dtype=np.uint8)
        content: list[dict] = []
        kwargs: dict[str, Any] = {}
        if kind == "video" and count and self._takes_video:
            frames = np.stack([blank] * count)
            content.append({"type": "video"})
            clip = SegmentFrames(frames, [float(i) for i in range(count)], 0.0, float(count), 1.0)
            kwargs = {"videos": [frames], "videos_kwargs": {"video_metadata": [video_metadata(clip)],
                                                             "do_sample_frames": False}}
        elif count:
            for index in range(count):
                if kind == "video":
                    content.append({"type": "text", "text": f"Frame at {format_clock_s(float(index))}:"})
                content.append({"type": "image"})
            kwargs = {"images": [blank] * count}
        content.append({"type": "text", "text": "?"})
        prompt = self._processor.apply_chat_template([{"role": "user", "content": content}],
                                                     add_generation_prompt=True, tokenize=False)
        inputs = self._processor(text=[prompt], return_tensors="pt", **kwargs)
        return int(inputs["input_ids"].shape[-1])

    # -- the request ---------------------------------------------------------------------------------------

    def _build_inputs(
        self, turns: list[tuple[Turn, list[Decoded]]], plan: Plan, options: GenerationOptions
    ) -> PreparedRequest:
        has_image = any(isinstance(item, DecodedImage) for _turn, items in turns for item in items)
        frames_as_images = not self._takes_video or (has_image and self.model_type in FRAMES_AS_IMAGES_WITH_IMAGES)
        messages: list[dict] = []
        images: list[np.ndarray] = []
        segments: list[DecodedSegment] = []
        for turn, items in turns:
            content: list[dict] = []
            for item in items:
                if isinstance(item, DecodedSegment):
                    segments.append(item)
                    if frames_as_images:
                        for frame, t in zip(item.clip.frames, item.clip.timestamps_s):
                            content += [{"type": "text", "text": f"Frame at {format_clock_s(t)}:"}, {"type": "image"}]
                            images.append(frame)
                    else:
                        content.append({"type": "video"})
                elif isinstance(item, DecodedImage):
                    content.append({"type": "image"})
                    images.append(item.pixels)
            content.append({"type": "text", "text": turn.text})
            messages.append({"role": turn.role, "content": content})

        prompt = self._processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        kwargs: dict[str, Any] = {"text": [prompt], "return_tensors": "pt"}
        if images:
            kwargs["images"] = images
        if segments and not frames_as_images:
            kwargs["videos"] = [segment.clip.frames for segment in segments]
            kwargs["videos_kwargs"] = {
                "video_metadata": [video_metadata(segment.clip) for segment in segments],
                "do_sample_frames": False,
            }
        inputs = self._run_processor(**kwargs)
        return PreparedRequest(
            inputs=inputs, generate_kwargs=greedy_or_sampling(options),
            processor_kwargs={"frames_as_images": frames_as_images}, plan=plan, segments=segments, prompt=prompt,
        )

    def _check_media(self, media: tuple[MediaRef, ...] | list[MediaRef]) -> None:
        """Segments and images mix for every family here (SmolVLM2 by frames-as-images): nothing to refuse."""


# ----------------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------------


def _count_tokens(backend: ImageTextToTextBackend, kind: str, width: int, height: int) -> int:
    """Tokens per frame (kind "video") or per image, measured with the backend's processor, cached per size."""
    cache = backend.token_counts
    key = (kind, width, height)
    if key not in cache:
        if kind == "video":
            two, four = (backend._prompt_tokens(kind, width, height, n) for n in (2, 4))
            cache[key] = max(1, int(np.ceil((four - two) / 2)))
        else:
            cache[key] = max(1, backend._prompt_tokens(kind, width, height, 1) - backend._prompt_tokens(kind, width,
                                                                                                          height, 0))
    return cache[key]


def video_metadata(clip: SegmentFrames):
    """A transformers ``VideoMetadata`` describing ``clip`` so that processors see the real timing.

    ``fps`` is the file's rate (or the sampling rate if unknown) and ``frames_indices`` are the frames' indices in
    the file, so ``metadata.timestamps`` are the frames' times in the file. ``total_num_frames`` counts the frames
    in the segment, so ``metadata.sampled_fps`` is the rate the frames were sampled at within the segment.
    ``duration`` is the segment's length (SmolVLM2 states it in the prompt).
    """
    from transformers.video_utils import VideoMetadata

    duration_s = clip.duration_s or (clip.timestamps_s[-1] - clip.timestamps_s[0] if clip.timestamps_s else 0.0)
    fps = clip.source_fps or (clip.num_frames / duration_s if duration_s > 0 else 1.0)
    return VideoMetadata(
        total_num_frames=max(int(round(duration_s * fps)), clip.num_frames),
        fps=fps,
        width=int(clip.frames.shape[2]),
        height=int(clip.frames.shape[1]),
        duration=duration_s,
        frames_indices=[int(round(t * fps)) for t in clip.timestamps_s],
    )


def _check_folder_is_loadable(folder: Path, config: dict) -> None:
    """Plain-words ModelLoadError for the common wrong folders, before transformers says it less clearly."""
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    model_type = str(config.get("model_type", ""))
    if model_type not in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES:
        raise ModelLoadError(
            f"'{folder}' holds a '{model_type or 'unknown'}' model, which is not an image-text-to-text "
            "(vision-language) model this backend can run."
        )
    if not any(folder.glob("*.safetensors")) and not any(folder.glob("*.bin")):
        raise ModelLoadError(f"'{folder}' has no weights (*.safetensors): the download may be incomplete.")
