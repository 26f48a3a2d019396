"""What the Vidi bundle leaves out: used by vidi.spec on every OS, and unit-tested in tests/packaging/.

``keep(path, flavour, torch_cuda)`` says whether a file, named by its path inside the bundle ("/"-separated, e.g.
``torch/lib/libtorch_cuda.so``), goes into the app folder. ``unused_qt_modules(gui_sources)`` lists the PySide6
modules to exclude, less any that Vidi's GUI code imports.
"""

from __future__ import annotations

import re
from fnmatch import fnmatch

# Files no Vidi run opens, in every flavour.
DROP_ALWAYS = (
    "triton/*",  # torch's GPU kernel compiler: unused at inference (torch runs without it)
    "*/include/*", "*.a", "*.lib", "*.h", "*.hpp", "*.cuh", "*.cmake", "*.pyi", "*.bc",  # build-time files
    "torch/share/*", "torch/test/*", "torch/bin/protoc*", "torch/bin/test_*", "caffe2/*", "torchgen/packaged/*",
    "cv2/data/*",  # OpenCV's Haar cascades
    "*/tests/*", "*/testing/data/*",
    "PySide6/Qt/qml/*", "PySide6/qml/*", "PySide6/Qt/plugins/qmltooling/*", "PySide6/plugins/qmltooling/*",
    "PySide6/Qt/plugins/designer/*", "PySide6/plugins/designer/*",
    # CUDA libraries torch never loads (BLAS shim, multi-GPU solver, FFTW API, GPUDirect RDMA, profiler host libs,
    # nvshmem's MPI/InfiniBand transports, the alternative NVRTC build)
    "nvidia/*/libnvblas*", "nvidia/*/libcusolverMg*", "nvidia/*/libcufftw*", "nvidia/*/libcufile_rdma*",
    "nvidia/*/libcheckpoint*", "nvidia/*/libnvperf_*", "nvidia/*/libpcsamplingutil*", "nvidia/*.alt.so*",
    "nvidia/nvshmem/lib/nvshmem_bootstrap_*", "nvidia/nvshmem/lib/nvshmem_transport_*", "nvidia/*/bin/*",
    # bitsandbytes builds for other GPU vendors
    "bitsandbytes/*rocm*", "bitsandbytes/*xpu*",
)
# And in the CPU flavour: anything CUDA.
DROP_CPU = ("nvidia/*", "bitsandbytes/*cuda*")

# PySide6 modules Vidi does not use (WebEngine alone is several hundred MB).
UNUSED_QT = (
    "QtWebEngineCore", "QtWebEngineWidgets", "QtWebEngineQuick", "QtWebChannel", "QtWebSockets", "QtWebView",
    "Qt3DCore", "Qt3DRender", "Qt3DInput", "Qt3DLogic", "Qt3DAnimation", "Qt3DExtras",
    "QtQml", "QtQuick", "QtQuick3D", "QtQuickControls2", "QtQuickWidgets", "QtQuickTest",
    "QtCharts", "QtDataVisualization", "QtGraphs", "QtGraphsWidgets", "QtPdf", "QtPdfWidgets",
    "QtBluetooth", "QtNfc", "QtPositioning", "QtLocation", "QtSensors", "QtSerialPort", "QtSerialBus",
    "QtSql", "QtTest", "QtDesigner", "QtHelp", "QtUiTools", "QtXml", "QtRemoteObjects", "QtScxml",
    "QtStateMachine", "QtSpatialAudio", "QtTextToSpeech", "QtHttpServer", "QtNetworkAuth", "QtAxContainer",
    "QtCanvasPainter",
)

# Python packages never imported by the app (test tools, notebooks, other frameworks, build tools).
EXCLUDED_MODULES = (
    "triton",
    "tkinter", "_tkinter", "matplotlib", "IPython", "jupyter", "notebook", "pandas", "scipy", "sklearn",
    "tensorflow", "tensorboard", "jax", "flax", "onnx", "onnxruntime",
    "pytest", "_pytest", "pytestqt", "pytest_qt", "pytest_timeout", "hypothesis", "tests",
    "setuptools", "pkg_resources", "distutils", "pip",
    "torch.utils.tensorboard", "torch.utils.cpp_extension", "torch.utils.benchmark",
    "PyQt5", "PyQt6", "PySide2",
)


