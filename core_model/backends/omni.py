"""What the omni backends (Qwen2.5-Omni Thinker, Gemma 4) share: device policy, media decoding, budget, OOM retry.

A family subclass says how to load its model class and how to turn decoded media into processor inputs; this base
does the rest. One question, step by step (``answer`` = ``prepare`` + streaming ``generate``):

 1. ``prepare`` collects each turn's media (a reference repeated in a later turn is used once, where it first
    appeared, as in the generic backend), probes the segments, loads images and recordings.
 2. The budget planner (core_model.budget) picks frame rate, frame count and resolution for every segment so that
    the request fits the device's free memory; ``last_run.plan`` says what it chose ("15 s at 1 fps, 336 px").
 3. Segments are decoded: frames uint8 [T, H, W, 3] with their timestamps, audio 16 kHz mono float32 [samples].
 4. The family builds chat messages and calls its processor (``_build_inputs``) -> a ``PreparedRequest`` with
    the tensors and the exact keyword arguments ``generate`` gets.
 5. ``generate`` streams through core_model.backends.generation (cancel within one token). A CUDA/MPS
    out-of-memory error frees the cache, plans again with half the budget and retries once
    (core_model.budget.stream_with_oom_retry); a second one raises OutOfMemoryError with a plain message.

Device policy (``load_policy``): on CUDA 4-bit NF4 with the family's vision/audio towers and LM head kept in 16-bit
(``llm_int8_skip_modules``), bf16 compute (fp16 before Ampere); on Apple MPS unquantized fp16; on the CPU bf16
(half the memory of fp32) with a "this will be slow" ``notice`` the GUI shows (also in ``last_run.notice``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence, Union

import numpy as np

from core_model.backends.base import (
    AudioRef,
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
    Turn,
)
from core_model.backends.common import check_question, read_config, to_device
from core_model.backends.segment_frames import SegmentFrames
from core_model.budget import BudgetPlanner, FreeMemoryFn, ModelCosts, Plan, SegmentPlan, SegmentSpec
from core_model.device import (
    CPU_NOTICE,
    DeviceKind,
    bitsandbytes_available,
    compute_dtype,
    ensure_device_present,
    free_device_memory,
    requested_device,
)

SAMPLE_RATE = 16000
"""Both omni families take 16 kHz mono audio."""

NO_BITSANDBYTES_NOTICE = (
    "The 'bitsandbytes' package is not installed, so the model is loaded in 16-bit: it needs about three times "
    "the GPU memory of 4-bit."
)


# ----------------------------------------------------------------------------------------------------------------
# Device policy
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadPolicy:
    """How a model is loaded on ``device``: compute ``dtype``, 4-bit or not, which modules stay 16-bit, a notice."""

    device: DeviceKind
    dtype: Any
    load_in_4bit: bool
    skip_modules: tuple[str, ...]
    notice: str = ""

    def from_pretrained_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``from_pretrained``: dtype, quantization config and device map."""
        from core_model.backends.quantization import nf4_config

        kwargs: dict[str, Any] = {"dtype": self.dtype}
        if self.load_in_4bit:
            config = nf4_config(skip_modules=list(self.skip_modules))
            config.bnb_4bit_compute_dtype = self.dtype
            kwargs["quantization_config"] = config
            kwargs["device_map"] = {"": 0 if self.device == "cuda" else self.device}
        elif self.device != "cpu":
            kwargs["device_map"] = {"": self.device}
        return kwargs


