"""inspect_model_folder: what a folder is, read from its files, without torch (the GUI calls it on its own thread)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core_model.models.folder_info import (
    capabilities_for_model_type,
    image_text_to_text_model_types,
    inspect_model_folder,
)

ROOT = Path(__file__).resolve().parents[3]


def test_the_generic_backends_model_types_are_read_from_transformers_source():
    types = image_text_to_text_model_types()
    assert {"qwen2_vl", "smolvlm", "llava_onevision"} <= types
    assert "bert" not in types
    assert capabilities_for_model_type("smolvlm").audio is False
    assert capabilities_for_model_type("qwen2_5_omni").audio is True
    assert capabilities_for_model_type("bert") is None


@pytest.mark.parametrize("config, problem", [
    (None, "no config.json"),
    ("[1, 2]", "not a model configuration"),
    ({"hidden_size": 4}, "names no model_type"),
    ({"model_type": "bert"}, "which Vidi cannot run"),
])
def test_folders_vidi_cannot_run_say_why_in_one_line(tmp_path, config, problem):
    folder = tmp_path / "f"
    folder.mkdir()
    if isinstance(config, str):
        (folder / "config.json").write_text(config)
    elif config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    info = inspect_model_folder(folder)
    assert problem in info.problem and "\n" not in info.problem and not info.runnable


def test_a_tiny_model_folder_gets_its_inputs_and_memory(tiny_vlm_dir):
    info = inspect_model_folder(tiny_vlm_dir)
    assert info.runnable and info.model_type == "qwen2_vl"
    assert info.capability_names == ["video", "image"]
    assert info.memory_4bit_bytes and info.memory_16bit_bytes and info.memory_4bit_bytes <= info.memory_16bit_bytes


def test_inspecting_imports_neither_torch_nor_transformers(tiny_vlm_dir):
    code = ("import sys; from core_model.models.folder_info import inspect_model_folder as f; "
            f"i = f({str(tiny_vlm_dir)!r}); assert i.runnable and i.memory_4bit_bytes, i; "
            "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]"