def bnb_cuda_tag(torch_cuda: str | None) -> str | None:
    """bitsandbytes' library tag for torch's CUDA version: "13.0" -> "cuda130"."""
    return f"cuda{torch_cuda.replace('.', '')}" if torch_cuda else None


def keep(path: str, flavour: str, torch_cuda: str | None) -> bool:
    """Whether the bundle keeps the file at ``path`` (its place inside the bundle)."""
    path = path.replace("\\", "/")
    patterns = DROP_ALWAYS + (DROP_CPU if flavour == "cpu" else ())
    if any(fnmatch(path, pattern) for pattern in patterns):
        return False
    match = re.search(r"bitsandbytes/libbitsandbytes_(cuda\d+)", path)
    if match and match.group(1) != bnb_cuda_tag(torch_cuda):
        return False  # one CUDA build of bitsandbytes: the one matching torch's CUDA
    return True


def unused_qt_modules(gui_sources: str) -> list[str]:
    """``PySide6.X`` module names to exclude: UNUSED_QT less those ``gui_sources`` (Python text) mentions."""
    used = set(re.findall(r"PySide6\.(Qt\w+)", gui_sources))
    for names in re.findall(r"from\s+PySide6\s+import\s+\(?([\w\s,]+)", gui_sources):
        used.update(name.strip() for name in names.split(","))
    return [f"PySide6.{name}" for name in UNUSED_QT if name not in used]


# ---------------------------------------------------------------------------------------------------------------
# What goes in on top of what PyInstaller's hooks find (tests/packaging/test_bundle_rules.py checks these lists
# against the installed runtime dependencies, so a new dependency with data files cannot be forgotten).
# ---------------------------------------------------------------------------------------------------------------

# Distributions whose metadata (dist-info) is bundled: transformers, accelerate and huggingface_hub look versions up
# with importlib.metadata at run time ("is X available"), and a missing one reads as "not installed".
METADATA_DISTS = (
    "vidi", "torch", "torchvision", "torchaudio", "transformers", "accelerate", "bitsandbytes", "huggingface_hub",
    "tokenizers", "safetensors", "PySide6_Essentials", "PySide6_Addons", "av", "decord", "opencv-python-headless",
    "numpy", "pillow", "platformdirs", "num2words", "sentencepiece", "protobuf", "kernels", "sounddevice", "psutil",
    "openai", "keyring",
)

# import name -> why its package data is collected (no PyInstaller hook does it).
COLLECT_DATA = {
    "kernels": "transformers >= 5.25 imports it; it reads kernels/_internals/python_depends.json on import "
               "(a built app without it fails: 'Cannot load dependency data, is `kernels` correctly installed?')",
    "sentencepiece": "package_data/*.bin: the normalisation rules of tokenizer.model files (LLaMA-2's)",
}

# Distributions that ship data files whose data the build does not collect here, and why.
DATA_BY_HOOKS = ("torch", "numpy", "pyside6-essentials", "pyside6-addons", "shiboken6")  # PyInstaller's hooks
DATA_NOT_READ = {
    "markdown-it-py": "port.yaml: provenance of the port, never read",
    "pycparser": "_c_ast.cfg: read only when pycparser's AST module is generated",
    "tokenizers": "a CSS file for the notebook visualiser",
    "tqdm": "shell completion and a man page",
    "keyring": "shell completion scripts for its command line, never read",
    "openai": "lib/.keep, an empty placeholder",
    "huggingface-hub": "model/dataset card templates (card writing, not used)",
    "sympy": "a grammar file of a parser generator and test examples",
    "setuptools": "a build tool (EXCLUDED_MODULES)",
    "triton": "left out (DROP_ALWAYS)",
    "cuda-bindings": "Cython include files (.pxi)",
    "nvidia-nvshmem-cu13": "static libraries and bitcode (DROP_ALWAYS)",
    "nvidia-nccl-cu13": "bitcode (DROP_ALWAYS)",
    "networkx": "the graph atlas of networkx.generators.atlas (torch never calls it)",
}
