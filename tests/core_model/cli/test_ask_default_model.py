"""``vidi ask`` without --model and without $VIDI_MODEL: the best model on disk, or one line naming the one to pull."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import core_model
from core_model.cli import main
from core_model.device import DeviceInfo
from core_model.models import ModelManager
from core_model.models.choice import model_on_disk, models_on_disk, recommendation_for

REPO_ROOT = Path(core_model.__file__).resolve().parents[1]
CPU = DeviceInfo(kind="cpu", name="CPU")


@pytest.fixture
def empty_machine(tmp_path, monkeypatch):
    """No model registered and an empty Hugging Face cache (this process and its children)."""
    from huggingface_hub import constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setenv("VIDI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("VIDI_MODEL", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    return tmp_path


def test_no_model_on_disk_says_which_to_pull_in_one_line_and_exits_2(empty_machine, image_png):
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "core_model.cli", "ask", "--image", str(image_png), "--device", "cpu", "What is it?"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    expected = recommendation_for(CPU).entry  # the same machine's RAM decides, in the child and here
    assert lines[0].startswith("vidi: error: no model on this machine yet")
    assert f"'vidi models pull {expected.id}'" in lines[0]
    assert expected.name in lines[0] and "--model" in lines[0]


def test_without_model_the_first_model_on_disk_in_the_preferred_order_is_used(empty_machine, tiny_vlm_dir,
                                                                              image_png, capsys):
    manager = ModelManager()
    manager.import_folder(tiny_vlm_dir, id="my-tiny")
    assert model_on_disk(manager, CPU) == "my-tiny"
    # the tiny model answers (random weights): the command ran it, found without --model
    assert main(["ask", "--image", str(image_png), "--device", "cpu", "--max-new-tokens", "3", "--json", "q"]) == 0
    assert '"model": "my-tiny"' in capsys.readouterr().out


def test_catalog_models_on_disk_come_in_the_devices_order_before_imported_ids(empty_machine, tiny_vlm_dir):
    from core_model.models.catalog import preference_order

    manager = ModelManager()
    order = [e.id for e in preference_order(CPU, ram_bytes=16 << 30)]
    # two catalog ids (a copy made elsewhere, imported under the catalog's id) and one id of its own
    later, sooner = order[3], order[1]
    for model_id in ("zz-own", later, sooner):
        manager.import_folder(tiny_vlm_dir, id=model_id)
    assert [s.id for s in models_on_disk(manager, CPU, ram_bytes=16 << 30)] == [sooner, later, "zz-own"]
    assert model_on_disk(manager, CPU, ram_bytes=16 << 30) == sooner


def test_vidi_model_still_wins(empty_machine, monkeypatch):
    from core_model.backends import DEFAULT_MODEL_ID, default_model_id

    assert default_model_id() == DEFAULT_MODEL_ID  # nothing on disk: the small default
    monkeypatch.setenv("VIDI_MODEL", "/some/folder")
    assert default_model_id() == "/some/folder"
