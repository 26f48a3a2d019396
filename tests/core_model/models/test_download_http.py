"""The real downloader (HubDownloader through huggingface_hub and httpx) against a real HTTP server on 127.0.0.1:
a full pull, a connection dropped mid-file and the resume, HTTP 416, and a hostile mirror's file names."""

from __future__ import annotations

import hashlib
from pathlib import Path

import huggingface_hub.constants
import pytest

from core_model.models import ModelManager, ModelManagerError, UnsafeListingError
from core_model.models.cache import PARTIAL_SUFFIX, check_listing
from core_model.models.errors import IntegrityError
from core_model.models.hub import HubDownloader, RangeNotSatisfiableError, RemoteFile, RepoListing
from tests.core_model.models.fakehub import FakeHub, tiny_model_files
from tests.core_model.models.loopback_hub import COMMIT, LoopbackHub

MODEL_ID = "smolvlm2-256m"
REPO_ID = "HuggingFaceTB/SmolVLM2-256M-Video-Instruct"
WEIGHTS = "model.safetensors"
WEIGHT_BYTES = 300_000


@pytest.fixture
def hub(monkeypatch):
    # the suite runs with HF_HUB_OFFLINE=1 so nothing reaches a real hub; this server is on the loopback only
    monkeypatch.setattr(huggingface_hub.constants, "is_offline_mode", lambda: False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with LoopbackHub() as server:
        server.repos[REPO_ID] = tiny_model_files(num_weight_bytes=WEIGHT_BYTES)
        yield server


@pytest.fixture
def manager(tmp_path, hub):
    return ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "cache",
                        downloader=HubDownloader(endpoint=hub.endpoint), free_space=lambda path: 10**12)


def _blobs(manager) -> Path:
    return manager.cache.repo_dir(REPO_ID) / "blobs"


def _partials(manager) -> list[Path]:
    return sorted(_blobs(manager).glob("*" + PARTIAL_SUFFIX))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_pull_over_http_fetches_verifies_and_links_every_file(manager, hub):
    record = manager.pull(MODEL_ID)
    snapshot = Path(record.path)
    assert snapshot.name == COMMIT
    assert (snapshot / WEIGHTS).read_bytes() == hub.repos[REPO_ID][WEIGHTS]
    assert sorted(p.name for p in snapshot.iterdir()) == ["config.json", WEIGHTS, "tokenizer.json"]
    assert hub.gets(WEIGHTS) == [None]  # one plain GET, no Range
    assert not any(path.endswith(".onnx") for _, path, _ in hub.requests)


def test_a_connection_dropped_mid_file_keeps_the_bytes_and_the_next_pull_resumes(manager, hub):
    hub.drop_after_bytes = 100_000
    with pytest.raises(ModelManagerError, match="pull' again to resume"):
        manager.pull(MODEL_ID)
    [partial] = [p for p in _partials(manager) if p.stat().st_size > 1000]
    kept = partial.stat().st_size
    assert 0 < kept <= 100_000
    assert partial.read_bytes() == hub.repos[REPO_ID][WEIGHTS][:kept]

    record = manager.pull(MODEL_ID)
    assert hub.gets(WEIGHTS) == [None, f"bytes={kept}-"]  # only the missing tail was asked for
    assert _sha256(Path(record.path) / WEIGHTS) == hashlib.sha256(hub.repos[REPO_ID][WEIGHTS]).hexdigest()
    assert _partials(manager) == []


def test_a_complete_partial_file_is_not_asked_for_again(manager, hub):
    data = hub.repos[REPO_ID][WEIGHTS]
    _blobs(manager).mkdir(parents=True)
    (_blobs(manager) / (hashlib.sha256(data).hexdigest() + PARTIAL_SUFFIX)).write_bytes(data)
    record = manager.pull(MODEL_ID)
    assert hub.gets(WEIGHTS) == []  # no Range request that could only be answered 416
    assert (Path(record.path) / WEIGHTS).read_bytes() == data


