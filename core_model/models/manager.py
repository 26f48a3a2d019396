"""The model manager: which models are on this machine, and getting them there or off it.

    manager = ModelManager()                                # registry in the Vidi data folder, the HF cache
    manager.list()                                         # [ModelStatus(id, state="downloaded", ...), ...]
    manager.pull("gemma-4-e2b", progress=print, cancel=token)  # only ever when the user asks
    manager.import_folder("/data/my-qwen", id="qwen-local")   # a folder the user already has
    manager.local_path("gemma-4-e2b")                      # Path of the snapshot folder, or None
    manager.remove("gemma-4-e2b")                          # frees the disk (imported folders: unregistered only)

Downloads go into huggingface_hub's normal cache layout (``models--org--name/blobs``, ``snapshots/<commit>``,
``refs/main``), so transformers and the ``hf`` tool see them. Each file is first written to
``blobs/<etag>.vidi-partial``; an interrupted or cancelled pull keeps it and the next pull asks the hub only for the
missing tail. Before anything is fetched the free disk space is checked against the hub's file sizes; each finished
file is checked against the hub's size and SHA-256 (LFS files) or git SHA-1 (small files) before it is moved in.
Nothing here imports Qt or torch; progress and cancel are plain callbacks.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from core_model.backends.base import CancelToken
from core_model.errors import ModelsError
from core_model.models.catalog import ALL_MODELS, CatalogEntry, format_bytes, get_entry
from core_model.models.hub import Downloader, HubAccessDeniedError, HubError, RemoteFile, RepoListing
from core_model.models.registry import REGISTRY_FILENAME, RegisteredModel, Registry, data_dir

PARTIAL_SUFFIX = ".vidi-partial"
DISK_MARGIN_BYTES = 500_000_000
"""Free space to leave on the disk after a download (the OS, the app's own files)."""

IGNORED_FILES = ("*.gguf", "*.onnx", "*.onnx_data", "*.msgpack", "*.h5", "*.ot", "*.tflite", "*.mlpackage/*",
                 "onnx/*", "original/*", "coreml/*", ".gitattributes")
"""Repo files no Vidi backend reads (other runtimes' formats); never downloaded."""

WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pth", "*.pt")


# ----------------------------------------------------------------------------------------------------------------
# Errors (messages are meant for the user as they are)
# ----------------------------------------------------------------------------------------------------------------


class ModelManagerError(ModelsError):
    """A model could not be listed, fetched, imported or removed."""


class UnknownModelError(ModelManagerError):
    pass


class NotDownloadableError(ModelManagerError):
    """The model is built locally (e.g. Video-LLaMA): the message says how."""


class GatedModelError(ModelManagerError):
    """The hub wants the user to accept terms (or log in) first: the message says what and where."""


class InsufficientDiskSpaceError(ModelManagerError):
    pass


class IntegrityError(ModelManagerError):
    """A downloaded file does not match the hub's size or hash; it was deleted."""


class DownloadCancelled(ModelManagerError):
    """The user cancelled; what was fetched so far is kept and the next pull resumes from it."""


class InvalidModelFolderError(ModelManagerError):
    pass


# ----------------------------------------------------------------------------------------------------------------
# Plain data for callers (CLI, GUI)
# ----------------------------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class ModelStatus:
    """One row of ``ModelManager.list()``.

    ``state``: "downloaded" (by Vidi), "imported" (a folder of the user's), "in-cache" (complete in the HF cache
    but fetched by another tool), "partial" (an interrupted pull to resume), "not-downloaded", or "build-locally"
    (not downloadable as one repo). ``entry`` is None for imported models under an id of their own.
    """

    id: str
    state: str
    entry: CatalogEntry | None
    path: Path | None = None
    size_on_disk_bytes: int = 0

    @property
    def available(self) -> bool:
        return self.state in ("downloaded", "imported", "in-cache")


@dataclass(frozen=True)
class RemoveResult:
    model_id: str
    freed_bytes: int
    message: str


# ----------------------------------------------------------------------------------------------------------------
# Folder checks
# ----------------------------------------------------------------------------------------------------------------


def model_folder_problems(folder: Path) -> list[str]:
    """Why ``folder`` is not a usable model folder (empty list when it is): config.json and weights present."""
    folder = Path(folder)
    if not folder.is_dir():
        return [f"'{folder}' is not a folder"]
    problems = []
    config = folder / "config.json"
    if not config.is_file():
        problems.append("it has no config.json")
    else:
        try:
            json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            problems.append("its config.json is not valid JSON")
    weights = [p for pattern in WEIGHT_PATTERNS for p in _glob_depth(folder, pattern, depth=2)]
    if not weights:
        problems.append("it has no weights (*.safetensors or *.bin)")
    for index in _glob_depth(folder, "*.index.json", depth=2):
        try:
            shards = set(json.loads(index.read_text(encoding="utf-8")).get("weight_map", {}).values())
        except (OSError, ValueError, AttributeError):
            problems.append(f"{index.name} is not valid JSON")
            continue
        missing = sorted(s for s in shards if not (index.parent / s).is_file())
        if missing:
            problems.append(f"weight files listed in {index.name} are missing: {', '.join(missing[:3])}")
    return problems


def _glob_depth(folder: Path, pattern: str, depth: int) -> list[Path]:
    found = list(folder.glob(pattern))
    if depth > 1:
        for child in folder.iterdir():
            if child.is_dir():
                found += _glob_depth(child, pattern, depth - 1)
    return found


def _folder_size(folder: Path) -> int:
    total = 0
    for path in Path(folder).rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size  # follows snapshot symlinks to their blobs
        except OSError:
            continue
    return total


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.strip().lower()).strip("-.") or "model"


