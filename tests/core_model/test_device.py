"""Device resolution and the 4-bit configuration, on this GPU-less machine."""

import pytest
import torch

from core_model.backends import BackendError, ModelLoadError
from core_model.backends.quantization import nf4_config, use_4bit
from core_model.device import compute_dtype, detect_device, resolve_device


def test_auto_picks_the_cpu_here_and_missing_devices_are_refused():
    assert not torch.cuda.is_available()  # this test describes the GPU-less development machine
    assert resolve_device("auto") == "cpu" and resolve_device("CPU") == "cpu"
    with pytest.raises(BackendError, match="no usable NVIDIA GPU"):
        resolve_device("cuda")
    with pytest.raises(BackendError, match="Unknown device 'tpu'"):
        resolve_device("tpu")
    info = detect_device()
    assert info.kind == "cpu" and info.supports_bfloat16 and info.compute_capability is None
    assert compute_dtype("cpu") == torch.float32


def test_four_bit_defaults_and_refusals():
    assert use_4bit("cuda", None) is True and use_4bit("cpu", None) is False
    assert use_4bit("cpu", True) is True and use_4bit("cuda", False) is False
    with pytest.raises(ModelLoadError, match="MPS"):
        use_4bit("mps", True)


def test_nf4_config_is_the_qlora_recipe():
    config = nf4_config(skip_modules=["lm_head"])
    assert config.load_in_4bit and config.bnb_4bit_quant_type == "nf4" and config.bnb_4bit_use_double_quant
    assert config.bnb_4bit_compute_dtype == torch.bfloat16 and config.llm_int8_skip_modules == ["lm_head"]


def test_a_backend_built_for_an_absent_gpu_plans_but_does_not_load(tiny_vlm_dir):
    from core_model.backends import BackendError, load_backend

    backend = load_backend(str(tiny_vlm_dir), device="cuda", load_in_4bit=True)
    assert backend.memory_estimate().device == "cuda" and backend.memory_estimate().total_bytes > 0
    with pytest.raises(BackendError, match="no usable NVIDIA GPU"):
        backend.load()
