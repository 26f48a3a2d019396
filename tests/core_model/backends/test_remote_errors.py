"""Failures no real server can be made to produce on demand, from a scripted loopback server: each one line.

429 with Retry-After (waited for, then answered), 401 (the key is never in the message), 403, 413, 5xx, a TLS
certificate that is not trusted, and a name that does not resolve.
"""

import json
import time

import pytest

from core_model.backends import GenerationOptions, Turn
from core_model.backends.remote import RemoteBackend
from core_model.backends.remote_probe import SupportCache
from core_model.errors import RemoteError
from tests.fixtures.scripted_server import MODEL, Reply, ScriptedServer

QUICK = GenerationOptions(max_new_tokens=8)


def _backend(url, tmp_path, key="sk-test-secret-123"):
    backend = RemoteBackend(url, MODEL, api_key_value=key, probe=False,
                            support_cache=SupportCache(tmp_path / "remote_servers.json"))
    backend.load()
    return backend


def _answer(backend):
    return "".join(backend.answer([Turn("user", "Hello?")], QUICK))


def test_a_429_is_retried_after_its_retry_after(tmp_path):
    replies = [Reply.error(429, "slow down", {"Retry-After": "1"}), Reply.stream(["Hello", " there"])]
    with ScriptedServer(replies) as server:
        backend = _backend(server.url, tmp_path)
        started = time.perf_counter()
        assert _answer(backend) == "Hello there"
        assert time.perf_counter() - started >= 0.95  # waited as the server asked
        posts = [r for r in server.requests if r[0] == "POST"]
        assert len(posts) == 2
        body = json.loads(posts[-1][3])
        assert body["model"] == MODEL and body["stream"] is True and body["max_tokens"] == 8


def test_a_429_that_persists_becomes_one_line(tmp_path):
    with ScriptedServer([Reply.error(429, "rate limited", {"Retry-After": "0"})]) as server:
        backend = _backend(server.url, tmp_path)
        with pytest.raises(RemoteError) as caught:
            _answer(backend)
        assert "busy (429" in str(caught.value) and "\n" not in str(caught.value)
        assert len([r for r in server.requests if r[0] == "POST"]) == 4  # the first try and three retries


def test_stop_during_a_retry_wait_ends_at_once(tmp_path):
    with ScriptedServer([Reply.error(429, "wait", {"Retry-After": "20"})]) as server:
        backend = _backend(server.url, tmp_path)
        pieces = backend.answer([Turn("user", "Hello?")], QUICK)
        import threading

        threading.Timer(0.3, backend.cancel).start()
        started = time.perf_counter()
        assert list(pieces) == []
        assert time.perf_counter() - started < 1.0 and backend.last_run.stopped


def test_401_names_the_fix_and_never_the_key(tmp_path):
    with ScriptedServer([Reply.error(401, "Invalid API key sk-test-secret-123")]) as server:
        backend = _backend(server.url, tmp_path)
        with pytest.raises(RemoteError) as caught:
            _answer(backend)
        message = str(caught.value)
        assert "refused the API key (401)" in message and "sk-test-secret" not in message
        headers = {name.lower(): value for name, value in [r[2] for r in server.requests if r[0] == "POST"][0].items()}
        assert headers["authorization"] == "Bearer sk-test-secret-123"  # it was sent, to the server only


@pytest.mark.parametrize(
    ("status", "expected"),
    [(403, "does not let this key use model 'scripted-model' (403"),
     (404, "does not serve model 'scripted-model' (404"),
     (413, "too large (413)"),
     (400, "takes fewer media per question"),
     (500, "failed (500 server error)"),
     (503, "failed (503 server error)")],
)
def test_error_statuses_are_one_line(tmp_path, status, expected):
    detail = "At most 16 image(s) may be provided in one request." if status == 400 else "nope"
    with ScriptedServer([Reply.error(status, detail, {"Retry-After": "0"})]) as server:
        backend = _backend(server.url, tmp_path)
        with pytest.raises(RemoteError) as caught:
            _answer(backend)
        assert expected in str(caught.value) and "\n" not in str(caught.value)
        # the backend answers again afterwards
        server.replies = [Reply.stream(["fine"])]
        assert _answer(backend) == "fine"


def test_an_untrusted_certificate(tmp_path):
    with ScriptedServer([Reply.stream(["x"])], tls_dir=tmp_path) as server:
        backend = RemoteBackend(server.url, MODEL, probe=False, support_cache=SupportCache(tmp_path / "s.json"))
        with pytest.raises(RemoteError) as caught:
            backend.load()
        message = str(caught.value)
        assert "certificate is not trusted" in message and "\n" not in message


def test_https_to_a_plain_http_server(tmp_path):
    with ScriptedServer([Reply.stream(["x"])]) as server:
        url = server.url.replace("http://", "https://")
        backend = RemoteBackend(url, MODEL, probe=False, support_cache=SupportCache(tmp_path / "s.json"))
        with pytest.raises(RemoteError, match="secure connection .* failed"):
            backend.load()


def test_a_name_that_does_not_resolve(tmp_path):
    backend = RemoteBackend("https://no-such-host.invalid:8000", MODEL, probe=False,
                            support_cache=SupportCache(tmp_path / "s.json"))
    with pytest.raises(RemoteError, match="not found: the name does not resolve"):
        backend.load()
