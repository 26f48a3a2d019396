"""Model backends and the registry that picks one for a model folder or catalog id.

``load_backend(model, device=..., load_in_4bit=...)`` returns an unloaded Backend (call ``.load()``). A model
folder is recognised by its ``config.json``: each backend family claims the ``model_type`` values it runs.
Backend modules are imported lazily so that importing this package stays cheap (no torch).
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path

from core_model.errors import first_line
from core_model.backends.base import (  # noqa: F401  (re-exported API)
    AudioRef,
    Backend,
    BackendError,
    CancelToken,
    Capabilities,
    Conversation,
    GenerationOptions,
    ImageRef,
    MediaRef,
    MemoryEstimate,
    ModelLoadError,
    OutOfMemoryError,
    RunInfo,
    SegmentRef,
    Turn,
    UnsupportedMediaError,
)

DEFAULT_MODEL_ID = "gemma-4-e2b"
"""The small default (a catalog id): Gemma 4 E2B sees and hears, and fits small GPUs and the CPU. Used when no model
is named and none is on this machine yet (it may still have to be pulled: ``vidi models pull gemma-4-e2b``)."""

MODEL_ENV = "VIDI_MODEL"


def default_model_id(device_info=None) -> str:
    """The model to use when none is named.

    ``$VIDI_MODEL`` if set (a catalog id or a model folder); else the first model on this machine in the catalog's
    preferred order (for ``device_info``, a core_model.device.DeviceInfo, when given; else by catalog rank: no
    device detection here); else DEFAULT_MODEL_ID.
    """
    named = os.environ.get(MODEL_ENV, "").strip()
    if named:
        return named
    try:
        from core_model.models.choice import model_on_disk
        from core_model.models.manager import ModelManager

        return model_on_disk(ModelManager(), device_info) or DEFAULT_MODEL_ID
    except Exception:  # noqa: BLE001  an unreadable registry or cache: the fallback still names a model
        return DEFAULT_MODEL_ID


# model_type in a folder's config.json -> "module:Class". The generic image-text-to-text backend is the fallback.
_BACKEND_BY_MODEL_TYPE: dict[str, str] = {
    "vidi_videollama": "core_model.videollama.backend:VideoLlamaBackend",
    "qwen2_5_omni": "core_model.backends.qwen_omni:QwenOmniBackend",
    "qwen2_5_omni_thinker": "core_model.backends.qwen_omni:QwenOmniBackend",
    "gemma4": "core_model.backends.gemma4:Gemma4Backend",
}
_GENERIC_BACKEND = "core_model.backends.hf_image_text:ImageTextToTextBackend"


def backend_class_for(model_type: str) -> type:
    """The backend class that runs a folder whose config.json says ``model_type``."""
    target = _BACKEND_BY_MODEL_TYPE.get(model_type, _GENERIC_BACKEND)
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)


def resolve_model_path(model: str) -> Path:
    """A local model folder for ``model``: a folder path as given, or a catalog id already on disk."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    try:
        from core_model.models.manager import ModelManager  # the model manager, when present
    except ImportError:
        ModelManager = None  # noqa: N806
    if ModelManager is not None:
        local = ModelManager().local_path(model)
        if local is not None:
            return local
    raise ModelLoadError(
        f"Model '{model}' is not a folder and is not downloaded. "
        "Download it with 'vidi models pull ID' or give the path of a model folder."
    )


def read_model_type(folder: Path) -> str:
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelLoadError(f"'{folder}' is not a model folder: it has no config.json.")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"'{config_path}' cannot be read as JSON: {first_line(exc)}") from exc
    if not isinstance(config, dict):
        raise ModelLoadError(f"'{config_path}' is not a model configuration (not a JSON object).")
    return str(config.get("model_type", ""))


def load_backend(model: str, *, device: str = "auto", load_in_4bit: bool | None = None) -> Backend:
    """An unloaded backend for ``model`` (a folder path or catalog id).

    ``device``: "auto" (CUDA if present, else MPS, else CPU), "cuda", "mps" or "cpu".
    ``load_in_4bit``: None means the backend's default (4-bit NF4 on CUDA, unquantized elsewhere).
    A remote model is named ``remote+URL#MODEL`` (core_model.backends.remote_endpoint.remote_spec).
    """
    if model.startswith("remote+"):
        from core_model.backends.remote import load_remote_backend
        from core_model.backends.remote_endpoint import parse_remote_spec

        return load_remote_backend(*parse_remote_spec(model))
    folder = resolve_model_path(model)
    backend_class = backend_class_for(read_model_type(folder))
    return backend_class(folder, device=device, load_in_4bit=load_in_4bit)
