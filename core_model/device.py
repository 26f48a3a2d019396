"""Which device a model runs on, and what that device can do. The one place that asks torch about hardware.

    info = detect_device()            # DeviceInfo(kind="cuda", name="NVIDIA H100", total_memory_bytes=..., ...)
    device = resolve_device("auto")   # "cuda" if an NVIDIA GPU is usable, else "mps", else "cpu"
    dtype = compute_dtype(device)     # torch.bfloat16 on recent GPUs, float16 on older ones and MPS, float32 on CPU

Backends call ``requested_device`` when they are built, ``ensure_device_present`` and ``compute_dtype`` when
they load, and ``free_device_memory`` after unloading or after an out-of-memory error. ``detect_device`` feeds the GUI's status
bar and the model manager's "will it fit" check. torch is imported inside the functions so that importing this
module stays cheap.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Literal

from core_model.backends.base import BackendError

DeviceKind = Literal["cuda", "mps", "cpu"]
DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")


@dataclass(frozen=True)
class DeviceInfo:
    """What the best available device is and can do.

    ``compute_capability`` is (major, minor) for CUDA, None elsewhere. Memory figures are bytes; None where the
    device does not report them (CPU, MPS). ``bitsandbytes_available`` says whether 4-bit loading can work here.
    """

    kind: DeviceKind
    name: str
    total_memory_bytes: int | None = None
    free_memory_bytes: int | None = None
    compute_capability: tuple[int, int] | None = None
    bitsandbytes_available: bool = False

    @property
    def supports_bfloat16(self) -> bool:
        """bf16 runs natively: CUDA from Ampere (compute capability 8.0) on, and the CPU."""
        if self.kind == "cuda":
            return self.compute_capability is not None and self.compute_capability >= (8, 0)
        return self.kind == "cpu"


CPU_NOTICE = (
    "Running on the CPU: answers will be slow (minutes for a question about a video). "
    "An NVIDIA GPU or an Apple Silicon Mac is much faster."
)
"""Shown by the GUI (and in RunInfo.notice) whenever a backend runs on the CPU."""


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def mps_available() -> bool:
    import torch

    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def bitsandbytes_available() -> bool:
    """True when the bitsandbytes package is installed (needed for 4-bit loading)."""
    return importlib.util.find_spec("bitsandbytes") is not None


def detect_device() -> DeviceInfo:
    """The best device here: the first CUDA GPU, else Apple's MPS, else the CPU."""
    import torch

    has_bnb = bitsandbytes_available()
    if cuda_available():
        props = torch.cuda.get_device_properties(0)
        try:
            free_bytes, total_bytes = torch.cuda.mem_get_info(0)
        except RuntimeError:  # some drivers refuse; fall back on the properties
            free_bytes, total_bytes = None, props.total_memory
        return DeviceInfo(
            kind="cuda",
            name=props.name,
            total_memory_bytes=int(total_bytes),
            free_memory_bytes=None if free_bytes is None else int(free_bytes),
            compute_capability=(props.major, props.minor),
            bitsandbytes_available=has_bnb,
        )
    if mps_available():
        return DeviceInfo(kind="mps", name="Apple GPU (MPS)", bitsandbytes_available=False)
    return DeviceInfo(kind="cpu", name="CPU", bitsandbytes_available=has_bnb)


def requested_device(requested: str = "auto") -> DeviceKind:
    """The device a backend is built for: "auto" becomes the best one here; "cuda"/"mps"/"cpu" stay as asked.

    No presence check: a backend built for "cuda" on a machine without a GPU can still plan its memory
    (``vidi models plan --device cuda``); ``ensure_device_present`` runs when it loads.
    """
    choice = (requested or "auto").strip().lower()
    if choice not in DEVICE_CHOICES:
        raise BackendError(f"Unknown device '{requested}': choose one of {', '.join(DEVICE_CHOICES)}.")
    if choice == "auto":
        if cuda_available():
            return "cuda"
        if mps_available():
            return "mps"
        return "cpu"
    return choice  # type: ignore[return-value]


def ensure_device_present(device: DeviceKind) -> None:
    """Raise BackendError with a plain message when ``device`` is not usable here (rather than later in torch)."""
    if device == "cuda" and not cuda_available():
        raise BackendError("A CUDA GPU was asked for, but no usable NVIDIA GPU was found; use --device cpu.")
    if device == "mps" and not mps_available():
        raise BackendError("Apple's MPS device was asked for, but it is not available here; use --device cpu.")


def resolve_device(requested: str = "auto") -> DeviceKind:
    """Turn "auto" / "cuda" / "mps" / "cpu" into a device that exists here.

    "auto" picks CUDA, then MPS, then the CPU. Asking for a device that is not there raises BackendError with
    a plain message (rather than failing later inside torch). "cuda:1"-style indices are not supported yet.
    """
    device = requested_device(requested)
    ensure_device_present(device)
    return device


def compute_dtype(device: DeviceKind):
    """The dtype to run unquantized layers in: bf16 where native, else fp16 on GPUs, fp32 on the CPU.

    The CPU gets float32: bf16 matmuls on CPUs without AMX are several times slower.
    """
    import torch

    if device == "cuda":
        return torch.bfloat16 if detect_device().supports_bfloat16 else torch.float16
    if device == "mps":
        return torch.float16
    return torch.float32


def free_device_memory(device: DeviceKind | str) -> None:
    """Run the garbage collector and hand cached GPU memory back to the driver (no-op on the CPU)."""
    import gc

    import torch

    gc.collect()
    if str(device).startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif str(device) == "mps" and mps_available():
        torch.mps.empty_cache()
