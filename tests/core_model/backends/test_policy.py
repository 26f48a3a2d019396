"""The one device policy (core_model.backends.policy) every local backend loads with."""

import torch

from core_model.backends.qwen_omni import QwenOmniBackend
from core_model.device import CPU_NOTICE


def test_device_policy_per_device(monkeypatch):
    from core_model.backends import policy as omni

    monkeypatch.setattr(omni, "compute_dtype", lambda device: torch.bfloat16)
    monkeypatch.setattr(omni, "bitsandbytes_available", lambda: True)
    monkeypatch.setattr("core_model.backends.quantization.bitsandbytes_available", lambda: True)
    skip = QwenOmniBackend.skip_modules

    cuda = omni.load_policy("cuda", None, skip)
    kwargs = cuda.from_pretrained_kwargs()
    assert cuda.load_in_4bit and not cuda.notice and kwargs["device_map"] == {"": 0}
    quantization = kwargs["quantization_config"]
    assert quantization.bnb_4bit_quant_type == "nf4" and quantization.bnb_4bit_use_double_quant
    assert quantization.llm_int8_skip_modules == ["model.visual", "model.audio_tower", "lm_head"]

    mps = omni.load_policy("mps", None, skip)
    assert not mps.load_in_4bit and mps.dtype == torch.float16 and mps.from_pretrained_kwargs()["device_map"] == {
        "": "mps"
    }
    cpu = omni.load_policy("cpu", None, skip)
    assert not cpu.load_in_4bit and cpu.dtype == torch.float32 and cpu.notice == CPU_NOTICE
    # float32 weights over half the free RAM: bfloat16 halves them
    big = omni.load_policy("cpu", None, skip, weights_bytes_fp32=12 * 2**30, host_available_bytes=16 * 2**30)
    assert big.dtype == torch.bfloat16 and big.dtype_bytes == 2
    small = omni.load_policy("cpu", None, skip, weights_bytes_fp32=4 * 2**30, host_available_bytes=16 * 2**30)
    assert small.dtype == torch.float32 and small.dtype_bytes == 4

    monkeypatch.setattr(omni, "bitsandbytes_available", lambda: False)
    without_bnb = omni.load_policy("cuda", None, skip)
    assert not without_bnb.load_in_4bit and "bitsandbytes" in without_bnb.notice
