"""The model manager against a fake hub served from a local folder: never the network.

Every test drives the real ModelManager code path; only the hub (tests/core_model/models/fakehub.py) and, where
said, the free-space function are stand-ins.
"""

import hashlib
import json
import os

import pytest

from core_model.backends.base import CancelToken
from core_model.models import (
    DownloadCancelled,
    GatedModelError,
    InsufficientDiskSpaceError,
    IntegrityError,
    InvalidModelFolderError,
    ModelManager,
    ModelManagerError,
    NotDownloadableError,
    UnknownModelError,
)
from core_model.models.catalog import get_entry
from core_model.models.manager import PARTIAL_SUFFIX
from tests.core_model.models.fakehub import COMMIT, FakeHub, tiny_model_files

MODEL_ID = "smolvlm2-256m"
REPO_ID = get_entry(MODEL_ID).repo_id
PLENTY = 10**12


@pytest.fixture
def hub(tmp_path):
    fake = FakeHub(tmp_path / "fakehub")
    fake.add_repo(REPO_ID, tiny_model_files())
    return fake


@pytest.fixture
def manager(tmp_path, hub):
    return ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "hf-cache", downloader=hub,
                        free_space=lambda path: PLENTY)


def repo_dir(manager):
    return manager.cache_dir / ("models--" + REPO_ID.replace("/", "--"))


def partial_files(manager):
    return list((repo_dir(manager) / "blobs").glob("*" + PARTIAL_SUFFIX))


def test_pull_reports_progress_and_registers_the_snapshot(manager, hub):
    manager_events = []
    record = manager.pull(MODEL_ID, progress=manager_events.append)

    wanted_total = sum(len(v) for k, v in tiny_model_files().items() if k not in ("onnx/model.onnx", ".gitattributes"))
    assert record.size_bytes == wanted_total
    assert [e.bytes_done for e in manager_events] == sorted(e.bytes_done for e in manager_events)
    last = manager_events[-1]
    assert last.finished and last.bytes_done == last.bytes_total == wanted_total
    assert last.files_done == last.files_total == 3
    assert any(e.filename == "model.safetensors" and 0 < e.bytes_done < wanted_total for e in manager_events)
    assert all(e.bytes_per_s >= 0 for e in manager_events) and any(e.bytes_per_s > 0 for e in manager_events)

    snapshot = manager.local_path(MODEL_ID)
    assert snapshot == repo_dir(manager) / "snapshots" / COMMIT
    assert (snapshot / "model.safetensors").read_bytes() == tiny_model_files()["model.safetensors"]
    assert (snapshot / "model.safetensors").is_symlink()  # huggingface_hub's layout: snapshot -> ../../blobs/<etag>
    assert not (snapshot / "onnx").exists() and not (snapshot / ".gitattributes").exists()
    assert (repo_dir(manager) / "refs" / "main").read_text() == COMMIT
    assert {path for path, _ in hub.fetch_calls} == {"config.json", "model.safetensors", "tokenizer.json"}
    assert manager.status(MODEL_ID).state == "downloaded"
    assert json.loads((manager.data_folder / "models.json").read_text())["models"][MODEL_ID]["commit"] == COMMIT


def test_pulled_model_is_found_by_huggingface_hub_offline(manager):
    from huggingface_hub import snapshot_download, try_to_load_from_cache

    manager.pull(MODEL_ID)
    found = snapshot_download(REPO_ID, cache_dir=manager.cache_dir, local_files_only=True)
    assert os.path.samefile(found, manager.local_path(MODEL_ID))
    config = try_to_load_from_cache(REPO_ID, "config.json", cache_dir=manager.cache_dir)
    assert json.loads(open(config).read())["model_type"] == "smolvlm"


def test_second_pull_fetches_nothing(manager, hub):
    manager.pull(MODEL_ID)
    hub.fetch_calls.clear()
    manager.pull(MODEL_ID)
    assert hub.fetch_calls == []