def test_416_when_the_hub_file_changed_starts_the_file_over(manager, hub):
    old = hub.repos[REPO_ID][WEIGHTS]
    hub.drop_after_bytes = 100_000
    with pytest.raises(ModelManagerError):
        manager.pull(MODEL_ID)
    kept = max(p.stat().st_size for p in _partials(manager))
    new = bytes(reversed(old[:80_000]))  # the file on the hub changed, and is now shorter than what we have
    hub.repos[REPO_ID][WEIGHTS] = new
    hub.listed_as[WEIGHTS] = old  # ... while the listing still describes the old one (a lagging mirror, a race)
    with pytest.raises(IntegrityError, match="size 80000 bytes, the hub says 300000"):
        manager.pull(MODEL_ID)
    assert hub.gets(WEIGHTS)[1:] == [f"bytes={kept}-", None]  # 416, then from the start
    assert _partials(manager) == []  # the wrong bytes are not kept

    hub.listed_as.clear()
    record = manager.pull(MODEL_ID)
    assert (Path(record.path) / WEIGHTS).read_bytes() == new


def test_the_downloader_itself_on_416_and_on_nothing_missing(hub):
    data = hub.repos[REPO_ID][WEIGHTS]
    downloader = HubDownloader(endpoint=hub.endpoint)
    listed_longer = RemoteFile(WEIGHTS, len(data) + 10, sha256=hashlib.sha256(data).hexdigest())
    with pytest.raises(RangeNotSatisfiableError):
        list(downloader.fetch(REPO_ID, COMMIT, listed_longer, offset=len(data) + 5))
    complete = RemoteFile(WEIGHTS, len(data), sha256=hashlib.sha256(data).hexdigest())
    before = len(hub.requests)
    assert list(downloader.fetch(REPO_ID, COMMIT, complete, offset=len(data))) == []
    assert len(hub.requests) == before
    assert b"".join(downloader.fetch(REPO_ID, COMMIT, complete, offset=299_000)) == data[299_000:]


@pytest.mark.parametrize("name", ["../../../victim.txt", "{victim_abs}", "a/../../../../victim.txt"])
def test_a_hostile_mirror_cannot_write_or_delete_outside_the_snapshot(manager, hub, tmp_path, name):
    victim = tmp_path / "cache" / "victim.txt"  # where ../../../ from the snapshot folder leads
    victim.parent.mkdir(parents=True)
    victim.write_text("the user's own file")
    name = name.format(victim_abs=victim)
    hub.extra_listing = [{"rfilename": name, "size": 5, "blobId": "a" * 40}]
    with pytest.raises(UnsafeListingError, match="outside the model folder") as info:
        manager.pull(MODEL_ID)
    assert name in str(info.value)
    assert victim.read_text() == "the user's own file"
    assert [path for _, path, _ in hub.requests if "/resolve/" in path] == []  # nothing was fetched
    assert not manager.cache.repo_dir(REPO_ID).exists()  # nothing was written in the cache either
    assert manager.status(MODEL_ID).state == "not-downloaded"


@pytest.mark.parametrize(
    ("files", "commit", "problem"),
    [((RemoteFile("..", 1),), COMMIT, "outside the model folder"),
     ((RemoteFile("sub\\..\\..\\x", 1),), COMMIT, "outside the model folder"),
     ((RemoteFile("C:/Windows/x", 1),), COMMIT, "outside the model folder"),
     ((RemoteFile("a//b", 1),), COMMIT, "outside the model folder"),
     ((RemoteFile("", 1),), COMMIT, "outside the model folder"),
     ((RemoteFile("ok.json", 1, sha256="../../x"),), COMMIT, "invalid SHA-256"),
     ((RemoteFile("ok.json", 1, blob_id="../x"),), COMMIT, "invalid blob id"),
     ((RemoteFile("ok.json", 1),), "../../elsewhere", "invalid commit")],
)
def test_check_listing_refuses_names_that_are_not_plain_relative_paths(files, commit, problem):
    with pytest.raises(UnsafeListingError, match=problem):
        check_listing(RepoListing(REPO_ID, commit, files))


def test_a_hostile_listing_through_the_fake_hub_is_refused_before_any_write(tmp_path):
    class HostileHub(FakeHub):
        def list_files(self, repo_id, revision=None):
            listing = super().list_files(repo_id, revision)
            return RepoListing(repo_id, listing.commit, listing.files + (RemoteFile("../../../../x.txt", 3),))

    fake = HostileHub(tmp_path / "fakehub")
    fake.add_repo(REPO_ID, tiny_model_files())
    manager = ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "cache", downloader=fake,
                           free_space=lambda path: 10**12)
    with pytest.raises(UnsafeListingError):
        manager.pull(MODEL_ID)
    assert fake.fetch_calls == []
    assert not (tmp_path / "cache").exists()
