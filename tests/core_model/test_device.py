"""Device resolution and the 4-bit configuration. These tests look at what the machine has (a GPU or not): the
suite passes on the GPU-less development machine and on one with an NVIDIA GPU. Behaviour without a GPU is also
checked on a GPU machine, by making torch report none."""

import pytest
import torch

from core_model.backends import BackendError, ModelLoadError
from core_model.backends.quantization import nf4_config, use_4bit
from core_model.device import compute_dtype, detect_device, resolve_device


def _best_device_here() -> str:
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else "cpu"


@pytest.fixture
def no_gpu(monkeypatch):
    """torch reports no CUDA GPU and no MPS, whatever the machine has."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if getattr(torch.backends, "mps", None) is not None:
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_auto_picks_the_best_device_that_is_here():
    here = _best_device_here()
    assert resolve_device("auto") == here and resolve_device("CPU") == "cpu"
    info = detect_device()
    assert info.kind == here
    if here == "cuda":
        assert info.compute_capability is not None and info.total_memory_bytes > 0
        assert info.name == torch.cuda.get_device_name(0)
    elif here == "cpu":
        assert info.supports_bfloat16 and info.compute_capability is None
    assert compute_dtype("cpu") == torch.float32


def test_without_a_gpu_auto_is_the_cpu_and_cuda_is_refused(no_gpu):
    assert resolve_device("auto") == "cpu"
    with pytest.raises(BackendError, match="no usable NVIDIA GPU"):
        resolve_device("cuda")
    with pytest.raises(BackendError, match="Unknown device 'tpu'"):
        resolve_device("tpu")
    info = detect_device()
    assert info.kind == "cpu" and info.supports_bfloat16 and info.compute_capability is None


def test_four_bit_defaults_and_refusals():
    assert use_4bit("cuda", None) is True and use_4bit("cpu", None) is False
    assert use_4bit("cpu", True) is True and use_4bit("cuda", False) is False
    with pytest.raises(ModelLoadError, match="MPS"):
        use_4bit("mps", True)


def test_nf4_config_is_the_qlora_recipe():
    config = nf4_config(skip_modules=["lm_head"])
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4" and config.bnb_4bit_use_double_quant
    assert config.bnb_4bit_compute_dtype == torch.bfloat16 and config.llm_int8_skip_modules == ["lm_head"]


def test_a_backend_built_for_an_absent_gpu_plans_but_does_not_load(tiny_vlm_dir, no_gpu):
    from core_model.backends import BackendError, load_backend

    backend = load_backend(str(tiny_vlm_dir), device="cuda", load_in_4bit=True)
    assert backend.memory_estimate().device == "cuda" and backend.memory_estimate().total_bytes > 0
    with pytest.raises(BackendError, match="no usable NVIDIA GPU"):
        backend.load()