def test_interrupted_download_resumes_from_the_partial_file(manager, hub):
    hub.fail_after_bytes = 12_288  # the connection drops after 3 chunks of model.safetensors (40 kB)
    with pytest.raises(ModelManagerError, match="resume"):
        manager.pull(MODEL_ID)
    (part,) = partial_files(manager)
    kept = part.stat().st_size
    assert kept == 12_288
    assert manager.status(MODEL_ID).state == "partial"
    assert manager.local_path(MODEL_ID) is None

    hub.fetch_calls.clear()
    events = []
    manager.pull(MODEL_ID, progress=events.append)
    assert ("model.safetensors", kept) in hub.fetch_calls  # asked only for the missing tail
    assert events[0].bytes_done >= kept  # progress starts where the last try stopped
    data = (manager.local_path(MODEL_ID) / "model.safetensors").read_bytes()
    assert hashlib.sha256(data).digest() == hashlib.sha256(tiny_model_files()["model.safetensors"]).digest()
    assert partial_files(manager) == []


def test_cancel_stops_the_download_and_keeps_what_was_fetched(manager, hub):
    token = CancelToken()
    hub.on_chunk = token.cancel  # the user presses Cancel while the first chunks arrive
    with pytest.raises(DownloadCancelled):
        manager.pull(MODEL_ID, cancel=token)
    fetched = sum(p.stat().st_size for p in partial_files(manager))
    assert manager.local_path(MODEL_ID) is None
    assert manager.registry.get(MODEL_ID) is None

    hub.on_chunk = None
    hub.fetch_calls.clear()
    manager.pull(MODEL_ID)
    assert manager.local_path(MODEL_ID) is not None
    if fetched:
        assert any(offset > 0 for _, offset in hub.fetch_calls)


def test_low_disk_space_is_refused_before_anything_is_fetched(tmp_path, hub):
    manager = ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "hf-cache", downloader=hub,
                           free_space=lambda path: 300_000_000)
    with pytest.raises(InsufficientDiskSpaceError) as excinfo:
        manager.pull(MODEL_ID)
    message = str(excinfo.value)
    assert "Not enough disk space" in message and "300 MB free" in message and "needs 40 KB" in message
    assert hub.fetch_calls == []
    assert not (tmp_path / "hf-cache").exists()


def test_disk_check_asks_about_the_cache_disk(tmp_path, hub):
    asked = []
    manager = ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "not" / "yet" / "there",
                           downloader=hub, free_space=lambda path: asked.append(path) or PLENTY)
    manager.pull(MODEL_ID)
    assert asked == [tmp_path]  # the nearest existing folder above the cache


def test_damaged_file_is_rejected_and_deleted(manager, hub):
    hub.corrupt.add("model.safetensors")
    with pytest.raises(IntegrityError, match="model.safetensors.*damaged"):
        manager.pull(MODEL_ID)
    assert partial_files(manager) == []
    assert manager.local_path(MODEL_ID) is None
    hub.corrupt.clear()
    manager.pull(MODEL_ID)
    assert manager.local_path(MODEL_ID) is not None


def test_gated_model_says_what_to_accept_and_where(tmp_path):
    entry = get_entry("gemma-4-e2b")
    hub = FakeHub(tmp_path / "fakehub")
    hub.add_repo(entry.repo_id, tiny_model_files())
    hub.gated.add(entry.repo_id)
    manager = ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "c", downloader=hub,
                           free_space=lambda path: PLENTY)
    with pytest.raises(GatedModelError) as excinfo:
        manager.pull("gemma-4-e2b")
    message = str(excinfo.value)
    assert f"https://huggingface.co/{entry.repo_id}" in message
    assert "accept" in message and "hf auth login" in message and entry.licence in message


