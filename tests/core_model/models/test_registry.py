"""models.json that is damaged is moved aside and reported, never silently overwritten."""

import json

import pytest

from core_model.cli import main
from core_model.cli import models as cli_models
from core_model.device import DeviceInfo
from core_model.errors import ModelsError
from core_model.models import ModelManager
from core_model.models.registry import RegisteredModel, Registry, take_notices

GOOD = {"source": "imported", "path": "/models/mine"}


@pytest.fixture(autouse=True)
def no_notices_left():
    take_notices()
    yield
    take_notices()


def _damaged_copies(folder):
    return sorted(folder.glob("models.json.damaged-*"))


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ('{"version": 1, "models": {"mine": ', "not valid JSON"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
        ('[{"id": "mine"}]', "JSON list, not a model list"),
        ('{"version": 1, "models": ["mine"]}', "JSON dict, not a model list"),
    ],
)
def test_an_unreadable_file_is_moved_aside_and_reported_once(tmp_path, content, why):
    path = tmp_path / "models.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    original = path.read_bytes()
    registry = Registry(path)
    assert registry.all() == {}
    [aside] = _damaged_copies(tmp_path)
    assert aside.read_bytes() == original and not path.exists()
    [notice] = take_notices()
    assert why in notice and aside.name in notice and "\n" not in notice
    assert take_notices() == []  # once

    registry.put(RegisteredModel(id="new", **GOOD))
    assert set(registry.all()) == {"new"} and aside.read_bytes() == original  # the user's file is untouched
    assert take_notices() == []


def test_entries_that_are_not_models_keep_the_file_aside_and_the_readable_ones(tmp_path):
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"version": 1, "models": {"mine": GOOD, "broken": "junk", "half": {"path": "/x"}}}))
    original = path.read_bytes()
    assert set(Registry(path).all()) == {"mine"}
    [aside] = _damaged_copies(tmp_path)
    assert aside.read_bytes() == original
    assert set(json.loads(path.read_text())["models"]) == {"mine"}
    [notice] = take_notices()
    assert "'broken', 'half'" in notice and "1 readable entries were kept" in notice
    assert set(Registry(path).all()) == {"mine"} and take_notices() == []  # the fresh file is fine


def test_two_damaged_files_in_the_same_second_do_not_overwrite_each_other(tmp_path):
    path = tmp_path / "models.json"
    for text in ("first {", "second {"):
        path.write_text(text)
        Registry(path).all()
    assert sorted(p.read_text() for p in _damaged_copies(tmp_path)) == ["first {", "second {"]


def test_a_file_that_cannot_be_read_is_an_error_not_an_empty_list(tmp_path):
    path = tmp_path / "models.json"
    path.mkdir()  # exists, but reading it fails (as a file without read permission would)
    with pytest.raises(ModelsError, match="cannot be read"):
        Registry(path).all()
    with pytest.raises(ModelsError):
        Registry(path).put(RegisteredModel(id="new", **GOOD))
    assert path.is_dir() and _damaged_copies(tmp_path) == []


def test_the_cli_prints_the_notice_once_on_stderr(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "models.json").write_text("[1, 2, 3]")
    manager = ModelManager(data_folder=data, cache_dir=tmp_path / "cache", free_space=lambda path: 10**12)
    monkeypatch.setattr(cli_models, "manager_factory", lambda: manager)
    monkeypatch.setattr(cli_models, "_detect_device", lambda: DeviceInfo(kind="cpu", name="CPU"))
    assert main(["models", "list"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("vidi: warning: The model list ") and "JSON list" in err[0]
    assert main(["models", "list"]) == 0
    assert capsys.readouterr().err == ""
    assert len(_damaged_copies(data)) == 1