def load_policy(device: DeviceKind, load_in_4bit: bool | None, skip_modules: Sequence[str]) -> LoadPolicy:
    """The device policy every omni backend follows (see the module docstring).

    ``load_in_4bit``: None = the default (4-bit on CUDA when bitsandbytes is installed); True forces it (CUDA or
    CPU; ModelLoadError on MPS or without bitsandbytes); False forces 16-bit.
    """
    import torch

    from core_model.backends.quantization import use_4bit

    notice = ""
    if device == "cuda" and load_in_4bit is None and not bitsandbytes_available():
        quantize, notice = False, NO_BITSANDBYTES_NOTICE
    else:
        quantize = use_4bit(device, load_in_4bit)
    if device == "cpu":
        dtype, notice = torch.bfloat16, CPU_NOTICE
    elif device == "mps":
        dtype = torch.float16
    else:
        dtype = compute_dtype(device)
    return LoadPolicy(device=device, dtype=dtype, load_in_4bit=quantize, skip_modules=tuple(skip_modules),
                      notice=notice)


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


# ----------------------------------------------------------------------------------------------------------------
# The base backend
# ----------------------------------------------------------------------------------------------------------------


class OmniBackend:
    """Base of the omni backends. Subclasses set ``skip_modules`` and implement ``_costs``, ``_load_model`` and
    ``_build_inputs``.

    ``folder``: a local model folder. ``device``: "auto", "cuda", "mps" or "cpu". ``load_in_4bit``: None = the
    device policy's default. ``free_memory``: the planner's free-memory probe (tests inject one).
    """

    skip_modules: tuple[str, ...] = ("lm_head",)
    """Module names (prefixes from the model's root) kept in 16-bit under 4-bit loading."""

    def __init__(
        self,
        folder: Path | str,
        device: str = "auto",
        load_in_4bit: bool | None = None,
        *,
        free_memory: FreeMemoryFn | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.config = read_config(self.folder)
        self.device: DeviceKind = requested_device(device)
        self.policy = load_policy(self.device, load_in_4bit, self.skip_modules)
        self.load_in_4bit = self.policy.load_in_4bit
        self.notice = self.policy.notice
        self.model_id = self.folder.name
        self.capabilities = Capabilities(video=True, audio=True, image=True)
        self.last_run = RunInfo(model_id=self.model_id, notice=self.notice)
        self.planner = BudgetPlanner(self._costs(), self.device, free_memory)
        self._cancel = CancelToken()
        self._model = None
        self._processor = None

    # -- family hooks -------------------------------------------------------------------------------------------

    def _costs(self) -> ModelCosts:
        raise NotImplementedError

    def _load_model(self, kwargs: dict[str, Any]):
        raise NotImplementedError

    def _build_inputs(
        self, turns: list[tuple[Turn, list[Decoded]]], plan: Plan, options: GenerationOptions
    ) -> PreparedRequest:
        raise NotImplementedError

    # -- loading ------------------------------------------------------------------------------------------------

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self):
        """The loaded transformers model (None before ``load``)."""
        return self._model

    @property
    def processor(self):
        return self._processor

    def load(self, progress: ProgressCallback | None = None) -> None:
        """Load processor and weights onto the device. Raises ModelLoadError or OutOfMemoryError."""
        if self.is_loaded:
            return
        ensure_device_present(self.device)
        report = progress or (lambda fraction, message: None)
        import torch
        from transformers import AutoProcessor

        report(0.0, "Reading the processor")
        try:
            processor = AutoProcessor.from_pretrained(self.folder)
        except (OSError, ValueError, KeyError, TypeError, ImportError) as exc:
            raise ModelLoadError(f"Cannot read the processor in '{self.folder}': {first_line(exc)}") from exc
        how = "in 4-bit" if self.load_in_4bit else f"in {str(self.policy.dtype).removeprefix('torch.')}"
        report(0.1, f"Loading the weights {how} on the {self.device.upper()}")
        try:
            model = self._load_model(self.policy.from_pretrained_kwargs())
        except torch.OutOfMemoryError as exc:
            free_device_memory(self.device)
            raise OutOfMemoryError(
                f"The model does not fit in the {self.device.upper()}'s memory. Close other programs using the GPU "
                "or pick a smaller model."
            ) from exc
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, ImportError) as exc:
            raise ModelLoadError(
                f"Cannot load '{self.folder}' (model type '{self.config.get('model_type', '?')}'): {first_line(exc)}"
            ) from exc
        model.eval()
        self._processor, self._model = processor, model
        report(1.0, "Ready")

    def unload(self) -> None:
        """Drop the model and processor and give their memory back."""
        self._model = None
        self._processor = None
        free_device_memory(self.device)

    def memory_estimate(self) -> MemoryEstimate:
        """Weights (measured once loaded, else from the safetensors headers) plus a typical question's activations.

        The "activations" part is what the budget planner needs for a 15-s segment with audio at its top level.
        """
        from core_model.backends.memory import estimate_memory

        dtype_bytes = 2
        if self._model is not None:
            parts = {"weights": int(self._model.get_memory_footprint())}
        else:
            estimate = estimate_memory(self.folder, device=self.device, load_in_4bit=self.load_in_4bit,
                                       dtype_bytes=dtype_bytes)
            parts = {"weights": estimate.parts_bytes.get("weights", 0)}
        typical = BudgetPlanner(self.planner.costs, self.device, lambda: None).plan(
            [SegmentSpec(15.0, 1280, 720, with_audio=True)], max_frames=16, scale=1.0
        )
        parts["activations"] = typical.bytes_needed
        return MemoryEstimate(device=self.device, parts_bytes=parts)

    # -- answering ----------------------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the running ``answer`` after at most one more token; safe from any thread."""
        self._cancel.cancel()

    def answer(self, conversation: Conversation, options: GenerationOptions | None = None) -> Iterator[str]:
        """Stream the answer to the last user turn (see the Backend protocol). Loads the model if needed."""
        media = conversation[-1].media if conversation else ()
        from core_model.backends.generation import GenerationStats, finish_run, stream_generate
        from core_model.budget import stream_with_oom_retry

        options = options or GenerationOptions()
        check_question(self.capabilities, conversation, media)
        self._cancel.reset()
        run = RunInfo(model_id=self.model_id, notice=self.notice)
        self.last_run = run
        started_at = time.perf_counter()
        self.load()

        def attempt(scale: float) -> Iterator[str]:
            import torch

            request = self.prepare(conversation, media, options, scale=scale)
            run.plan = request.plan.description
            run.frame_timestamps_s = [t for segment in request.segments for t in segment.clip.timestamps_s]
            run.used_audio = request.used_audio
            run.prepare_s = time.perf_counter() - started_at
            if options.seed is not None:
                torch.manual_seed(options.seed)
            stats = GenerationStats()
            try:
                yield from stream_generate(
                    self._model, request.inputs, self._processor.tokenizer, self._cancel, stats,
                    **request.generate_kwargs,
                )
            finally:
                finish_run(run, stats, started_at)

        yield from stream_with_oom_retry(attempt, lambda: free_device_memory(self.device), device=self.device)

    def prepare(
        self,
        conversation: Conversation,
        media: Sequence[MediaRef] = (),
        options: GenerationOptions | None = None,
        *,
        scale: float = 1.0,
    ) -> PreparedRequest:
        """Plan, decode and run the processor for ``conversation`` (steps 1-4 of the module docstring).

        ``scale``: share of the memory budget to plan for (0.5 on the retry after an out-of-memory error).
        Raises MediaError for unreadable media and OutOfMemoryError when nothing fits.
        """
        from core_model import media as media_io
        from core_model.backends.segment_frames import sample_segment

        options = options or GenerationOptions()
        self.load()
        turns = collect_turn_media(conversation, media)

        # 1. what the media are, before decoding pixels: lengths, sizes, audio
        specs: list[SegmentSpec] = []
        bounds: list[tuple[float, float]] = []
        images: list[np.ndarray] = []
        recordings: list[np.ndarray] = []
        for _turn, refs in turns:
            for ref in refs:
                if isinstance(ref, SegmentRef):
                    info = media_io.probe(ref.path)
                    start_s = 0.0 if ref.start_s is None else float(ref.start_s)
                    end_s = float(info.duration_s) if ref.end_s is None else float(ref.end_s)
                    bounds.append((start_s, end_s))
                    specs.append(SegmentSpec(max(end_s - start_s, 0.0), info.width, info.height,
                                             with_audio=ref.include_audio and info.has_audio))
                elif isinstance(ref, ImageRef):
                    images.append(media_io.load_image(ref.path))
                elif isinstance(ref, AudioRef):
                    wave = media_io.load_audio(ref.path, None, None, sample_rate=SAMPLE_RATE)
                    if wave is None:
                        raise media_io.MediaError(f"no audio in {Path(ref.path).name}")
                    recordings.append(wave)

        # 2. the budget
        plan = self.planner.plan(
            specs,
            max_frames=options.num_frames,
            max_new_tokens=options.max_new_tokens,
            images=[(image.shape[1], image.shape[0]) for image in images],
            audio_s=sum(len(wave) for wave in recordings) / SAMPLE_RATE,
            scale=scale,
        )

        # 3. decode
        decoded_turns: list[tuple[Turn, list[Decoded]]] = []
        segment_plans = iter(plan.segments)
        image_iter, recording_iter = iter(images), iter(recordings)
        bound_iter = iter(bounds)
        for turn, refs in turns:
            items: list[Decoded] = []
            for ref in refs:
                if isinstance(ref, SegmentRef):
                    segment_plan = next(segment_plans)
                    start_s, end_s = next(bound_iter)
                    clip = sample_segment(ref, segment_plan.num_frames)
                    audio = None
                    if segment_plan.with_audio:
                        audio = media_io.load_audio(ref.path, start_s, end_s, sample_rate=SAMPLE_RATE)
                        if audio is not None and audio.size == 0:
                            audio = None
                    items.append(DecodedSegment(ref, clip, audio, segment_plan))
                elif isinstance(ref, ImageRef):
                    items.append(DecodedImage(ref, next(image_iter)))
                elif isinstance(ref, AudioRef):
                    items.append(DecodedAudio(ref, next(recording_iter)))
            decoded_turns.append((turn, items))

        # 4. the family's messages and processor call
        return self._build_inputs(decoded_turns, plan, options)

    # -- shared helpers for subclasses ----------------------------------------------------------------------------

    def _run_processor(self, **kwargs: Any) -> dict[str, Any]:
        """Call the processor; a refusal becomes BackendError. Returns tensors on the model's device."""
        try:
            inputs = self._processor(**kwargs)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise BackendError(f"The model's processor refused the question's media: {first_line(exc)}") from exc
        return to_device(inputs, self._model.device, self.policy.dtype)


# ----------------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------------


def collect_turn_media(conversation: Conversation, media: Sequence[MediaRef]) -> list[tuple[Turn, list[MediaRef]]]:
    """Each turn with its media; the last turn's are ``media`` (or its own when ``media`` is empty).

    A reference that already appeared in an earlier turn is dropped where it repeats: the model sees each distinct
    segment, image or recording once.
    """
    seen: set[MediaRef] = set()
    result: list[tuple[Turn, list[MediaRef]]] = []
    for index, turn in enumerate(conversation):
        refs = turn.media
        if index == len(conversation) - 1 and media:
            refs = tuple(media)
        kept = []
        for ref in refs:
            if ref not in seen:
                seen.add(ref)
                kept.append(ref)
        result.append((turn, kept))
    return result


def check_all_weights_loaded(folder: Path, loading_info: dict) -> None:
    """Raise ModelLoadError when ``from_pretrained`` left weights uninitialised (a wrong or incomplete folder)."""
    missing = sorted(loading_info.get("missing_keys") or [])
    if missing:
        raise ModelLoadError(
            f"'{folder}' is missing {len(missing)} of the model's weights (e.g. '{missing[0]}'): the download may "
            "be incomplete, or the folder holds a different model."
        )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
