"""What the PyInstaller bundle keeps and leaves out (packaging/pyinstaller/bundle_rules.py, used by vidi.spec)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _rules():
    spec = importlib.util.spec_from_file_location("bundle_rules", ROOT / "packaging/pyinstaller/bundle_rules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rules = _rules()

KEPT_BY_BOTH = [
    "torch/lib/libtorch_cpu.so",
    "torch/lib/libc10.so",
    "PySide6/Qt/plugins/multimedia/libffmpegmediaplugin.so",
    "PySide6/Qt/plugins/platforms/libqxcb.so",
    "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/imageformats/libqwebp.so",
    "PySide6/Qt/lib/libavcodec.so.63",
    "resources/icons/app.svg",
    "transformers/models/qwen2_vl/modeling_qwen2_vl.py",
    "bitsandbytes/libbitsandbytes_cpu.so",
    "decord/libdecord.so",
    "torch\\lib\\torch_cpu.dll",
]
KEPT_BY_CUDA = [
    "torch/lib/libtorch_cuda.so",
    "nvidia/cu13/lib/libcublasLt.so.13",
    "nvidia/cu13/lib/libnvrtc-builtins.so.13.0",
    "nvidia/cudnn/lib/libcudnn_engines_precompiled.so.9",
    "nvidia/nccl/lib/libnccl.so.2",
    "nvidia/nvshmem/lib/libnvshmem_host.so.3",
    "bitsandbytes/libbitsandbytes_cuda130.so",
]
DROPPED_BY_BOTH = [
    "triton/backends/nvidia/bin/ptxas",
    "torch/include/ATen/ATen.h",
    "nvidia/cu13/include/cuda.h",
    "nvidia/cu13/lib/libcudart_static.a",
    "nvidia/cu13/lib/libnvblas.so.13",
    "nvidia/cu13/lib/libcusolverMg.so.12",
    "nvidia/cu13/lib/libnvrtc.alt.so.13",
    "nvidia/nvshmem/lib/nvshmem_transport_ibrc.so.3",
    "torch/share/cmake/Torch/TorchConfig.cmake",
    "torch\\lib\\torch_cpu.lib",
    "bitsandbytes/libbitsandbytes_rocm64.so",
    "bitsandbytes/libbitsandbytes_cuda128.so",
    "cv2/data/haarcascade_frontalface_default.xml",
    "PySide6/Qt/qml/QtQuick/Controls/libqtquickcontrols2plugin.so",
    "numpy/_core/tests/test_api.py",
]


@pytest.mark.parametrize("path", KEPT_BY_BOTH + KEPT_BY_CUDA)
def test_cuda_flavour_keeps(path):
    assert rules.keep(path, "cuda", "13.0")


@pytest.mark.parametrize("path", KEPT_BY_BOTH)
def test_cpu_flavour_keeps(path):
    assert rules.keep(path, "cpu", None)


@pytest.mark.parametrize("path", DROPPED_BY_BOTH)
def test_both_flavours_drop(path):
    assert not rules.keep(path, "cuda", "13.0")
    assert not rules.keep(path, "cpu", None)


@pytest.mark.parametrize("path", KEPT_BY_CUDA)
def test_cpu_flavour_drops_cuda(path):
    if path.startswith("torch/"):
        pytest.skip("a CPU-only torch wheel has no libtorch_cuda to drop")
    assert not rules.keep(path, "cpu", None)


def test_unused_qt_modules_spare_what_the_gui_imports():
    sources = "from PySide6.QtSvg import QSvgRenderer\nfrom PySide6 import QtOpenGL, QtQuick\n"
    excluded = rules.unused_qt_modules(sources)
    assert "PySide6.QtWebEngineCore" in excluded and "PySide6.Qt3DCore" in excluded
    assert "PySide6.QtQuick" not in excluded  # imported above, so kept
    assert not any(name in excluded for name in ("PySide6.QtMultimedia", "PySide6.QtWidgets", "PySide6.QtSvg"))


def test_gui_imports_no_excluded_qt_module():
    """If the GUI starts importing e.g. QtQuick, the spec keeps it; this test says so, so the size table is redone."""
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "desktop_app").rglob("*.py"))
    spared = sorted(set(f"PySide6.{n}" for n in rules.UNUSED_QT) - set(rules.unused_qt_modules(sources)))
    assert spared == [], f"desktop_app imports {spared}: remove them from bundle_rules.UNUSED_QT"
