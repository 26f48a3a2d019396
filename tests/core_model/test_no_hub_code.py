"""No code from the hub: importing bitsandbytes (which asks ``kernels`` for a hub kernel on AVX512-BF16 CPUs) in a
Vidi process never reaches the network, and ``kernels.get_kernel`` refuses plainly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import core_model

REPO_ROOT = Path(core_model.__file__).resolve().parents[1]

_PROBE = """
import socket, sys
attempts = []
real_connect = socket.socket.connect
def connect(self, address):
    attempts.append(address)
    raise OSError("network blocked by the test")
socket.socket.connect = connect
real_getaddrinfo = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    attempts.append(host)
    raise OSError("network blocked by the test")
socket.getaddrinfo = getaddrinfo
import core_model
import bitsandbytes
from bitsandbytes.cextension import BNB_BACKEND
print("attempts:", attempts)
"""


def test_importing_bitsandbytes_in_a_vidi_process_reaches_no_hub(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    env.update(PYTHONPATH=str(REPO_ROOT), HF_HOME=str(tmp_path / "hf"))  # online, as a user's machine is
    result = subprocess.run([sys.executable, "-c", _PROBE], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "attempts: []" in result.stdout, result.stdout + result.stderr
    assert "Skipping publisher trust check" not in result.stderr


def test_get_kernel_refuses_without_touching_the_network():
    kernels = pytest.importorskip("kernels")
    from core_model.no_hub_code import HubKernelRefused

    with pytest.raises(HubKernelRefused, match="does not load kernels from the Hugging Face hub"):
        kernels.get_kernel("kernels-community/quantization-bitsandbytes", version=1)
    from kernels import get_kernel  # how bitsandbytes imports it

    with pytest.raises(HubKernelRefused):
        get_kernel("kernels-community/activation", version=1)