def test_videollama_cannot_be_pulled_and_says_how_to_build_it(manager, hub):
    with pytest.raises(NotDownloadableError, match="vidi convert videollama"):
        manager.pull("videollama2-7b")
    assert manager.status("videollama2-7b").state == "build-locally"
    assert hub.fetch_calls == []


def test_unknown_model(manager):
    with pytest.raises(UnknownModelError, match="Unknown model 'nope'.*gemma-4-e2b"):
        manager.pull("nope")
    assert manager.local_path("nope") is None


class _NoNetwork:
    def list_files(self, *args, **kwargs):
        raise AssertionError("the hub was contacted")

    fetch = list_files


def test_nothing_is_downloaded_without_asking(tmp_path):
    manager = ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "c", downloader=_NoNetwork())
    rows = manager.list()
    assert {row.id for row in rows} >= {"qwen2.5-omni-7b", "gemma-4-e2b", "videollama2-7b"}
    assert {row.state for row in rows} == {"not-downloaded", "build-locally"}
    assert manager.local_path("gemma-4-e2b") is None
    assert not (tmp_path / "c").exists()


def make_folder(path, *, config=True, weights=True):
    path.mkdir(parents=True)
    if config:
        (path / "config.json").write_text(json.dumps({"model_type": "qwen2_5_omni"}))
    if weights:
        (path / "model-00001-of-00002.safetensors").write_bytes(b"w" * 100)
        (path / "model-00002-of-00002.safetensors").write_bytes(b"w" * 50)
    return path


def test_import_registers_a_folder_without_copying_it(manager, tmp_path, monkeypatch):
    folder = make_folder(tmp_path / "My Omni")
    record = manager.import_folder(folder)
    assert record.id == "my-omni" and record.source == "imported" and record.model_type == "qwen2_5_omni"
    assert manager.local_path("my-omni") == folder.resolve()
    assert not any(manager.cache_dir.glob("**/*.safetensors"))
    rows = {row.id: row for row in manager.list()}
    assert rows["my-omni"].state == "imported" and rows["my-omni"].entry is None
    assert rows["my-omni"].size_on_disk_bytes == 150 + len((folder / "config.json").read_bytes())

    # The backends' resolver finds imported models by id through the default manager (VIDI_DATA_DIR).
    from core_model.backends import resolve_model_path

    monkeypatch.setenv("VIDI_DATA_DIR", str(manager.data_folder))
    assert resolve_model_path("my-omni") == folder.resolve()


def test_import_under_a_catalog_id(manager, tmp_path):
    folder = make_folder(tmp_path / "converted")
    manager.import_folder(folder, id="videollama2-7b")
    status = manager.status("videollama2-7b")
    assert status.state == "imported" and status.entry.id == "videollama2-7b"


@pytest.mark.parametrize(
    "kwargs, problem",
    [({"config": False}, "no config.json"), ({"weights": False}, "no weights")],
)
def test_import_refuses_a_folder_that_is_not_a_model(manager, tmp_path, kwargs, problem):
    folder = make_folder(tmp_path / "broken", **kwargs)
    with pytest.raises(InvalidModelFolderError, match=problem):
        manager.import_folder(folder)
    assert manager.registry.all() == {}


def test_import_refuses_missing_shards_and_non_folders(manager, tmp_path):
    folder = make_folder(tmp_path / "sharded")
    (folder / "model.safetensors.index.json").write_text(json.dumps(
        {"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00003-of-00003.safetensors"}}))
    with pytest.raises(InvalidModelFolderError, match="missing: model-00003-of-00003.safetensors"):
        manager.import_folder(folder)
    with pytest.raises(InvalidModelFolderError, match="is not a folder"):
        manager.import_folder(tmp_path / "nowhere")


def test_rm_of_a_downloaded_model_frees_the_disk(manager):
    record = manager.pull(MODEL_ID)
    result = manager.remove(MODEL_ID)
    assert result.freed_bytes == record.size_bytes
    assert "freeing" in result.message
    assert not repo_dir(manager).exists()
    assert manager.local_path(MODEL_ID) is None
    assert manager.status(MODEL_ID).state == "not-downloaded"


