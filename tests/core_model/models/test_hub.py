"""core_model.models.hub.HubDownloader with huggingface_hub's transport faked (never the network)."""

import contextlib
import types

import huggingface_hub
import huggingface_hub.utils
import pytest

from core_model.models.hub import HubAccessDeniedError, HubDownloader, HubError, HubNotFoundError, RemoteFile

DATA = bytes(range(256)) * 40  # 10 240 bytes


class FakeResponse:
    def __init__(self, status_code, body):
        self.status_code = status_code
        self.body = body

    def iter_bytes(self, chunk_size=None):
        for start in range(0, len(self.body), 1000):
            yield self.body[start:start + 1000]


@pytest.fixture
def transport(monkeypatch):
    calls = []
    state = types.SimpleNamespace(honour_range=True, calls=calls)

    def fake_metadata(url, token=None, **kwargs):
        return types.SimpleNamespace(location=url + "?cdn", size=len(DATA), etag="e", commit_hash="c")

    @contextlib.contextmanager
    def fake_stream(method, url, headers, **kwargs):
        calls.append((url, dict(headers), kwargs))
        start = int(headers["Range"].split("=")[1].rstrip("-")) if "Range" in headers else 0
        if start and state.honour_range:
            yield FakeResponse(206, DATA[start:])
        else:
            yield FakeResponse(200, DATA)

    monkeypatch.setattr(huggingface_hub, "get_hf_file_metadata", fake_metadata)
    monkeypatch.setattr(huggingface_hub.utils, "http_stream_backoff", fake_stream)
    monkeypatch.setattr(huggingface_hub.utils, "hf_raise_for_status", lambda response: None)
    return state


def test_fetch_asks_for_the_missing_tail_with_a_range_request(transport):
    remote = RemoteFile("model.safetensors", len(DATA), sha256="x")
    got = b"".join(HubDownloader().fetch("org/model", "abc123", remote, offset=4000))
    assert got == DATA[4000:]
    url, headers, kwargs = transport.calls[0]
    assert headers["Range"] == "bytes=4000-"
    assert "/org/model/resolve/abc123/model.safetensors" in url and url.endswith("?cdn")
    assert kwargs["follow_redirects"] is True


def test_fetch_skips_what_it_has_when_the_server_ignores_range(transport):
    transport.honour_range = False
    remote = RemoteFile("model.safetensors", len(DATA), sha256="x")
    assert b"".join(HubDownloader().fetch("org/model", "abc123", remote, offset=4321)) == DATA[4321:]
    assert b"".join(HubDownloader().fetch("org/model", "abc123", remote, offset=0)) == DATA


def test_list_files_reads_sizes_and_hashes(monkeypatch):
    siblings = [
        types.SimpleNamespace(rfilename="config.json", size=120, blob_id="b" * 40, lfs=None),
        types.SimpleNamespace(rfilename="model.safetensors", size=None, blob_id="c" * 40,
                              lfs=types.SimpleNamespace(sha256="d" * 64, size=5000)),
    ]

    def fake_model_info(self, repo_id, revision=None, files_metadata=False, token=None):
        assert files_metadata
        return types.SimpleNamespace(sha="f" * 40, siblings=siblings)

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", fake_model_info)
    listing = HubDownloader().list_files("org/model")
    assert listing.commit == "f" * 40
    assert listing.files == (RemoteFile("config.json", 120, None, "b" * 40),
                             RemoteFile("model.safetensors", 5000, "d" * 64, "c" * 40))
    assert listing.files[1].blob_name == "d" * 64 and listing.files[0].blob_name == "b" * 40


@pytest.mark.parametrize(
    "error, expected, words",
    [
        ("GatedRepoError", HubAccessDeniedError, "hf auth login"),
        ("RepositoryNotFoundError", HubNotFoundError, "not found"),
        ("OfflineModeIsEnabled", HubError, "HF_HUB_OFFLINE"),
        ("ConnectError", HubError, "check the connection"),
    ],
)
def test_hub_errors_become_plain_messages(monkeypatch, error, expected, words):
    from huggingface_hub import errors

    if error == "ConnectError":
        exc = ConnectionError("boom")
    elif error == "OfflineModeIsEnabled":
        exc = errors.OfflineModeIsEnabled("offline")
    else:
        exc = getattr(errors, error).__new__(getattr(errors, error))  # no HTTP response needed to raise it
        Exception.__init__(exc, "denied")

    def fake_model_info(self, *args, **kwargs):
        raise exc

    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", fake_model_info)
    with pytest.raises(expected, match=words):
        HubDownloader().list_files("org/model")
