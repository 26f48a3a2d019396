"""Token and memory budget: fit a question's media to the memory the device has left, and survive an OOM.

Before a question runs, the planner counts the tokens the media become and the memory they need, and picks the
frame rate, frame count and resolution so that the request fits::

    costs = qwen_omni_costs(config)                      # core_model.backends.costs: one per model family
    planner = BudgetPlanner(costs, device="cuda")        # free memory from torch.cuda.mem_get_info
    plan = planner.plan([SegmentSpec(15.0, 1280, 720, with_audio=True)], max_frames=16, max_new_tokens=512)
    plan.description                                    # "15 s at 1 fps, 336 px, with audio"
    plan.segments[0].num_frames, plan.level             # 16 frames; the model's resolution knob (here 336)

The arithmetic, for one request (all figures are estimates meant for planning, not guarantees):

    tokens  = text + sum(frames x tokens_per_frame(level)) + audio_s x audio_tokens_per_s + image tokens
    memory  = kv_bytes_per_token x (tokens + max_new_tokens)        # the KV cache
            + prefill_bytes_per_token x tokens                      # hidden states + MLP of one prefill pass
            + vision_bytes_per_patch x patches                      # the vision encoder's peak
            + fixed_bytes                                           # 4-bit dequantisation buffers, allocator slack
    budget  = (free device memory) x SAFETY x scale                 # scale 1.0, then 0.5 on the retry after an OOM
    host    = frames x width x height x HOST_BYTES_PER_PIXEL        # decoded frames and the processor's copies
            <= (available host RAM) x SAFETY x scale                # (+ the device memory when that is the CPU)

Frames are preferred over resolution: at each frame rate the planner tries the family's resolutions from high to
low, and halves the frame rate only when none fits; tiny last-resort resolutions come after the lowest rate.
Devices that report no free memory (the CPU) are limited by a token cap as well (``CPU_TOKEN_CAP``: a CPU takes
minutes per thousand tokens of a 7B model), and every device by the host's available RAM: frames are decoded at
the size the plan chose, so 256 frames of a 4K file cost what 256 planned frames cost, not 6 GB of source pixels.

If a request still runs out of memory, ``stream_with_oom_retry`` frees the cache, plans again with half the budget
and retries once; a second OOM becomes ``OutOfMemoryError`` with a message fit for the user. torch is imported
inside functions so that importing this module stays cheap.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from core_model.errors import OutOfMemoryError
from core_model.errors import is_out_of_memory as _is_out_of_memory

log = logging.getLogger(__name__)

SAFETY = 0.85
"""Share of the free memory a plan may use: the rest absorbs fragmentation and estimate error."""
RETRY_SCALES = (1.0, 0.5)
"""Budget scale for the first try and for the one retry after an out-of-memory error."""
CPU_TOKEN_CAP = 8192
"""Prompt tokens allowed where the device reports no free memory (CPU): beyond that an answer takes too long."""
AUDIO_TOKENS_PER_S = 25.0
"""Both omni families turn 1 s of 16 kHz audio into 25 tokens (10 ms mel frames, 4x time reduction)."""
TEXT_TOKENS_ALLOWANCE = 256
"""Tokens planned for the chat template, timestamps and the question itself."""

HOST_BYTES_PER_PIXEL = 3 + 3 * 4 * 2
"""Host bytes one decoded pixel costs until the model has it: uint8 RGB, then the processor's float32 copies
(rescaled and normalised) of it."""

FreeMemoryFn = Callable[[], "int | None"]


# ----------------------------------------------------------------------------------------------------------------
# What a model's tokens cost: one ModelCosts per model family, built from its config.
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrameCost:
    """What one video frame (or image) becomes at one resolution level: LM tokens, vision patches, pixels."""

    tokens: float
    patches: float
    width: int
    height: int


@dataclass(frozen=True)
class ModelCosts:
    """The per-token and per-patch costs of one loaded model, and how its frames become tokens.

    ``frame_cost(width, height, level)`` says what one frame of a ``width`` x ``height`` video becomes at
    resolution ``level`` (a value from ``levels``, highest first, tried at every frame rate; then
    ``last_resort_levels``, tried only once the frame rate is at its lowest). What a level means is the family's
    business: a pixel side for Qwen, soft tokens per frame for Gemma 4. ``frames_multiple``: frame counts are rounded up
    to it (2 for Qwen's temporal patches). ``max_fps``: the highest frame rate worth sampling.
    """

    family: str
    kv_bytes_per_token: int
    prefill_bytes_per_token: int
    vision_bytes_per_patch: int
    frame_cost: Callable[[int, int, int], FrameCost]
    levels: tuple[int, ...]
    image_level: int
    last_resort_levels: tuple[int, ...] = ()
    max_fps: float = 2.0
    frames_multiple: int = 1
    min_frames: int = 1
    audio_tokens_per_s: float = AUDIO_TOKENS_PER_S
    context_limit: int = 32768
    fixed_bytes: int = 384 * 2**20
    image_cost: Callable[[int, int], FrameCost] | None = None
    """What one image of (width, height) becomes, where it differs from a frame at ``image_level``."""
    max_frames: int | None = None
    """The most frames one segment can have (a model with a fixed frame position table)."""


# ----------------------------------------------------------------------------------------------------------------
# The request and the plan.
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentSpec:
    """One segment to plan for: its length, its displayed size, and whether its audio goes to the model."""

    duration_s: float
    width: int
    height: int
    with_audio: bool = False


@dataclass(frozen=True)
class SegmentPlan:
    """What one segment becomes: ``num_frames`` frames at ``fps`` (over its length), resized to width x height."""

    duration_s: float
    num_frames: int
    fps: float
    width: int
    height: int
    with_audio: bool
    video_tokens: int
    audio_tokens: int

    def describe(self) -> str:
        """e.g. "15 s at 1 fps, 336 px, with audio" (px: the longer side of the frames the model sees)."""
        audio = ", with audio" if self.with_audio else ""
        return f"{_number(self.duration_s)} s at {_number(self.fps)} fps, {max(self.width, self.height)} px{audio}"


@dataclass(frozen=True)
class Plan:
    """The sampling chosen for one request and what it costs.

    ``level``: the model's resolution knob for every segment (see ModelCosts); ``image_level`` for images.
    ``bytes_available`` is None where the device reports no free memory (then ``token_cap`` bounded the plan).
    """

    segments: tuple[SegmentPlan, ...]
    level: int
    image_level: int
    prompt_tokens: int
    bytes_needed: int
    bytes_available: int | None
    token_cap: int
    scale: float = 1.0
    host_bytes_needed: int = 0
    host_bytes_available: int | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def description(self) -> str:
        """Plain words for the user: one clause per segment, e.g. "15 s at 1 fps, 336 px, with audio"."""
        parts = [segment.describe() for segment in self.segments]
        if not parts:
            parts = ["no video"]
        if self.scale < 1.0:
            parts.append("lowered after running out of memory")
        return "; ".join(parts)


def _number(value: float) -> str:
    """15.0 -> "15", 0.533 -> "0.53"."""
    if value < 1:
        return f"{value:.2g}"
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


# ----------------------------------------------------------------------------------------------------------------
# The planner.
# ----------------------------------------------------------------------------------------------------------------


def cuda_free_bytes() -> int | None:
    """Free CUDA memory plus what torch's caching allocator holds but does not use; None without CUDA."""
    import torch

    if not torch.cuda.is_available():
        return None
    free, _total = torch.cuda.mem_get_info()
    return int(free + torch.cuda.memory_reserved() - torch.cuda.memory_allocated())


def mps_free_bytes() -> int | None:
    """What Apple's MPS allocator still recommends using; None when MPS is absent."""
    import torch

    mps = getattr(torch, "mps", None)
    if mps is None or not torch.backends.mps.is_available():
        return None
    return int(mps.recommended_max_memory() - mps.current_allocated_memory())


def host_available_bytes() -> int | None:
    """RAM the OS can give this process now without swapping (Linux MemAvailable, else free pages); None unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os

        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def free_memory_fn(device: str) -> FreeMemoryFn:
    """The free-memory probe for ``device``: CUDA's mem_get_info, MPS's allocator, nothing for the CPU."""
    if device == "cuda":
        return cuda_free_bytes
    if device == "mps":
        return mps_free_bytes
    return lambda: None


class BudgetPlanner:
    """Chooses frame rate, frame count and resolution so that a request fits (see the module docstring).

    ``free_memory``: returns the bytes free on the device now, or None when unknown; injectable for tests
    (defaults to ``free_memory_fn(device)``, i.e. ``torch.cuda.mem_get_info`` on CUDA). ``host_memory``: the
    host RAM available now (defaults to ``host_available_bytes``; tests inject one).
    """

    def __init__(
        self,
        costs: ModelCosts,
        device: str = "cuda",
        free_memory: FreeMemoryFn | None = None,
        host_memory: FreeMemoryFn | None = None,
    ) -> None:
        self.costs = costs
        self.device = device
        self.free_memory = free_memory or free_memory_fn(device)
        self.host_memory = host_memory or host_available_bytes

    def plan(
        self,
        segments: Sequence[SegmentSpec],
        *,
        max_frames: int,
        max_new_tokens: int = 512,
        images: Sequence[tuple[int, int]] = (),
        audio_s: float = 0.0,
        scale: float = 1.0,
    ) -> Plan:
        """The best sampling for ``segments`` that fits, or OutOfMemoryError when even the smallest does not.

        ``max_frames``: the most frames for one segment (the user's choice); fewer are taken when
        ``max_fps`` x duration is lower or memory is short. ``images``: (width, height) of each image.
        ``audio_s``: seconds of standalone audio (recordings). ``scale``: share of the budget to use (1.0; 0.5 on
        the retry after an OOM).
        """
        costs = self.costs
        free = self.free_memory()
        available = None if free is None else int(max(free, 0) * SAFETY * scale)
        host_free = self.host_memory()
        host_available = None if host_free is None else int(max(host_free, 0) * SAFETY * scale)
        if costs.max_frames is not None:
            max_frames = min(max_frames, costs.max_frames)
        token_cap = int(costs.context_limit if free is not None else min(CPU_TOKEN_CAP, costs.context_limit))
        token_cap = int(token_cap * scale)

        fixed_tokens = TEXT_TOKENS_ALLOWANCE + int(math.ceil(audio_s * costs.audio_tokens_per_s))
        fixed_patches = 0.0
        for width, height in images:
            if costs.image_cost is not None:
                image = costs.image_cost(width, height)
            else:
                image = costs.frame_cost(width, height, costs.image_level)
            fixed_tokens += int(math.ceil(image.tokens * _image_frames(costs)))
            fixed_patches += image.patches * _image_frames(costs)
        audio_tokens = [
            int(math.ceil(s.duration_s * costs.audio_tokens_per_s)) if s.with_audio else 0 for s in segments
        ]
        fixed_tokens += sum(audio_tokens)

        last = None
        for rate, level in self._candidates(segments, max_frames):
            candidate = self._cost(segments, audio_tokens, rate, level, max_frames, fixed_tokens, fixed_patches,
                                   max_new_tokens)
            last = candidate
            tokens, needed, host_needed = candidate[1], candidate[2], candidate[3]
            if available is None and self.device == "cpu":
                host_needed += needed  # the model's working memory is host RAM too
            if (tokens <= token_cap and (available is None or needed <= available)
                    and (host_available is None or host_needed <= host_available)):
                return Plan(
                    segments=candidate[0], level=level, image_level=costs.image_level, prompt_tokens=tokens,
                    bytes_needed=needed, bytes_available=available, token_cap=token_cap, scale=scale,
                    host_bytes_needed=host_needed, host_bytes_available=host_available,
                )
        needed, host_needed = (last[2], last[3]) if last else (0, 0)
        if host_available is not None and host_needed > host_available:
            raise OutOfMemoryError(_no_fit_message(segments, host_needed, host_available, token_cap, "host"))
        raise OutOfMemoryError(_no_fit_message(segments, needed, available, token_cap, self.device))

    # -- internals ---------------------------------------------------------------------------------------------

    def _candidates(self, segments: Sequence[SegmentSpec], max_frames: int) -> Iterator[tuple[float, int]]:
        """(frame rate, level) in order of preference: at each frame rate (halving from the top) every level of
        ``levels``; then the last-resort levels at the lowest rates."""
        costs = self.costs
        longest = max((s.duration_s for s in segments), default=0.0)
        top_rate = costs.max_fps if longest <= 0 else min(costs.max_fps, max(max_frames, 1) / longest)
        rates = [top_rate]
        min_rate = costs.min_frames / longest if longest > 0 else top_rate
        while rates[-1] > min_rate:
            rates.append(max(rates[-1] * 0.5, min_rate))
        for rate in rates:
            for level in costs.levels:
                yield rate, level
        for level in costs.last_resort_levels:
            for rate in rates:
                yield rate, level

    def _cost(self, segments, audio_tokens, rate, level, max_frames, fixed_tokens, fixed_patches, max_new_tokens):
        costs = self.costs
        plans = []
        video_tokens = 0
        host_bytes = 0
        patches = fixed_patches
        for spec, audio in zip(segments, audio_tokens):
            frames = _frames_for(spec.duration_s, rate, max_frames, costs)
            cost = costs.frame_cost(spec.width, spec.height, level)
            tokens = int(math.ceil(cost.tokens * frames))
            video_tokens += tokens
            host_bytes += frames * cost.width * cost.height * HOST_BYTES_PER_PIXEL
            patches = max(patches, cost.patches * frames)  # each video is encoded on its own
            fps = frames / spec.duration_s if spec.duration_s > 0 else 0.0
            plans.append(SegmentPlan(spec.duration_s, frames, fps, cost.width, cost.height, spec.with_audio,
                                     tokens, audio))
        prompt_tokens = fixed_tokens + video_tokens
        needed = (
            costs.kv_bytes_per_token * (prompt_tokens + max_new_tokens)
            + costs.prefill_bytes_per_token * prompt_tokens
            + int(costs.vision_bytes_per_patch * patches)
            + costs.fixed_bytes
        )
        return tuple(plans), prompt_tokens, needed, host_bytes


def _image_frames(costs: ModelCosts) -> int:
    """An image counts as one frame, except where frames come in temporal pairs (Qwen repeats the image)."""
    return costs.frames_multiple


def _frames_for(duration_s: float, rate: float, max_frames: int, costs: ModelCosts) -> int:
    """Frames for a segment at ``rate``: at least ``min_frames``, at most ``max_frames`` (both rounded to the
    family's multiple)."""
    multiple = max(costs.frames_multiple, 1)
    frames = max(int(round(duration_s * rate)), 1)
    frames = min(frames, max(max_frames, 1))
    frames = max(frames, costs.min_frames)
    return int(math.ceil(frames / multiple) * multiple)


def _memory(device: str, short: bool = False) -> str:
    """The memory in the user's words: "memory (RAM)" on the CPU, "CUDA memory" on a GPU (short: "RAM"/"GPU")."""
    if device in ("cpu", "host"):
        return "RAM" if short else "memory (RAM)"
    return "GPU" if short else f"{device.upper()} memory"


def _gib(num_bytes: float) -> str:
    return f"{num_bytes / 2**30:.1f} GB"


def _no_fit_message(segments, needed, available, token_cap, device) -> str:
    total_s = sum(s.duration_s for s in segments)
    what = f"{_number(total_s)} s of video" if segments else "this question"
    audio = ", leave the segment's audio out" if any(s.with_audio for s in segments) else ""
    if available is not None and needed > available:
        where = "the computer's memory (RAM)" if device in ("host", "cpu") else f"{device.upper()} memory"
        return (
            f"Even at the lowest frame rate and resolution, {what} needs about {_gib(needed)} of {where} "
            f"and only {_gib(available)} is free. Choose a shorter segment or fewer frames{audio}, close other "
            "programs, or pick a smaller model."
        )
    return (
        f"Even at the lowest frame rate and resolution, {what} makes more than {token_cap} tokens, too many for "
        f"this model on the {device.upper()}. Choose a shorter segment{audio}."
    )


# ----------------------------------------------------------------------------------------------------------------
# Out-of-memory retry.
# ----------------------------------------------------------------------------------------------------------------


def is_out_of_memory(exc: BaseException) -> bool:
    """True for torch's CUDA/MPS out-of-memory errors and MemoryError (core_model.errors.is_out_of_memory); not for
    Vidi's own OutOfMemoryError, which already is the final word."""
    return _is_out_of_memory(exc) and not isinstance(exc, OutOfMemoryError)


def stream_with_oom_retry(
    attempt: Callable[[float], Iterator[str]],
    free_cache: Callable[[], None],
    *,
    device: str = "cuda",
    scales: Sequence[float] = RETRY_SCALES,
) -> Iterator[str]:
    """Stream ``attempt(scale)``; on an out-of-memory error free the cache and retry with the next scale.

    ``attempt(scale)`` plans with ``scale`` x the budget and streams the answer. A retry happens only while
    nothing was streamed yet (the user would otherwise see the answer start over); after the last scale, or
    after text was streamed, the error becomes OutOfMemoryError with a plain message.
    """
    for index, scale in enumerate(scales):
        streamed = False
        try:
            for piece in attempt(scale):
                streamed = True
                yield piece
            return
        except Exception as exc:  # noqa: BLE001  only out-of-memory errors are handled; others re-raised
            if not is_out_of_memory(exc):
                raise
            free_cache()
            if streamed:
                raise OutOfMemoryError(
                    f"The model ran out of {_memory(device)} in the middle of the answer. Ask for a shorter "
                    "answer, choose a shorter segment, or close other programs using the "
                    f"{_memory(device, short=True)}."
                ) from exc
            if index == len(scales) - 1:
                raise OutOfMemoryError(
                    f"The model ran out of {_memory(device)}, even after lowering the frame rate and "
                    "resolution. Choose a shorter segment, close other programs using the "
                    f"{_memory(device, short=True)}, or pick a smaller model."
                ) from exc
            log.warning("Out of %s memory; retrying with %.0f%% of the budget", device, scales[index + 1] * 100)
