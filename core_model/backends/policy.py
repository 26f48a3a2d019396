"""The one device policy every local backend follows: which precision, 4-bit or not, which modules stay 16-bit.

    policy = load_policy("cuda", None, skip_modules=("model.visual", "lm_head"), weights_bytes_fp32=...)
    model = SomeModel.from_pretrained(folder, **policy.from_pretrained_kwargs())

- CUDA: 4-bit NF4 (bitsandbytes, double quantization) with the family's vision/audio towers, projections and LM
  head kept in 16-bit; compute in bf16 from Ampere (compute capability 8.0) on, fp16 before. Without bitsandbytes:
  16-bit, with a notice saying it needs about three times the memory.
- Apple MPS: unquantized fp16 (bitsandbytes does not run there).
- CPU: float32 (bf16 matrix products are several times slower on CPUs without AMX), unless the float32 weights
  would take more than half of the RAM available now: then bfloat16, which halves them. Always with a notice that
  answers will be slow. 4-bit on the CPU only when asked for (tests, tiny machines).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from core_model.device import CPU_NOTICE, DeviceKind, bitsandbytes_available, compute_dtype

NO_BITSANDBYTES_NOTICE = (
    "The 'bitsandbytes' package is not installed, so the model is loaded in 16-bit: it needs about three times "
    "the GPU memory of 4-bit."
)

CPU_RAM_SHARE_FOR_FP32 = 0.5
"""float32 weights may take at most this share of the available RAM; above it the CPU runs bfloat16."""


@dataclass(frozen=True)
class LoadPolicy:
    """How a model is loaded on ``device``: compute ``dtype``, 4-bit or not, which modules stay 16-bit, a notice."""

    device: DeviceKind
    dtype: Any
    load_in_4bit: bool
    skip_modules: tuple[str, ...]
    notice: str = ""

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).removeprefix("torch.")

    @property
    def dtype_bytes(self) -> int:
        return 4 if self.dtype_name == "float32" else 2

    def describe(self) -> str:
        """e.g. "4-bit on the CUDA" / "bfloat16 on the CPU"."""
        return f"{'4-bit' if self.load_in_4bit else self.dtype_name} on the {self.device.upper()}"

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


def load_policy(
    device: DeviceKind,
    load_in_4bit: bool | None,
    skip_modules: Sequence[str],
    *,
    weights_bytes_fp32: int | None = None,
    host_available_bytes: int | None = None,
) -> LoadPolicy:
    """The policy for ``device`` (module docstring).

    ``load_in_4bit``: None = the default (4-bit on CUDA when bitsandbytes is installed); True forces it (CUDA or
    CPU; ModelLoadError on MPS or without bitsandbytes); False forces 16/32-bit. ``weights_bytes_fp32``: the
    model's weights in float32 (from the safetensors headers) and ``host_available_bytes`` the RAM free now, for
    the CPU's choice between float32 and bfloat16 (float32 when either is unknown).
    """
    import torch

    from core_model.backends.quantization import use_4bit

    notice = ""
    if device == "cuda" and load_in_4bit is None and not bitsandbytes_available():
        quantize, notice = False, NO_BITSANDBYTES_NOTICE
    else:
        quantize = use_4bit(device, load_in_4bit)
    if device == "cpu":
        dtype, notice = torch.float32, CPU_NOTICE
        too_big = (weights_bytes_fp32 is not None and host_available_bytes is not None
                   and weights_bytes_fp32 > CPU_RAM_SHARE_FOR_FP32 * host_available_bytes)
        if quantize or too_big:
            dtype = torch.bfloat16
    elif device == "mps":
        dtype = torch.float16
    else:
        dtype = compute_dtype(device)
    return LoadPolicy(device=device, dtype=dtype, load_in_4bit=quantize, skip_modules=tuple(skip_modules),
                      notice=notice)
