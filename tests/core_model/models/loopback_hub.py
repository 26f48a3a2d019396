"""A real HTTP server on 127.0.0.1 that answers like the Hugging Face hub, for the downloader tests.

It serves the two things core_model.models.hub.HubDownloader asks huggingface_hub for: the repo listing
(``GET /api/models/<org>/<name>[/revision/<rev>]?blobs=True``) and a file (``HEAD`` then ``GET
/<org>/<name>/resolve/<commit>/<path>``, with ``Range: bytes=N-`` answered 206, or 416 past the end), plus faults:

    hub.drop_after_bytes = 5000        # the next file GET longer than that sends its headers and 5000 body
                                        # bytes, then closes the socket
    hub.extra_listing = [{"rfilename": "../../evil.txt", ...}]     # a hostile mirror's listing
    hub.listed_as["model.safetensors"] = old_bytes      # the listing describes another version than it serves
    hub.requests                        # [(method, path, range header or None), ...]
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

COMMIT = "fedcba9876543210fedcba9876543210fedcba98"
LFS_THRESHOLD = 1024


class LoopbackHub:
    def __init__(self) -> None:
        self.repos: dict[str, dict[str, bytes]] = {}
        self.drop_after_bytes: int | None = None
        self.extra_listing: list[dict] = []
        self.listed_as: dict[str, bytes] = {}  # path -> the bytes the listing describes (a file changed since)
        self.requests: list[tuple[str, str, str | None]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "LoopbackHub":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def listing(self, repo_id: str) -> dict:
        siblings = []
        for path, data in sorted(self.repos[repo_id].items()):
            data = self.listed_as.get(path, data)
            entry = {"rfilename": path, "size": len(data),
                     "blobId": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()}
            if len(data) >= LFS_THRESHOLD:
                entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 130}
            siblings.append(entry)
        return {"id": repo_id, "modelId": repo_id, "sha": COMMIT, "private": False,
                "siblings": siblings + self.extra_listing}

    def gets(self, path_suffix: str) -> list[str | None]:
        """The Range headers of the GETs of files whose path ends with ``path_suffix``."""
        return [rng for method, path, rng in self.requests if method == "GET" and path.endswith(path_suffix)]


def _handler_for(hub: LoopbackHub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:  # noqa: N802
            self._answer(send_body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(send_body=False)

        def _answer(self, send_body: bool) -> None:
            path = unquote(urlsplit(self.path).path)
            hub.requests.append((self.command, path, self.headers.get("Range")))
            listing = re.fullmatch(r"/api/models/(.+?)(?:/revision/[^/]+)?", path)
            if listing and listing.group(1) in hub.repos:
                return self._send(200, json.dumps(hub.listing(listing.group(1))).encode(),
                                  {"Content-Type": "application/json"}, send_body)
            resolved = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
            repo_files = hub.repos.get(resolved.group(1), {}) if resolved else {}
            if not resolved or resolved.group(3) not in repo_files:
                return self._send(404, b"not found", {"X-Error-Code": "EntryNotFound"}, send_body)
            data = hub.repos[resolved.group(1)][resolved.group(3)]
            headers = {"X-Repo-Commit": COMMIT, "ETag": '"' + hashlib.sha256(data).hexdigest() + '"',
                       "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
            if not send_body:
                return self._send(200, data, headers, send_body=False)
            start = 0
            rng = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
            if rng:
                start = int(rng.group(1))
                if start >= len(data):
                    return self._send(416, b"", {**headers, "Content-Range": f"bytes */{len(data)}"}, True)
                headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            self._send(206 if rng else 200, data[start:], headers, True)

        def _send(self, status: int, body: bytes, headers: dict, send_body: bool) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not send_body:
                return
            drop = hub.drop_after_bytes
            if drop is not None and drop < len(body) and "/resolve/" in self.path and self.command == "GET":
                hub.drop_after_bytes = None
                self.wfile.write(body[:drop])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)  # the network breaks mid-file: fewer bytes than Content-Length said
                return
            self.wfile.write(body)

    return Handler