# ----------------------------------------------------------------------------------------------------------------
# The manager
# ----------------------------------------------------------------------------------------------------------------


class ModelManager:
    """Catalog + the models on this machine. Cheap to build: nothing is read or fetched until asked.

    ``downloader``: the hub (default: core_model.models.hub.HubDownloader, created on the first pull).
    ``free_space``: bytes free on the disk holding a folder (default: shutil.disk_usage), injectable for tests.
    ``cache_dir``: huggingface_hub's cache (default: its HF_HUB_CACHE setting). ``data_folder``: Vidi's data
    folder (default: $VIDI_DATA_DIR or the platform's user data folder).
    """

    def __init__(
        self,
        *,
        data_folder: Path | None = None,
        cache_dir: Path | None = None,
        downloader: Downloader | None = None,
        free_space: Callable[[Path], int] | None = None,
        catalog: Sequence[CatalogEntry] = ALL_MODELS,
        revision: str | None = None,
    ) -> None:
        self.data_folder = Path(data_folder) if data_folder is not None else data_dir()
        if cache_dir is None:
            from huggingface_hub import constants

            cache_dir = Path(constants.HF_HUB_CACHE)
        self.cache_dir = Path(cache_dir)
        self.registry = Registry(self.data_folder / REGISTRY_FILENAME)
        self.catalog = tuple(catalog)
        self.revision = revision
        self._downloader = downloader
        self._free_space = free_space or (lambda path: shutil.disk_usage(path).free)
        self._pull_lock = threading.Lock()

    # -- looking ---------------------------------------------------------------------------------------------------

    def entry(self, model_id: str) -> CatalogEntry | None:
        return get_entry(model_id, self.catalog)

    def list(self) -> list[ModelStatus]:
        """Every catalog model with its state here, then imported models that have ids of their own."""
        registered = self.registry.all()
        rows = [self.status(entry.id) for entry in self.catalog]
        catalog_ids = {entry.id for entry in self.catalog}
        for model_id in sorted(set(registered) - catalog_ids):
            rows.append(self.status(model_id))
        return rows

    def status(self, model_id: str) -> ModelStatus:
        entry = self.entry(model_id)
        record = self.registry.get(model_id)
        if record is not None and not model_folder_problems(Path(record.path)):
            path = Path(record.path)
            size = record.size_bytes if record.source == "downloaded" and record.size_bytes else _folder_size(path)
            return ModelStatus(model_id, record.source, entry, path, size)
        if entry is None:
            if record is not None:  # imported folder that went away or broke
                return ModelStatus(model_id, "missing", None, Path(record.path))
            raise UnknownModelError(self._unknown_message(model_id))
        if not entry.downloadable:
            return ModelStatus(model_id, "build-locally", entry)
        cached = self._cached_snapshot(entry.repo_id)
        if cached is not None:
            return ModelStatus(model_id, "in-cache", entry, cached, _folder_size(cached))
        partial = self._partial_bytes(entry.repo_id)
        if partial:
            return ModelStatus(model_id, "partial", entry, None, partial)
        return ModelStatus(model_id, "not-downloaded", entry)

    def local_path(self, model_id: str) -> Path | None:
        """The folder to load ``model_id`` from, when it is complete on this machine; else None."""
        try:
            status = self.status(model_id)
        except UnknownModelError:
            return None
        return status.path if status.available else None

    # -- pulling ---------------------------------------------------------------------------------------------------

    def plan_pull(self, model_id: str) -> tuple[CatalogEntry, RepoListing, list[RemoteFile]]:
        """Ask the hub what a pull of ``model_id`` would fetch: (entry, listing, files still missing here)."""
        entry = self._downloadable_entry(model_id)
        listing = self._list_files(entry)
        wanted = self._wanted_files(listing.files)
        repo_dir = self._repo_dir(entry.repo_id)
        missing = [f for f in wanted if not (repo_dir / "snapshots" / listing.commit / f.path).is_file()]
        return entry, listing, missing

    def pull(
        self,
        model_id: str,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RegisteredModel:
        """Download ``model_id`` from the hub into the HF cache and register it. Blocking; run it off the GUI thread.

        Raises GatedModelError, InsufficientDiskSpaceError, IntegrityError, DownloadCancelled (partial files are
        kept for the next pull), NotDownloadableError, UnknownModelError or ModelManagerError (hub/network).
        """
        if not self._pull_lock.acquire(blocking=False):
            raise ModelManagerError("Another download is running; wait for it or cancel it first.")
        try:
            return self._pull(model_id, progress, cancel or CancelToken())
        finally:
            self._pull_lock.release()

    def _pull(self, model_id: str, progress: ProgressCallback | None, cancel: CancelToken) -> RegisteredModel:
        from filelock import FileLock, Timeout  # huggingface_hub's own dependency

        entry = self._downloadable_entry(model_id)
        locks = self.data_folder / "locks"  # in Vidi's folder: the HF cache is not touched before the disk check
        locks.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(locks / (self._repo_dir(entry.repo_id).name + ".lock")))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise ModelManagerError(
                f"{entry.name} is already being downloaded by another Vidi window or command; wait for it to finish."
            ) from None
        try:
            return self._pull_locked(model_id, progress, cancel)
        finally:
            lock.release()

    def _pull_locked(self, model_id: str, progress: ProgressCallback | None, cancel: CancelToken) -> RegisteredModel:
        entry, listing, missing = self.plan_pull(model_id)
        repo_dir = self._repo_dir(entry.repo_id)
        wanted = self._wanted_files(listing.files)
        total = sum(f.size for f in wanted)
        already = total - sum(f.size for f in missing)
        partial = sum(self._partial_size(repo_dir, f) for f in missing)
        self._check_disk_space(entry, sum(f.size for f in missing) - partial)

        tracker = _ProgressTracker(entry.id, total, already + partial, len(wanted), len(wanted) - len(missing),
                                   progress)
        for remote_file in missing:
            if cancel.cancelled:
                raise DownloadCancelled(f"Download of {entry.name} cancelled; 'pull' again to resume.")
            self._fetch_file(entry, listing, remote_file, repo_dir, tracker, cancel)
            tracker.file_done(remote_file.path)
        (repo_dir / "refs").mkdir(parents=True, exist_ok=True)
        (repo_dir / "refs" / (self.revision or "main")).write_text(listing.commit, encoding="utf-8")
        snapshot = repo_dir / "snapshots" / listing.commit
        problems = model_folder_problems(snapshot)
        if problems:
            raise ModelManagerError(f"{entry.repo_id} was downloaded but is not a usable model: {'; '.join(problems)}.")
        record = RegisteredModel(
            id=entry.id, source="downloaded", path=str(snapshot), repo_id=entry.repo_id, commit=listing.commit,
            size_bytes=total, model_type=_model_type(snapshot), files=[f.path for f in wanted],
        )
        self.registry.put(record)
        tracker.finish()
        return record

    def _fetch_file(
        self,
        entry: CatalogEntry,
        listing: RepoListing,
        remote_file: RemoteFile,
        repo_dir: Path,
        tracker: "_ProgressTracker",
        cancel: CancelToken,
    ) -> None:
        blobs = repo_dir / "blobs"
        blobs.mkdir(parents=True, exist_ok=True)
        blob = blobs / remote_file.blob_name
        if blob.is_file() and blob.stat().st_size == remote_file.size:  # already here for another snapshot
            tracker.add(remote_file.size)
        else:
            part = blobs / (remote_file.blob_name + PARTIAL_SUFFIX)
            offset = part.stat().st_size if part.is_file() else 0
            if offset > remote_file.size:  # a stale partial file from another version: start over
                part.unlink()
                tracker.add(-offset)
                offset = 0
            hasher = _Hasher(remote_file)
            if offset:
                with part.open("rb") as existing:
                    for block in iter(lambda: existing.read(1 << 22), b""):
                        hasher.update(block)
            tracker.start_file(remote_file.path)
            try:
                with part.open("ab") as out:
                    chunks = self._chunks(entry, listing, remote_file, offset) if offset < remote_file.size else ()
                    for chunk in chunks:  # nothing to fetch when an earlier try stopped right before the check
                        if cancel.cancelled:
                            raise DownloadCancelled(f"Download of {entry.name} cancelled; 'pull' again to resume.")
                        out.write(chunk)
                        hasher.update(chunk)
                        tracker.add(len(chunk))
            finally:
                tracker.emit(force=True)
            size = part.stat().st_size
            problem = hasher.problem(size)
            if problem:
                part.unlink(missing_ok=True)
                tracker.add(-size)
                raise IntegrityError(
                    f"{remote_file.path} of {entry.repo_id} is damaged ({problem}); it was deleted: pull again."
                )
            os.replace(part, blob)
        pointer = repo_dir / "snapshots" / listing.commit / remote_file.path
        pointer.parent.mkdir(parents=True, exist_ok=True)
        if pointer.is_symlink() or pointer.exists():
            pointer.unlink()
        try:
            os.symlink(os.path.relpath(blob, pointer.parent), pointer)
        except OSError:  # no symlinks (Windows without developer mode): the file itself goes in, as huggingface_hub does
            shutil.move(blob, pointer)

    def _chunks(self, entry: CatalogEntry, listing: RepoListing, remote_file: RemoteFile, offset: int):
        try:
            yield from self.downloader.fetch(entry.repo_id, listing.commit, remote_file, offset)
        except HubAccessDeniedError as exc:
            raise GatedModelError(self._gated_message(entry, exc)) from exc
        except HubError as exc:
            raise ModelManagerError(f"{exc} What was fetched so far is kept; 'pull' again to resume.") from exc

    # -- importing and removing ------------------------------------------------------------------------------------

    def import_folder(self, path: str | os.PathLike, id: str | None = None) -> RegisteredModel:  # noqa: A002
        """Register a model folder the user already has (an offline machine, a converted model). Never copied.

        ``id`` defaults to the folder's name. A catalog id may be given (e.g. "videollama2-7b" for a converted
        Video-LLaMA, or "gemma-4-e2b" for a copy made elsewhere); it must not replace a model Vidi downloaded.
        """
        folder = Path(path).expanduser()
        problems = model_folder_problems(folder)
        if problems:
            raise InvalidModelFolderError(f"Cannot import '{folder}': {'; '.join(problems)}.")
        folder = folder.resolve()
        model_id = _slug(id) if id else _slug(folder.name)
        existing = self.registry.get(model_id)
        if existing is not None and existing.source == "downloaded":
            raise ModelManagerError(
                f"'{model_id}' is a model Vidi downloaded; remove it first or import under another --id."
            )
        if existing is not None and Path(existing.path) != folder:
            raise ModelManagerError(f"The id '{model_id}' is already used by '{existing.path}'; choose another --id.")
        record = RegisteredModel(
            id=model_id, source="imported", path=str(folder), model_type=_model_type(folder),
            size_bytes=_folder_size(folder),
        )
        self.registry.put(record)
        return record

    def remove(self, model_id: str) -> RemoveResult:
        """Free what Vidi put on the disk for ``model_id``; an imported folder is only unregistered."""
        record = self.registry.get(model_id)
        entry = self.entry(model_id)
        if record is not None and record.source == "imported":
            self.registry.delete(model_id)
            return RemoveResult(model_id, 0, f"Unregistered '{model_id}'; its folder {record.path} was left as it is.")
        if record is not None:
            freed = self._delete_snapshot(Path(record.path), record.commit)
            if record.repo_id:
                freed += self._delete_partials(record.repo_id)
            self.registry.delete(model_id)
            return RemoveResult(model_id, freed, f"Removed '{model_id}', freeing {format_bytes(freed)}.")
        if entry is None:
            raise UnknownModelError(self._unknown_message(model_id))
        if entry.downloadable:
            freed = self._delete_partials(entry.repo_id)
            if freed:
                return RemoveResult(model_id, freed, f"Removed the unfinished download of '{model_id}', "
                                    f"freeing {format_bytes(freed)}.")
            if self._cached_snapshot(entry.repo_id) is not None:
                raise ModelManagerError(
                    f"'{model_id}' is in the Hugging Face cache but was not downloaded by Vidi, so Vidi leaves it; "
                    "remove it with the Hugging Face 'hf cache' command if you want."
                )
        raise ModelManagerError(f"'{model_id}' is not on this machine; there is nothing to remove.")

    # -- helpers ---------------------------------------------------------------------------------------------------

    @property
    def downloader(self) -> Downloader:
        if self._downloader is None:
            from core_model.models.hub import HubDownloader

            self._downloader = HubDownloader()
        return self._downloader

    def _downloadable_entry(self, model_id: str) -> CatalogEntry:
        entry = self.entry(model_id)
        if entry is None:
            raise UnknownModelError(self._unknown_message(model_id))
        if not entry.downloadable:
            raise NotDownloadableError(f"{entry.name} cannot be pulled. {entry.how_to_get}")
        return entry

    def _list_files(self, entry: CatalogEntry) -> RepoListing:
        try:
            return self.downloader.list_files(entry.repo_id, self.revision)
        except HubAccessDeniedError as exc:
            raise GatedModelError(self._gated_message(entry, exc)) from exc
        except HubError as exc:
            raise ModelManagerError(str(exc)) from exc

    def _gated_message(self, entry: CatalogEntry, exc: Exception) -> str:
        licence = f" ({entry.licence}: {entry.licence_url})" if entry.licence_url else ""
        note = f" {entry.access_note}" if entry.access_note else ""
        return (
            f"{entry.name} needs you to accept its terms{licence} on its page {entry.hub_url} while logged in to "
            f"Hugging Face, and to log in on this machine with 'hf auth login' (or set HF_TOKEN).{note}"
        )

    @staticmethod
    def _wanted_files(files: Iterable[RemoteFile]) -> list[RemoteFile]:
        files = [f for f in files if not any(fnmatch.fnmatch(f.path, pattern) for pattern in IGNORED_FILES)]
        if any(f.path.endswith(".safetensors") for f in files):  # the same weights as PyTorch pickles: skip those
            files = [f for f in files if not fnmatch.fnmatch(f.path, "pytorch_model*.bin")]
        return files

    def _check_disk_space(self, entry: CatalogEntry, needed: int) -> None:
        if needed <= 0:
            return
        probe = self.cache_dir
        while not probe.exists() and probe.parent != probe:
            probe = probe.parent
        free = int(self._free_space(probe))
        if needed + DISK_MARGIN_BYTES > free:
            raise InsufficientDiskSpaceError(
                f"Not enough disk space for {entry.name}: it needs {format_bytes(needed)} "
                f"(plus {format_bytes(DISK_MARGIN_BYTES)} to spare) and {probe} has {format_bytes(free)} free. "
                "Free some space, or point HF_HUB_CACHE at a bigger disk."
            )

    def _repo_dir(self, repo_id: str) -> Path:
        return self.cache_dir / ("models--" + repo_id.replace("/", "--"))

    def _cached_snapshot(self, repo_id: str) -> Path | None:
        repo_dir = self._repo_dir(repo_id)
        ref = repo_dir / "refs" / (self.revision or "main")
        try:
            commit = ref.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        snapshot = repo_dir / "snapshots" / commit
        return snapshot if not model_folder_problems(snapshot) else None

    @staticmethod
    def _partial_size(repo_dir: Path, remote_file: RemoteFile) -> int:
        part = repo_dir / "blobs" / (remote_file.blob_name + PARTIAL_SUFFIX)
        return min(part.stat().st_size, remote_file.size) if part.is_file() else 0

    def _partial_bytes(self, repo_id: str) -> int:
        blobs = self._repo_dir(repo_id) / "blobs"
        return sum(p.stat().st_size for p in blobs.glob("*" + PARTIAL_SUFFIX)) if blobs.is_dir() else 0

    def _delete_partials(self, repo_id: str) -> int:
        freed = 0
        blobs = self._repo_dir(repo_id) / "blobs"
        for part in blobs.glob("*" + PARTIAL_SUFFIX) if blobs.is_dir() else ():
            freed += part.stat().st_size
            part.unlink()
        return freed

    def _delete_snapshot(self, snapshot: Path, commit: str | None) -> int:
        """Delete one snapshot and the blobs no other snapshot uses; drop the repo folder when nothing is left."""
        snapshots_dir = snapshot.parent
        repo_dir = snapshots_dir.parent
        if snapshots_dir.name != "snapshots" or not repo_dir.name.startswith("models--"):
            raise ModelManagerError(f"Refusing to delete '{snapshot}': it is not a Hugging Face cache snapshot.")
        freed = 0
        if snapshot.is_dir():
            used_here = _blob_targets(snapshot)
            used_elsewhere = set()
            for other in snapshots_dir.iterdir():
                if other != snapshot and other.is_dir():
                    used_elsewhere |= _blob_targets(other)
            for path in snapshot.rglob("*"):
                if path.is_file() and not path.is_symlink():
                    freed += path.stat().st_size  # files stored in the snapshot itself (no-symlink mode)
            shutil.rmtree(snapshot)
            for blob in used_here - used_elsewhere:
                if blob.is_file():
                    freed += blob.stat().st_size
                    blob.unlink()
        refs = repo_dir / "refs"
        for ref in refs.glob("*") if refs.is_dir() else ():
            if ref.is_file() and ref.read_text(encoding="utf-8").strip() == commit:
                ref.unlink()
        if not any(p.is_dir() for p in snapshots_dir.glob("*")) if snapshots_dir.is_dir() else True:
            for leftover in (repo_dir / "blobs").glob("*") if (repo_dir / "blobs").is_dir() else ():
                if leftover.is_file():
                    freed += leftover.stat().st_size
            shutil.rmtree(repo_dir, ignore_errors=True)
        return freed

    def _unknown_message(self, model_id: str) -> str:
        known = ", ".join(entry.id for entry in self.catalog)
        return f"Unknown model '{model_id}'. Catalog models: {known}; or import a folder with 'vidi models import'."


def _blob_targets(snapshot: Path) -> set[Path]:
    targets = set()
    for path in snapshot.rglob("*"):
        if path.is_symlink():
            targets.add(Path(os.path.normpath(path.parent / os.readlink(path))))
    return targets


def _model_type(folder: Path) -> str:
    try:
        return str(json.loads((Path(folder) / "config.json").read_text(encoding="utf-8")).get("model_type", ""))
    except (OSError, ValueError, AttributeError):
        return ""


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


class _ProgressTracker:
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
