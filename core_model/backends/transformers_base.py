"""The base of every local transformers backend (image-text-to-text, Qwen2.5-Omni, Gemma 4, Video-LLaMA).

The question's turns, the decoded media and the prepared request are core_model.backends.request's. The base owns
set-up, the one device policy (core_model.backends.policy), ``load``, the opening and tail of
``answer``, the budget planner and the out-of-memory retry; a family supplies hooks: how to load its classes
(``_load_processor``, ``_load_model``), what its tokens cost (``_costs``), and how decoded media become processor
inputs (``_build_inputs``). One question, step by step (``answer`` = ``prepare`` + streaming ``generate``):

 1. Only the question's media (the last turn's ``Turn.media``) are looked at: earlier turns travel as their text
    (their answers say what was seen), so the tenth question of a chat costs what the first does. A segment asked
    about again is attached to that question again and so is seen again.
 2. ``prepare`` probes the segments and reads images and recordings; the budget planner (core_model.budget) picks
    frame rate, frame count and resolution so that the request fits the device's free memory and the host's RAM.
 3. Segments are decoded at the planned size (never the source's: 256 frames of a 4K file stay small): frames uint8
    [T, H, W, 3] with their timestamps, audio 16 kHz mono float32 [samples].
 4. The family builds chat messages and calls its processor (``_build_inputs``) -> a ``PreparedRequest``.
 5. ``generate`` streams through core_model.backends.generation. A CUDA/MPS out-of-memory error (or MemoryError)
    frees the cache, plans again with half the budget and retries once; a second one is OutOfMemoryError.

Stop (``cancel()``) works in every phase: decoding polls it between frames, and it is checked as each phase starts
("decoding", "processor", "encoders", "generation"; see core_model.backends.failpoints) and after every token; the
answer then ends with ``last_run.stopped``. Any exception, ours or a library's, leaves as a VidiError with one line.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from core_model.backends.base import (
    AudioRef,
    BackendInfo,
    CancelToken,
    Capabilities,
    Conversation,
    GenerationOptions,
    ImageRef,
    MediaRef,
    MemoryEstimate,
    ProgressCallback,
    RunInfo,
    SegmentRef,
    Turn,
)
from core_model.backends.common import check_question, read_config, to_device
from core_model.backends.failpoints import failpoint
from core_model.backends.policy import LoadPolicy, load_policy
from core_model.backends.request import (  # noqa: F401  re-exported: the families import them from here
    HISTORY_CHARS,
    MAX_IMAGE_ASPECT,
    MAX_IMAGE_SIDE_PX,
    SAMPLE_RATE,
    Decoded,
    DecodedAudio,
    DecodedImage,
    DecodedSegment,
    PreparedRequest,
    check_all_weights_loaded,
    collect_turn_media,
    describe_media,
    question_media_only,
    read_image,
)
from core_model.budget import BudgetPlanner, FreeMemoryFn, ModelCosts, Plan, SegmentPlan, SegmentSpec
from core_model.device import DeviceKind, ensure_device_present, free_device_memory, requested_device
from core_model.errors import (
    BackendError,
    Cancelled,
    MediaError,
    ModelLoadError,
    OutOfMemoryError,
    VidiError,
    as_vidi_error,
    first_line,
    is_out_of_memory,
)

# ----------------------------------------------------------------------------------------------------------------
# The base backend
# ----------------------------------------------------------------------------------------------------------------


class TransformersBackend:
    """Base of the local backends (module docstring). Subclasses set ``skip_modules`` and ``capabilities`` and
    implement ``_costs``, ``_load_model`` and ``_build_inputs``; the other hooks have defaults.

    ``folder``: a local model folder. ``device``: "auto", "cuda", "mps" or "cpu". ``load_in_4bit``: None = the
    device policy's default. ``free_memory`` / ``host_memory``: the planner's probes (tests inject them).
    """

    skip_modules: tuple[str, ...] = ("lm_head",)
    """Module names (prefixes from the model's root) kept in 16-bit under 4-bit loading."""
    default_options = GenerationOptions()
    """What ``answer(conversation)`` without options uses."""
    resends_earlier_media = False
    """True for a family that caches each medium's embeddings (Video-LLaMA): earlier turns then keep their media,
    each once where it first appeared, as the original's chat does, at no encoder cost. Otherwise earlier turns go
    as text only."""
    decodes_own_media = False
    """True for a family whose processor reads the files itself (Video-LLaMA's bit-exact decord path): the base
    then plans but decodes nothing, and ``_build_inputs`` gets the references."""

    def __init__(
        self,
        folder: Path | str,
        device: str = "auto",
        load_in_4bit: bool | None = None,
        *,
        free_memory: FreeMemoryFn | None = None,
        host_memory: FreeMemoryFn | None = None,
    ) -> None:
        from core_model.budget import host_available_bytes

        self.folder = Path(folder)
        self.config = self._read_config()
        self.device: DeviceKind = requested_device(device)
        weights_fp32 = self._weights_bytes_fp32() if self.device == "cpu" else None
        self.policy: LoadPolicy = load_policy(
            self.device, load_in_4bit, self.skip_modules, weights_bytes_fp32=weights_fp32,
            host_available_bytes=(host_memory or host_available_bytes)() if weights_fp32 else None,
        )
        self.load_in_4bit = self.policy.load_in_4bit
        self.notice = self.policy.notice
        self.model_id = self.folder.name
        self.capabilities = self._capabilities()
        self.last_run = RunInfo(model_id=self.model_id, notice=self.notice)
        self._free_memory, self._host_memory = free_memory, host_memory
        self._planner: BudgetPlanner | None = None
        self._cancel = CancelToken()
        self._aborted = False
        self._model = None
        self._processor = None

    # -- family hooks -------------------------------------------------------------------------------------------

    def _read_config(self) -> Any:
        """The folder's configuration (config.json as a dict by default); ModelLoadError when unreadable."""
        config = read_config(self.folder)
        if not isinstance(config, dict):
            raise ModelLoadError(f"'{self.folder / 'config.json'}' is not a model configuration (not a JSON object).")
        return config

    def _capabilities(self) -> Capabilities:
        return Capabilities(video=True, audio=True, image=True)

    def _costs(self) -> ModelCosts:
        raise NotImplementedError

    def _load_processor(self):
        from transformers import AutoProcessor

        return AutoProcessor.from_pretrained(self.folder)

    def _load_model(self, kwargs: dict[str, Any]):
        raise NotImplementedError

    def _check_media(self, media: Sequence[MediaRef]) -> None:
        """Refuse, before any work, a combination of media the family cannot take (UnsupportedMediaError)."""

    def _build_inputs(
        self, turns: list[tuple[Turn, list[Decoded]]], plan: Plan, options: GenerationOptions
    ) -> PreparedRequest:
        raise NotImplementedError

    def _generate(self, request: PreparedRequest, stats) -> Iterator[str]:
        """Stream the answer's text for a prepared request (transformers ``generate`` by default)."""
        from core_model.backends.generation import stream_generate

        return stream_generate(
            self._model, request.inputs, self._processor.tokenizer, self._cancel, stats, **request.generate_kwargs
        )

    def _weights_bytes_fp32(self) -> int | None:
        """The weights in float32, from the safetensors headers (None when they cannot be counted)."""
        from core_model.backends.memory import count_parameters

        try:
            return count_parameters(self.folder, self.skip_modules).total * 4
        except Exception:  # noqa: BLE001  a folder without readable weights fails properly at load
            return None

    # -- the Backend protocol: description and loading ------------------------------------------------------

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

    @property
    def planner(self) -> BudgetPlanner:
        """The budget planner for this model on its device (built on first use: some costs need the processor)."""
        if self._planner is None:
            self._planner = BudgetPlanner(self._costs(), self.device, self._free_memory, self._host_memory)
        return self._planner

    def describe(self) -> BackendInfo:
        import sys

        memory = -1
        torch = sys.modules.get("torch")
        if self.is_loaded and self.device == "cuda" and torch is not None:
            try:
                memory = int(torch.cuda.memory_allocated())
            except Exception:  # noqa: BLE001  a broken driver must not break a description
                memory = -1
        try:
            estimate = self.memory_estimate()
        except Exception:  # noqa: BLE001
            estimate = None
        return BackendInfo(
            model_id=self.model_id, capabilities=self.capabilities, device=self.device,
            load_in_4bit=self.load_in_4bit, dtype=self.policy.dtype_name, notice=self.notice,
            loaded=self.is_loaded, memory_used_bytes=memory, memory_estimate=estimate,
        )

    def load(self, progress: ProgressCallback | None = None) -> None:
        """Load processor and weights onto the device. Raises ModelLoadError or OutOfMemoryError, in one line."""
        if self.is_loaded:
            return
        if self._aborted:
            raise BackendError("The model is closing.")
        ensure_device_present(self.device)
        report = progress or (lambda fraction, message: None)
        model_type = self.config.get("model_type", "?") if isinstance(self.config, dict) else "?"
        report(0.0, "Reading the processor")
        try:
            processor = self._load_processor()
        except VidiError:
            raise
        except Exception as exc:  # noqa: BLE001  tokenizers, JSON, protobuf...: every library has its own errors
            raise ModelLoadError(
                f"Cannot read the processor (tokenizer, image/video settings) in '{self.folder}': {first_line(exc)}"
            ) from exc
        report(0.1, f"Loading the weights ({self.policy.describe()})")
        try:
            model = self._load_model(self.policy.from_pretrained_kwargs())
        except VidiError:
            raise
        except BaseException as exc:  # noqa: BLE001  truncated safetensors, wrong shapes, MemoryError, ...
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            if is_out_of_memory(exc):
                free_device_memory(self.device)
                raise OutOfMemoryError(
                    f"The model does not fit in the {_memory_name(self.device)}. Close other programs or pick a "
                    "smaller model."
                ) from exc
            why = first_line(exc)
            if "Weights only load failed" in why:  # torch.load(weights_only=True) met a pickle that runs code
                why = "its .bin weights hold code, which Vidi never runs (use the model's safetensors files)"
            raise ModelLoadError(f"Cannot load '{self.folder}' (model type '{model_type}'): {why}") from exc
        if hasattr(model, "eval"):
            model.eval()
        self._processor, self._model = processor, model
        report(1.0, "Ready")

    def unload(self) -> None:
        """Drop the model and processor and give their memory back."""
        self._model = None
        self._processor = None
        self._planner = None
        free_device_memory(self.device)

    def memory_estimate(self) -> MemoryEstimate:
        """Weights (measured once loaded, else from the safetensors headers), a typical question's KV cache and
        working memory."""
        from core_model.backends.memory import estimate_memory

        estimate = estimate_memory(
            self.folder, device=self.device, load_in_4bit=self.load_in_4bit, dtype_bytes=self.policy.dtype_bytes,
            unquantized_modules=self.skip_modules,
        )
        parts = dict(estimate.parts_bytes)
        if self._model is not None and hasattr(self._model, "get_memory_footprint"):
            parts["weights"] = int(self._model.get_memory_footprint())
        return MemoryEstimate(device=self.device, parts_bytes=parts)

    # -- the Backend protocol: answering --------------------------------------------------------------------

    def cancel(self) -> None:
        """Stop the running ``answer`` in whatever phase it is; safe from any thread."""
        self._cancel.cancel()

    def abort(self) -> None:
        """Stop now and refuse further work (Vidi is closing); safe from any thread."""
        self._aborted = True
        self._cancel.cancel()

    def answer(self, conversation: Conversation, options: GenerationOptions | None = None) -> Iterator[str]:
        """Stream the answer to the last user turn (see the Backend protocol). Loads the model if needed.

        Refusals (an empty question, a kind of media the model does not take) are raised here, before any work.
        """
        check_question(self.capabilities, conversation, model_id=self.model_id)
        self._check_media(conversation[-1].media)
        self._cancel.reset()  # here, not when iteration starts: a Stop pressed in between still counts
        return self._answer(conversation, options or self.default_options)

    def _answer(self, conversation: Conversation, options: GenerationOptions) -> Iterator[str]:
        from core_model.backends.generation import GenerationStats, finish_run
        from core_model.budget import stream_with_oom_retry

        run = RunInfo(model_id=self.model_id, notice=self.notice)
        self.last_run = run
        started_at = time.perf_counter()

        def attempt(scale: float) -> Iterator[str]:
            import torch

            request = self._prepare(conversation, options, scale)
            run.plan = request.plan.description
            run.frame_timestamps_s = (
                list(request.frame_timestamps_s) if request.frame_timestamps_s is not None
                else [t for segment in request.segments for t in segment.clip.timestamps_s]
            )
            run.used_audio = request.used_audio
            run.prompt_tokens = request.prompt_tokens
            run.prepare_s = time.perf_counter() - started_at
            if options.seed is not None:
                torch.manual_seed(options.seed)
            self._checkpoint("generation")
            stats = GenerationStats()
            try:
                yield from self._generate(request, stats)
            finally:
                finish_run(run, stats, started_at)

        try:
            self.load()
            yield from stream_with_oom_retry(attempt, lambda: free_device_memory(self.device), device=self.device)
        except Cancelled:
            run.stopped = True
            run.total_s = time.perf_counter() - started_at
        except VidiError:
            raise
        except Exception as exc:  # noqa: BLE001  one line for the user, whatever the library raised
            raise as_vidi_error(exc) from exc

    def _checkpoint(self, phase: str) -> None:
        """Entering ``phase``: run its failpoint (tests) and stop here if the user pressed Stop."""
        failpoint(phase, lambda: self._cancel.cancelled)
        if self._cancel.cancelled:
            raise Cancelled(f"Stopped while {phase}.")

    def prepare(
        self, conversation: Conversation, options: GenerationOptions | None = None, *, scale: float = 1.0
    ) -> PreparedRequest:
        """Plan, decode and run the processor for ``conversation`` (steps 1-4 of the module docstring), without
        answering: what ``answer`` would send, for tests and inspection.

        ``scale``: share of the memory budget to plan for (0.5 on the retry after an out-of-memory error).
        Raises MediaError for unreadable media, OutOfMemoryError when nothing fits.
        """
        self._cancel.reset()
        return self._prepare(conversation, options or self.default_options, scale)

    def _prepare(self, conversation: Conversation, options: GenerationOptions, scale: float) -> PreparedRequest:
        from core_model import media as media_io

        self.load()
        turns = collect_turn_media(conversation) if self.resends_earlier_media else question_media_only(conversation)
        refs = [ref for _turn, items in turns for ref in items]

        # 1. what the media are, before decoding pixels: lengths, sizes, audio
        self._checkpoint("decoding")
        specs: list[SegmentSpec] = []
        bounds: list[tuple[float, float]] = []
        images: list[np.ndarray] = []
        recordings: list[np.ndarray] = []
        for ref in refs:
            if isinstance(ref, SegmentRef):
                info = media_io.probe(ref.path)
                start_s = 0.0 if ref.start_s is None else float(ref.start_s)
                end_s = float(info.duration_s) if ref.end_s is None else float(ref.end_s)
                if start_s >= info.duration_s or end_s <= start_s:
                    raise MediaError(
                        f"segment {start_s:.1f}-{end_s:.1f} s is outside the video (length {info.duration_s:.1f} s)"
                    )
                bounds.append((start_s, end_s))
                specs.append(SegmentSpec(max(end_s - start_s, 0.0), info.width, info.height,
                                         with_audio=ref.include_audio and info.has_audio
                                         and self.capabilities.audio))
            elif self.decodes_own_media:
                continue  # the family reads images and recordings itself
            elif isinstance(ref, ImageRef):
                images.append(read_image(ref.path))
            elif isinstance(ref, AudioRef):
                wave = media_io.load_audio(ref.path, None, None, sample_rate=SAMPLE_RATE)
                if wave is None:
                    raise MediaError(f"no audio in {Path(ref.path).name}")
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

        # 3. decode, at the planned size
        decoded_turns: list[tuple[Turn, list[Decoded]]] = []
        segment_plans, bound_iter = iter(plan.segments), iter(bounds)
        image_iter, recording_iter = iter(images), iter(recordings)
        for turn, items in turns:
            decoded: list[Any] = []
            for ref in items:
                if self.decodes_own_media:
                    decoded.append(ref)
                elif isinstance(ref, SegmentRef):
                    segment_plan, (start_s, end_s) = next(segment_plans), next(bound_iter)
                    decoded.append(self._decode_segment(ref, segment_plan, start_s, end_s))
                elif isinstance(ref, ImageRef):
                    decoded.append(DecodedImage(ref, next(image_iter)))
                elif isinstance(ref, AudioRef):
                    decoded.append(DecodedAudio(ref, next(recording_iter)))
            decoded_turns.append((turn, decoded))

        # 4. the family's messages and processor call
        self._checkpoint("processor")
        return self._build_inputs(decoded_turns, plan, options)

    def _decode_segment(self, ref: SegmentRef, plan: SegmentPlan, start_s: float, end_s: float) -> DecodedSegment:
        from core_model import media as media_io
        from core_model.backends.segment_frames import sample_segment

        clip = sample_segment(ref, plan.num_frames, size_px=(plan.width, plan.height),
                              should_stop=lambda: self._cancel.cancelled)
        audio = None
        if plan.with_audio:
            audio = media_io.load_audio(ref.path, start_s, end_s, sample_rate=SAMPLE_RATE)
            if audio is not None and audio.size == 0:
                audio = None
        return DecodedSegment(ref, clip, audio, plan)

    # -- shared helpers for subclasses ----------------------------------------------------------------------------

    def _run_processor(self, **kwargs: Any) -> dict[str, Any]:
        """Call the processor; a refusal becomes BackendError. Returns tensors on the model's device."""
        try:
            inputs = self._processor(**kwargs)
        except VidiError:
            raise
        except Exception as exc:  # noqa: BLE001  processors raise ValueError, TypeError, IndexError, ...
            if is_out_of_memory(exc):
                raise
            raise BackendError(
                f"{self.model_id}'s processor refused the question's media: {first_line(exc)}"
            ) from exc
        return to_device(inputs, self._model.device, self.policy.dtype)


# ----------------------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------------------


def _memory_name(device: str) -> str:
    return "computer's memory (RAM)" if device == "cpu" else f"{device.upper()}'s memory"
