"""Backend for transformers' native image-text-to-text models: SmolVLM2, LLaVA-OneVision, Qwen2-VL / Qwen2.5-VL, ...

    backend = ImageTextToTextBackend(Path("~/models/Qwen2.5-VL-7B-Instruct"), device="auto")
    backend.load()
    for piece in backend.answer([Turn("user", "What happens here?")], [SegmentRef("a.mp4", 65, 80)]):
        print(piece, end="")

One question, step by step:
 1. Media are decoded: each segment into ``options.num_frames`` frames uint8 [T, H, W, 3] with their timestamps
    (core_model.media, frame-accurate), each image into uint8 [H, W, 3].
 2. The conversation becomes the processor's chat messages: each turn's media first ({"type": "video"} or
    {"type": "image"}), then its text; the processor's chat template turns them into the prompt text.
 3. ``processor(text=[prompt], videos=[frames...], images=[...], videos_kwargs=...)`` expands the placeholders and
    makes pixel tensors. A segment goes in as a video with a ``VideoMetadata`` (the file's fps, frame indices and
    the segment's length), so SmolVLM2 writes per-frame timestamps into the prompt and Qwen2.5-VL spaces its
    temporal positions by the real sampling rate; ``do_sample_frames=False`` keeps the frames we chose.
    A processor with no video processor gets the frames as images, each after a "Frame at M:SS:" line.
 4. ``generate`` streams greedily (or samples when ``temperature > 0``) through core_model.backends.generation.

Multi-turn: earlier turns keep their media. A media reference that already appeared in an earlier turn is not
repeated (the GUI attaches the same segment to every question about it): the model sees each distinct segment
or image once, where it first appeared, and later questions refer back to it. The segment's audio is not used:
these models do not listen (``last_run.used_audio`` is False).

Precision: on CUDA 4-bit NF4 by default (core_model.backends.quantization) for the language model, with the
vision tower, its projection and the output head kept in bf16 (or fp16 on pre-Ampere GPUs); on the CPU float32
unless ``load_in_4bit=True``; on MPS float16. One ``answer`` at a time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator, Sequence

from core_model.backends.base import (
    BackendError,
    CancelToken,
    Capabilities,
    Conversation,
    GenerationOptions,
    ImageRef,
    MediaRef,
    MemoryEstimate,
    ModelLoadError,
    OutOfMemoryError,
    ProgressCallback,
    RunInfo,
    SegmentRef,
)
from core_model.backends.common import check_question, read_config, to_device
from core_model.backends.segment_frames import SegmentFrames, sample_segment
from core_model.device import (
    CPU_NOTICE,
    DeviceKind,
    compute_dtype,
    ensure_device_present,
    free_device_memory,
    requested_device,
)
from core_model.timefmt import format_clock_s

OUT_OF_MEMORY_MESSAGE = (
    "The model ran out of {device} memory while {doing}. Try fewer frames, a shorter segment or answer, "
    "4-bit loading, or a smaller model."
)


class ImageTextToTextBackend:
    """A transformers ``AutoModelForImageTextToText`` model with its ``AutoProcessor`` (see the module docstring).

    ``folder``: a local model folder (config.json, weights, processor files). ``device``: "auto", "cuda", "mps"
    or "cpu". ``load_in_4bit``: None = 4-bit NF4 on CUDA only; True/False force it.
    """

    def __init__(self, folder: Path | str, device: str = "auto", load_in_4bit: bool | None = None) -> None:
        from core_model.backends.quantization import use_4bit

        self.folder = Path(folder)
        self.device: DeviceKind = requested_device(device)
        self.load_in_4bit = use_4bit(self.device, load_in_4bit)
        self.model_id = self.folder.name
        self.capabilities = Capabilities(video=True, audio=False, image=True)
        self.notice = CPU_NOTICE if self.device == "cpu" else ""  # shown by the GUI; also in last_run.notice
        self.last_run = RunInfo(model_id=self.model_id, notice=self.notice)
        self._config = read_config(self.folder)
        self._cancel = CancelToken()
        self._model = None
        self._processor = None
        self._dtype = None

    # ------------------------------------------------------------------------------------------------------------
    # Loading
    # ------------------------------------------------------------------------------------------------------------

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    def load(self, progress: ProgressCallback | None = None) -> None:
        """Load processor and weights onto the device. Raises ModelLoadError or OutOfMemoryError."""
        if self.is_loaded:
            return
        ensure_device_present(self.device)
        report = progress or (lambda fraction, message: None)
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        report(0.0, "Reading the processor")
        _check_folder_is_loadable(self.folder, self._config)
        try:
            processor = AutoProcessor.from_pretrained(self.folder)
        except (OSError, ValueError, KeyError, TypeError, ImportError) as exc:
            raise ModelLoadError(
                f"Cannot read the processor (tokenizer, image/video settings) in '{self.folder}': "
                f"{_first_sentence(exc)}"
            ) from exc
        if not hasattr(processor, "tokenizer") or getattr(processor, "chat_template", None) is None:
            raise ModelLoadError(
                f"'{self.folder}' has no multimodal processor with a chat template: "
                "it is not a chat model Vidi can run."
            )

        report(0.1, "Loading the weights" + (" in 4-bit" if self.load_in_4bit else ""))
        dtype = torch.bfloat16 if self.load_in_4bit else compute_dtype(self.device)
        kwargs: dict[str, Any] = {"dtype": dtype}
        if self.load_in_4bit:
            from core_model.backends.quantization import nf4_config, skip_modules_for

            kwargs["quantization_config"] = nf4_config(skip_modules_for(self._config.get("model_type", "")))
            kwargs["device_map"] = {"": 0 if self.device == "cuda" else self.device}
        elif self.device != "cpu":
            kwargs["device_map"] = {"": self.device}
        try:
            model = AutoModelForImageTextToText.from_pretrained(self.folder, **kwargs)
        except torch.OutOfMemoryError as exc:
            free_device_memory(self.device)
            raise OutOfMemoryError(
                OUT_OF_MEMORY_MESSAGE.format(device=self.device.upper(), doing="loading")
            ) from exc
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, ImportError) as exc:
            model_type = self._config.get("model_type", "?")
            raise ModelLoadError(
                f"Cannot load '{self.folder}' (model type '{model_type}') as an image-text-to-text model: "
                f"{_first_sentence(exc)}"
            ) from exc
        model.eval()
        self._processor, self._model, self._dtype = processor, model, dtype
        report(1.0, "Ready")

    def unload(self) -> None:
        """Drop the model and processor and give their memory back."""
        self._model = None
        self._processor = None
        free_device_memory(self.device)

    def memory_estimate(self) -> MemoryEstimate:
        """Weights (from the safetensors headers), KV cache for a typical question, and working memory."""
        from core_model.backends.memory import estimate_memory

        from core_model.backends.quantization import skip_modules_for

        dtype_bytes = 4 if (self.device == "cpu" and not self.load_in_4bit) else 2
        return estimate_memory(
            self.folder, device=self.device, load_in_4bit=self.load_in_4bit, dtype_bytes=dtype_bytes,
            unquantized_modules=skip_modules_for(self._config.get("model_type", "")),
        )

    # ------------------------------------------------------------------------------------------------------------
    # Answering
    # ------------------------------------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the running ``answer`` after at most one more token; safe from any thread."""
        self._cancel.cancel()

    def answer(self, conversation: Conversation, options: GenerationOptions | None = None) -> Iterator[str]:
        """Stream the answer to the last user turn (see the Backend protocol). Loads the model if needed."""
        media = conversation[-1].media if conversation else ()
        import torch

        from core_model.backends.generation import GenerationStats, finish_run, greedy_or_sampling, stream_generate

        options = options or GenerationOptions()
        check_question(self.capabilities, conversation, media)
        self._cancel.reset()
        run = RunInfo(model_id=self.model_id, notice=self.notice)
        self.last_run = run
        started_at = time.perf_counter()
        self.load()

        try:
            inputs, clips = self._prepare(conversation, media, options)
        except torch.OutOfMemoryError as exc:
            free_device_memory(self.device)
            raise OutOfMemoryError(
                OUT_OF_MEMORY_MESSAGE.format(device=self.device.upper(), doing="preparing the frames")
            ) from exc
        run.frame_timestamps_s = [t for clip in clips for t in clip.timestamps_s]
        run.plan = "; ".join(clip.describe() for clip in clips)
        run.prepare_s = time.perf_counter() - started_at

        if options.seed is not None:
            torch.manual_seed(options.seed)
        stats = GenerationStats()
        try:
            yield from stream_generate(
                self._model, inputs, self._processor.tokenizer, self._cancel, stats, **greedy_or_sampling(options)
            )
        except torch.OutOfMemoryError as exc:
            free_device_memory(self.device)
            raise OutOfMemoryError(
                OUT_OF_MEMORY_MESSAGE.format(device=self.device.upper(), doing="answering")
            ) from exc
        finally:
            finish_run(run, stats, started_at)

    def _prepare(self, conversation: Conversation, media: Sequence[MediaRef], options: GenerationOptions):
        """Decode media, build the prompt, run the processor. Returns (inputs on the device, segment clips)."""
        from core_model import media as media_io

        use_video = getattr(self._processor, "video_processor", None) is not None
        messages: list[dict] = []
        images: list = []
        clips: list[SegmentFrames] = []
        seen: set[MediaRef] = set()
        for index, turn in enumerate(conversation):
            refs = media if index == len(conversation) - 1 else turn.media
            content: list[dict] = []
            for ref in refs:
                if ref in seen:
                    continue
                seen.add(ref)
                if isinstance(ref, SegmentRef):
                    clip = sample_segment(ref, options.num_frames)
                    clips.append(clip)
                    if use_video:
                        content.append({"type": "video"})
                    else:
                        for frame, t in zip(clip.frames, clip.timestamps_s):
                            content += [{"type": "text", "text": f"Frame at {format_clock_s(t)}:"}, {"type": "image"}]
                            images.append(frame)
                elif isinstance(ref, ImageRef):
                    content.append({"type": "image"})
                    images.append(media_io.load_image(ref.path))
            content.append({"type": "text", "text": turn.text})
            messages.append({"role": turn.role, "content": content})

        prompt = self._processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        kwargs: dict[str, Any] = {"text": [prompt], "return_tensors": "pt"}
        if images:
            kwargs["images"] = images
        if clips and use_video:
            kwargs["videos"] = [clip.frames for clip in clips]
            kwargs["videos_kwargs"] = {
                "video_metadata": [video_metadata(clip) for clip in clips],
                "do_sample_frames": False,
            }
        try:
            inputs = self._processor(**kwargs)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise BackendError(f"The model's processor refused the question's media: {_first_sentence(exc)}") from exc
        return to_device(inputs, self._model.device, self._dtype), clips


# ----------------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------------


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


def _first_sentence(exc: BaseException) -> str:
    """The first line of an exception's message, cut after its first sentence (library hints follow)."""
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    end = text.find(". ")
    return text[: end + 1] if end > 0 else text