def test_rm_keeps_blobs_another_snapshot_still_uses(manager):
    manager.pull(MODEL_ID)
    other = repo_dir(manager) / "snapshots" / ("f" * 40)
    other.mkdir()
    blob_link = repo_dir(manager) / "snapshots" / COMMIT / "model.safetensors"
    (other / "model.safetensors").symlink_to(os.readlink(blob_link))
    result = manager.remove(MODEL_ID)
    assert result.freed_bytes < 40_000
    assert (other / "model.safetensors").read_bytes() == tiny_model_files()["model.safetensors"]


def test_rm_of_an_imported_model_never_deletes_the_folder(manager, tmp_path):
    folder = make_folder(tmp_path / "mine")
    manager.import_folder(folder, id="mine")
    result = manager.remove("mine")
    assert result.freed_bytes == 0 and "left as it is" in result.message
    assert (folder / "config.json").is_file()
    assert manager.registry.get("mine") is None


def test_rm_leaves_models_other_tools_put_in_the_cache(manager):
    manager.pull(MODEL_ID)
    manager.registry.delete(MODEL_ID)  # as if another tool had downloaded it
    assert manager.status(MODEL_ID).state == "in-cache"
    assert manager.local_path(MODEL_ID) is not None
    with pytest.raises(ModelManagerError, match="not downloaded by Vidi"):
        manager.remove(MODEL_ID)
    assert manager.local_path(MODEL_ID) is not None


def test_rm_of_an_unfinished_download_deletes_the_partial_files(manager, hub):
    hub.fail_after_bytes = 8192
    with pytest.raises(ModelManagerError):
        manager.pull(MODEL_ID)
    result = manager.remove(MODEL_ID)
    assert result.freed_bytes == 8192
    assert partial_files(manager) == []
    with pytest.raises(ModelManagerError, match="nothing to remove"):
        manager.remove(MODEL_ID)


def test_a_second_pull_of_the_same_model_is_refused_while_one_runs(manager, hub):
    from filelock import FileLock

    lock = FileLock(str(manager.data_folder / "locks" / (repo_dir(manager).name + ".lock")))
    (manager.data_folder / "locks").mkdir(parents=True)
    with lock:  # as another Vidi process holding the download
        with pytest.raises(ModelManagerError, match="already being downloaded"):
            manager.pull(MODEL_ID)
    assert hub.fetch_calls == []
    manager.pull(MODEL_ID)
    assert manager.local_path(MODEL_ID) is not None


def test_a_complete_partial_file_is_verified_without_fetching_again(manager, hub):
    listing = hub.list_files(REPO_ID)
    weights = next(f for f in listing.files if f.path == "model.safetensors")
    blobs = repo_dir(manager) / "blobs"
    blobs.mkdir(parents=True)
    (blobs / (weights.blob_name + PARTIAL_SUFFIX)).write_bytes(tiny_model_files()["model.safetensors"])
    manager.pull(MODEL_ID)
    assert "model.safetensors" not in {path for path, _ in hub.fetch_calls}
    assert (manager.local_path(MODEL_ID) / "model.safetensors").read_bytes() == tiny_model_files()["model.safetensors"]


@pytest.mark.parametrize("text", ["[1, 2]", "42", "\"qwen2_vl\""])
def test_import_refuses_a_config_json_that_is_json_but_not_a_configuration(manager, tmp_path, text):
    # `vidi models import` took a folder whose config.json is a JSON list, and every later use failed on it
    folder = make_folder(tmp_path / "listed")
    (folder / "config.json").write_text(text)
    with pytest.raises(InvalidModelFolderError, match="not a model configuration"):
        manager.import_folder(folder)
    assert manager.registry.all() == {}
