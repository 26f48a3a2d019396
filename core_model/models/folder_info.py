"""What a model folder is, read from its files alone: whether Vidi can run it, what it takes, the memory it needs.

    info = inspect_model_folder("/models/my-smolvlm")
    info.problem                 # "" when Vidi can run it, else one line for the user
    info.capabilities            # Capabilities(video, audio, image) from its model_type (None when unknown)
    info.memory_4bit_bytes       # weights + KV cache + working memory under 4-bit on a GPU (None when unknown)

Cheap and torch-free, so the GUI may call it on its own thread: config.json is read, parameters are counted from
the safetensors headers (a few KB per file), and the model types the generic backend runs are read from
transformers' source as text (importing transformers would import torch). A folder with only ``.bin`` weights gets
``None`` memory figures: counting those needs torch (``vidi models plan`` does it).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core_model.backends.base import Capabilities

log = logging.getLogger(__name__)

_AUDIO_VISUAL = Capabilities(video=True, audio=True, image=True)
_VISUAL = Capabilities(video=True, audio=False, image=True)

CAPABILITIES_BY_MODEL_TYPE: dict[str, Capabilities] = {
    "vidi_videollama": _AUDIO_VISUAL,
    "qwen2_5_omni": _AUDIO_VISUAL,
    "qwen2_5_omni_thinker": _AUDIO_VISUAL,
    "gemma4": _AUDIO_VISUAL,
}
"""The model types with a backend of their own (core_model.backends registry) and what those backends take. Every
other image-text-to-text model type runs on the generic backend, which sees video and images but hears nothing."""

_MAPPING_NAME = "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES"


@dataclass(frozen=True)
class ModelFolderInfo:
    folder: Path
    model_type: str = ""
    capabilities: Capabilities | None = None
    memory_4bit_bytes: int | None = None
    memory_16bit_bytes: int | None = None
    problem: str = ""  # "" when Vidi can run the folder

    @property
    def runnable(self) -> bool:
        return not self.problem

    @property
    def capability_names(self) -> list[str]:
        """["video", "audio", "image"] filtered to what the model takes ([] when unknown)."""
        caps = self.capabilities
        if caps is None:
            return []
        return [name for name, flag in (("video", caps.video), ("audio", caps.audio), ("image", caps.image)) if flag]


@lru_cache(maxsize=1)
def image_text_to_text_model_types() -> frozenset[str]:
    """The model types transformers' AutoModelForImageTextToText loads, read from its source without importing it
    (empty when transformers is not installed or its source has another shape)."""
    try:
        spec = importlib.util.find_spec("transformers")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return frozenset()
    source_path = Path(list(spec.submodule_search_locations)[0]) / "models" / "auto" / "modeling_auto.py"
    try:
        tree = ast.parse(source_path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return frozenset()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == _MAPPING_NAME for t in node.targets):
            try:
                pairs = ast.literal_eval(node.value.args[0])  # OrderedDict([(model_type, class_name), ...])
                return frozenset(str(model_type) for model_type, _cls in pairs)
            except (AttributeError, IndexError, ValueError, TypeError):
                break
    log.info("could not read %s from %s", _MAPPING_NAME, source_path)
    return frozenset()


def capabilities_for_model_type(model_type: str) -> Capabilities | None:
    """What Vidi's backend for ``model_type`` takes; None when no backend runs that model type."""
    if model_type in CAPABILITIES_BY_MODEL_TYPE:
        return CAPABILITIES_BY_MODEL_TYPE[model_type]
    known = image_text_to_text_model_types()
    if model_type and (model_type in known or not known):  # transformers' list unreadable: let the load decide
        return _VISUAL
    return None


def _read_config(folder: Path) -> tuple[dict | None, str]:
    path = folder / "config.json"
    if not path.is_file():
        return None, f"'{folder.name}' is not a model folder: it has no config.json."
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return None, f"The config.json in '{folder.name}' cannot be read: {str(exc).splitlines()[0]}."
    if not isinstance(config, dict):
        return None, f"The config.json in '{folder.name}' is not a model configuration (it holds no settings)."
    return config, ""


def _memory_bytes(folder: Path, model_type: str) -> tuple[int | None, int | None]:
    """(4-bit on a GPU, 16-bit) estimates from the safetensors headers; (None, None) without safetensors."""
    if not any(folder.glob("*.safetensors")):
        return None, None  # counting .bin weights would need torch (a meta-device build)
    from core_model.backends.memory import estimate_memory
    from core_model.backends.quantization import skip_modules_for

    try:
        four_bit = estimate_memory(folder, device="cuda", load_in_4bit=True, dtype_bytes=2,
                                   unquantized_modules=skip_modules_for(model_type))
        sixteen_bit = estimate_memory(folder, device="cuda", load_in_4bit=False, dtype_bytes=2)
    except Exception:  # noqa: BLE001  an unreadable header: the figure is unknown, the folder may still load
        log.info("no memory estimate for %s", folder, exc_info=True)
        return None, None
    return four_bit.total_bytes, sixteen_bit.total_bytes


def inspect_model_folder(folder: str | Path, *, with_memory: bool = True) -> ModelFolderInfo:
    """Read ``folder``'s config.json (and safetensors headers): can Vidi run it, what does it take and need."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        return ModelFolderInfo(folder, problem=f"'{folder}' is not a folder.")
    config, problem = _read_config(folder)
    if config is None:
        return ModelFolderInfo(folder, problem=problem)
    model_type = str(config.get("model_type", "") or "")
    if not model_type:
        return ModelFolderInfo(folder, problem=f"The config.json in '{folder.name}' names no model_type: "
                                               "Vidi cannot tell which model this is.")
    capabilities = capabilities_for_model_type(model_type)
    if capabilities is None:
        return ModelFolderInfo(folder, model_type, problem=(
            f"'{folder.name}' holds a '{model_type}' model, which Vidi cannot run: it needs a vision-language "
            "(image-text-to-text) model, Qwen2.5-Omni, Gemma 4 or a converted Video-LLaMA."))
    memory_4bit, memory_16bit = _memory_bytes(folder, model_type) if with_memory else (None, None)
    return ModelFolderInfo(folder, model_type, capabilities, memory_4bit, memory_16bit)
