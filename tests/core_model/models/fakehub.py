"""A stand-in for the Hugging Face hub that serves repos from a local folder, for the model-manager tests.

    root/<org>/<name>/<files...>     one folder per repo; its files are served as the repo's files

It answers the same two calls as core_model.models.hub.HubDownloader, with the hub's metadata (size; SHA-256 for
"LFS" files of 1 KB and more, git SHA-1 blob ids for small files), and can be told to break a download after some
bytes (an interrupted connection), to refuse a repo as gated, or to serve corrupted bytes.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from core_model.models.hub import HubAccessDeniedError, HubError, HubNotFoundError, RemoteFile, RepoListing

LFS_THRESHOLD = 1024
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class ConnectionDropped(HubError):
    """The fake network broke mid-file."""


class FakeHub:
    def __init__(self, root: Path, chunk_bytes: int = 4096) -> None:
        self.root = Path(root)
        self.chunk_bytes = chunk_bytes
        self.fail_after_bytes: int | None = None  # break the next fetch after this many bytes
        self.gated: set[str] = set()
        self.corrupt: set[str] = set()  # file paths served with one flipped byte
        self.fetch_calls: list[tuple[str, int]] = []  # (path, offset)
        self.on_chunk = None  # called after each chunk is handed out (e.g. to cancel mid-file)

    def add_repo(self, repo_id: str, files: dict[str, bytes]) -> None:
        for rel, data in files.items():
            path = self.root / repo_id / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def _repo_dir(self, repo_id: str) -> Path:
        folder = self.root / repo_id
        if repo_id in self.gated:
            raise HubAccessDeniedError(f"{repo_id} is gated")
        if not folder.is_dir():
            raise HubNotFoundError(f"{repo_id} was not found on the hub")
        return folder

    def list_files(self, repo_id: str, revision: str | None = None) -> RepoListing:
        folder = self._repo_dir(repo_id)
        files = []
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            rel = path.relative_to(folder).as_posix()
            if len(data) >= LFS_THRESHOLD:
                files.append(RemoteFile(rel, len(data), sha256=hashlib.sha256(data).hexdigest()))
            else:
                blob_id = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
                files.append(RemoteFile(rel, len(data), blob_id=blob_id))
        return RepoListing(repo_id, COMMIT, tuple(files))

    def fetch(self, repo_id: str, commit: str, remote_file: RemoteFile, offset: int = 0):
        data = (self._repo_dir(repo_id) / remote_file.path).read_bytes()
        if remote_file.path in self.corrupt:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        self.fetch_calls.append((remote_file.path, offset))
        sent = 0
        for start in range(offset, len(data), self.chunk_bytes):
            if self.fail_after_bytes is not None and sent >= self.fail_after_bytes:
                self.fail_after_bytes = None
                raise ConnectionDropped("connection reset by peer")
            chunk = data[start:start + self.chunk_bytes]
            sent += len(chunk)
            yield chunk
            if self.on_chunk is not None:
                self.on_chunk()


def tiny_model_files(num_weight_bytes: int = 40_000, seed: int = 0) -> dict[str, bytes]:
    """A repo that looks like a model: config.json, a weights file (LFS-sized), a tokenizer file, extras to skip."""
    weights = bytes((i * 31 + seed) % 251 for i in range(num_weight_bytes))
    return {
        "config.json": json.dumps({"model_type": "smolvlm", "hidden_size": 8}).encode(),
        "model.safetensors": weights,
        "tokenizer.json": b'{"version": "1.0"}',
        "onnx/model.onnx": b"x" * 2000,  # another runtime's format: must not be fetched
        ".gitattributes": b"*.safetensors filter=lfs\n",
    }
