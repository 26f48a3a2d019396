"""``vidi models ...`` end to end through core_model.cli.main, with the manager on a fake hub (no network)."""

import json

import numpy as np
import pytest

from core_model.cli import main
from core_model.cli import models as cli_models
from core_model.device import DeviceInfo
from core_model.models import ModelManager, recommend
from core_model.models.manager import PullProgress
from tests.core_model.models.fakehub import FakeHub, tiny_model_files

MODEL_ID = "smolvlm2-256m"


@pytest.fixture
def manager(tmp_path, monkeypatch):
    hub = FakeHub(tmp_path / "fakehub")
    hub.add_repo("HuggingFaceTB/SmolVLM2-256M-Video-Instruct", tiny_model_files())
    manager = ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "cache", downloader=hub,
                           free_space=lambda path: 10**12)
    monkeypatch.setattr(cli_models, "manager_factory", lambda: manager)
    monkeypatch.setattr(cli_models, "_detect_device", lambda: DeviceInfo(
        kind="cuda", name="Fake RTX", total_memory_bytes=8 << 30, compute_capability=(8, 6),
        bitsandbytes_available=True))
    return manager


def test_list_marks_the_recommended_model_and_states(manager, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[1] if line.startswith("*") else line.split()[0]: line
             for line in out.splitlines() if line.strip()}
    choice = recommend(cli_models._detect_device())  # 8 GiB GPU with bitsandbytes
    assert choice.entry.capabilities.audio  # Gemma 4's per-layer table stays in RAM: an omni model fits 8 GB
    assert lines[choice.entry.id].startswith("*")
    assert sum(line.startswith("*") for line in lines.values()) == 1
    assert "video+audio+image" in lines["qwen2.5-omni-7b"] and "22.4 GB" in lines["qwen2.5-omni-7b"]
    assert "build-locally" in lines["videollama2-7b"]
    assert "Fake RTX, 8.6 GB, compute capability 8.6, 4-bit available" in out
    assert f"Recommended (*): {choice.entry.name} fits" in out


def test_pull_prints_a_progress_bar_with_bytes_and_speed(manager, capsys):
    assert main(["models", "pull", MODEL_ID]) == 0
    captured = capsys.readouterr()
    assert "[" in captured.err and "KB" in captured.err and "/s" in captured.err
    assert captured.err.strip().splitlines()[-1].startswith("[" + "#" * 28 + "] 100%")
    assert MODEL_ID in captured.out and str(manager.local_path(MODEL_ID)) in captured.out
    assert main(["models", "list"]) == 0
    assert "downloaded" in capsys.readouterr().out


def test_progress_line_format():
    line = cli_models.format_progress(PullProgress("m", "model.safetensors", 4_900_000_000, 10_200_000_000,
                                                   21_300_000, 0, 2), width=10)
    assert line == "[#####-----]  48%  4.9 GB / 10.2 GB  21 MB/s  ETA 4m08s  model.safetensors"


def test_pull_errors_are_one_line_and_exit_2(manager, capsys):
    assert main(["models", "pull", "videollama2-7b"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vidi: error:") and "vidi convert videollama" in err and err.count("\n") == 1
    assert main(["models", "pull", "nope"]) == 2
    assert "Unknown model 'nope'" in capsys.readouterr().err


def test_import_then_rm_keeps_the_folder(manager, tmp_path, capsys):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "smolvlm"}))
    (folder / "model.safetensors").write_bytes(b"x" * 10)
    assert main(["models", "import", str(folder), "--id", "my-model"]) == 0
    assert "Imported 'my-model'" in capsys.readouterr().out
    assert main(["models", "rm", "my-model"]) == 0
    assert "left as it is" in capsys.readouterr().out
    assert (folder / "model.safetensors").is_file()
    assert main(["models", "import", str(tmp_path / "nowhere")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_rm_of_a_pulled_model(manager, capsys):
    main(["models", "pull", MODEL_ID])
    capsys.readouterr()
    assert main(["models", "rm", MODEL_ID]) == 0
    assert "freeing" in capsys.readouterr().out
    assert manager.local_path(MODEL_ID) is None


def test_plan_of_a_catalog_model_not_downloaded_prints_the_catalog_figure(manager, capsys):
    assert main(["models", "plan", "qwen2.5-omni-7b"]) == 0
    out = capsys.readouterr().out
    assert "not on this machine" in out and "9.5 GB" in out and "19.5 GB" in out


def test_plan_of_a_folder_prints_each_part_and_the_total(tmp_path, manager, capsys):
    from safetensors.numpy import save_file

    folder = tmp_path / "tiny"
    folder.mkdir()
    config = {"model_type": "smolvlm", "text_config": {"hidden_size": 64, "num_hidden_layers": 2,
                                                       "num_attention_heads": 4, "num_key_value_heads": 2}}
    (folder / "config.json").write_text(json.dumps(config))
    save_file({"model.layers.0.mlp.up_proj.weight": np.zeros((128, 64), np.float32),
               "model.embed_tokens.weight": np.zeros((100, 64), np.float32)}, str(folder / "model.safetensors"))
    assert main(["models", "plan", str(folder), "--device", "cpu", "--no-4bit"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "tiny on cpu (unquantized):"
    parts = {line.split()[0]: line for line in out[1:]}
    assert {"weights", "kv_cache", "working", "total"} <= set(parts)
    assert parts["weights"].split()[-2:] == ["58", "KB"]  # (128 * 64 + 100 * 64) fp32 values
