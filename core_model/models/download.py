"""Fetching a repo's files into the cache: resume from partial files, verify, link into the snapshot, report progress.

    fetcher = FileFetcher(downloader, cache, listing, name="Gemma 4 E2B", map_hub_error=...)
    fetcher.fetch(remote_file, tracker, cancel)      # blobs/<etag>.vidi-partial -> blobs/<etag> -> snapshot link

Each file is first written to ``blobs/<etag>.vidi-partial``; an interrupted or cancelled pull keeps it and the next
pull asks the hub only for the missing tail (an HTTP Range request). A partial file longer than the hub's file, or a
range the server calls unsatisfiable (HTTP 416: the file changed on the hub), starts the file over. Each finished file
is checked against the hub's size and SHA-256 (LFS files) or git SHA-1 (small files) before it is moved in.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator

from core_model.backends.base import CancelToken
from core_model.models.cache import HubCache
from core_model.models.errors import DownloadCancelled, IntegrityError
from core_model.models.hub import Downloader, HubError, RangeNotSatisfiableError, RemoteFile, RepoListing

IGNORED_FILES = ("*.gguf", "*.onnx", "*.onnx_data", "*.msgpack", "*.h5", "*.ot", "*.tflite", "*.mlpackage/*",
                 "onnx/*", "original/*", "coreml/*", ".gitattributes")
"""Repo files no Vidi backend reads (other runtimes' formats); never downloaded."""


def wanted_files(files: Iterable[RemoteFile]) -> list[RemoteFile]:
    """The files of a listing Vidi fetches: no other runtimes' formats, no PyTorch pickles beside safetensors."""
    files = [f for f in files if not any(fnmatch.fnmatch(f.path, pattern) for pattern in IGNORED_FILES)]
    if any(f.path.endswith(".safetensors") for f in files):  # the same weights as PyTorch pickles: skip those
        files = [f for f in files if not fnmatch.fnmatch(f.path, "pytorch_model*.bin")]
    return files


@dataclass(frozen=True)
class PullProgress:
    """A download's progress: overall bytes (those already on disk from an earlier try included) and speed."""

    model_id: str
    filename: str
    bytes_done: int
    bytes_total: int
    bytes_per_s: float
    files_done: int
    files_total: int
    finished: bool = False

    @property
    def fraction(self) -> float:
        return 1.0 if self.bytes_total <= 0 else min(1.0, self.bytes_done / self.bytes_total)

    @property
    def eta_s(self) -> float | None:
        if self.bytes_per_s <= 0:
            return None
        return max(0.0, (self.bytes_total - self.bytes_done) / self.bytes_per_s)


ProgressCallback = Callable[[PullProgress], None]


class FileFetcher:
    """Fetches the files of one listing into ``cache``. ``map_hub_error`` turns a HubError into the error to raise
    (the manager adds what to do next: log in for a gated model, pull again to resume)."""

    def __init__(self, downloader: Downloader, cache: HubCache, listing: RepoListing, name: str,
                 map_hub_error: Callable[[HubError], Exception]) -> None:
        self.downloader = downloader
        self.cache = cache
        self.listing = listing
        self.name = name
        self.map_hub_error = map_hub_error

    def fetch(self, remote_file: RemoteFile, tracker: "ProgressTracker", cancel: CancelToken) -> None:
        repo_id = self.listing.repo_id
        pointer = self.cache.snapshot_file(repo_id, self.listing.commit, remote_file.path)  # checked before any write
        blob = self.cache.blob(repo_id, remote_file)
        blob.parent.mkdir(parents=True, exist_ok=True)
        if blob.is_file() and blob.stat().st_size == remote_file.size:  # already here for another snapshot
            tracker.add(remote_file.size)
        else:
            self._fetch_blob(remote_file, blob, tracker, cancel)
        pointer.parent.mkdir(parents=True, exist_ok=True)
        if pointer.is_symlink() or pointer.exists():
            pointer.unlink()
        try:
            os.symlink(os.path.relpath(blob, pointer.parent), pointer)
        except OSError:  # no symlinks (Windows without developer mode): the file itself goes in, like huggingface_hub
            shutil.move(blob, pointer)

    def _fetch_blob(self, remote_file: RemoteFile, blob, tracker: "ProgressTracker", cancel: CancelToken) -> None:
        part = self.cache.partial(self.listing.repo_id, remote_file)
        offset = part.stat().st_size if part.is_file() else 0
        if offset > remote_file.size:  # a stale partial file from another version: start over
            offset = self._start_over(part, offset, tracker)
        hasher = _Hasher.of_file(remote_file, part) if offset else _Hasher(remote_file)
        tracker.start_file(remote_file.path)
        try:
            try:
                self._append(remote_file, part, offset, hasher, tracker, cancel)
            except RangeNotSatisfiableError:  # the hub's file is shorter than what we have: it changed; start over
                self._start_over(part, part.stat().st_size, tracker)
                hasher = _Hasher(remote_file)
                self._append(remote_file, part, 0, hasher, tracker, cancel)
        finally:
            tracker.emit(force=True)
        size = part.stat().st_size
        problem = hasher.problem(size)
        if problem:
            part.unlink(missing_ok=True)
            tracker.add(-size)
            raise IntegrityError(
                f"{remote_file.path} of {self.listing.repo_id} is damaged ({problem}); it was deleted: pull again."
            )
        os.replace(part, blob)

    @staticmethod
    def _start_over(part, offset: int, tracker: "ProgressTracker") -> int:
        part.unlink(missing_ok=True)
        tracker.add(-offset)
        return 0

    def _append(self, remote_file: RemoteFile, part, offset: int, hasher: "_Hasher", tracker: "ProgressTracker",
                cancel: CancelToken) -> None:
        with part.open("ab") as out:
            if offset >= remote_file.size:  # an earlier try stopped right before the check: nothing to fetch
                return
            for chunk in self._chunks(remote_file, offset):
                if cancel.cancelled:
                    raise DownloadCancelled(f"Download of {self.name} cancelled; 'pull' again to resume.")
                out.write(chunk)
                hasher.update(chunk)
                tracker.add(len(chunk))

    def _chunks(self, remote_file: RemoteFile, offset: int) -> Iterator[bytes]:
        try:
            yield from self.downloader.fetch(self.listing.repo_id, self.listing.commit, remote_file, offset)
        except RangeNotSatisfiableError:
            raise
        except HubError as exc:
            raise self.map_hub_error(exc) from exc


class _Hasher:
    """Checks a file against the hub's metadata: SHA-256 for LFS files, git's blob SHA-1 for the rest, else size."""

    def __init__(self, remote_file: RemoteFile) -> None:
        self.remote_file = remote_file
        if remote_file.sha256:
            self._hash = hashlib.sha256()
        elif remote_file.blob_id:
            self._hash = hashlib.sha1(f"blob {remote_file.size}\0".encode(), usedforsecurity=False)
        else:
            self._hash = None

    @classmethod
    def of_file(cls, remote_file: RemoteFile, path) -> "_Hasher":
        """A hasher that has seen the partial file already on disk (a resumed download goes on from there)."""
        hasher = cls(remote_file)
        if hasher._hash is not None:
            with open(path, "rb") as data:
                for block in iter(lambda: data.read(1 << 22), b""):
                    hasher.update(block)
        return hasher

    def update(self, data: bytes) -> None:
        if self._hash is not None:
            self._hash.update(data)

    def problem(self, size: int) -> str | None:
        expected = self.remote_file
        if size != expected.size:
            return f"size {size} bytes, the hub says {expected.size}"
        if self._hash is None:
            return None
        digest = self._hash.hexdigest()
        wanted = expected.sha256 or expected.blob_id
        return None if digest == wanted else f"checksum {digest[:12]}…, the hub says {wanted[:12]}…"


class ProgressTracker:
    """Counts bytes, measures speed over the last few seconds, and calls back at most ~10 times a second."""

    WINDOW_S = 3.0
    INTERVAL_S = 0.1

    def __init__(self, model_id, bytes_total, bytes_done, files_total, files_done, callback) -> None:
        self.model_id = model_id
        self.bytes_total = bytes_total
        self.bytes_done = bytes_done
        self.files_total = files_total
        self.files_done = files_done
        self.callback = callback
        self.filename = ""
        self._samples: list[tuple[float, int]] = [(time.monotonic(), 0)]
        self._received = 0
        self._last_emit = 0.0
        self.emit(force=True)

    def start_file(self, filename: str) -> None:
        self.filename = filename
        self.emit(force=True)

    def add(self, num_bytes: int) -> None:
        self.bytes_done += num_bytes
        self._received += max(num_bytes, 0)
        self.emit()

    def file_done(self, filename: str) -> None:
        self.files_done += 1
        self.filename = filename
        self.emit(force=True)

    def finish(self) -> None:
        self.emit(force=True, finished=True)

    def speed(self) -> float:
        now = time.monotonic()
        self._samples.append((now, self._received))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.WINDOW_S:
            self._samples.pop(0)
        t0, b0 = self._samples[0]
        return (self._received - b0) / (now - t0) if now > t0 else 0.0

    def emit(self, force: bool = False, finished: bool = False) -> None:
        now = time.monotonic()
        if self.callback is None or (not force and now - self._last_emit < self.INTERVAL_S):
            return
        self._last_emit = now
        self.callback(PullProgress(self.model_id, self.filename, self.bytes_done, self.bytes_total, self.speed(),
                                   self.files_done, self.files_total, finished))
