"""The model manager: which models are on this machine, and getting them there or off it.

    manager = ModelManager()                                # registry in the Vidi data folder, the HF cache
    manager.list()                                         # [ModelStatus(id, state="downloaded", ...), ...]
    manager.pull("gemma-4-e2b", progress=print, cancel=token)  # only ever when the user asks
    manager.import_folder("/data/my-qwen", id="qwen-local")   # a folder the user already has
    manager.local_path("gemma-4-e2b")                      # Path of the snapshot folder, or None
    manager.remove("gemma-4-e2b")                          # frees the disk (imported folders: unregistered only)

This module is the facade; the work lives beside it: ``cache.py`` (huggingface_hub's cache layout, which transformers
and the ``hf`` tool see too, and the checks that keep every hub file name inside its snapshot folder),
``download.py`` (resumable, verified file fetching with progress) and ``hub.py`` (the network). Before anything is
fetched the listing's names are checked and the free disk space is checked against the hub's file sizes.
Nothing here imports Qt or torch; progress and cancel are plain callbacks.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from core_model.backends.base import CancelToken
from core_model.models.cache import (
    PARTIAL_SUFFIX,
    WEIGHT_PATTERNS,
    HubCache,
    check_listing,
    folder_size,
    model_folder_problems,
    model_type,
)
from core_model.models.catalog import ALL_MODELS, CatalogEntry, format_bytes, get_entry
from core_model.models.download import (
    IGNORED_FILES,
    FileFetcher,
    ProgressCallback,
    ProgressTracker,
    PullProgress,
    wanted_files,
)
from core_model.models.errors import (
    DownloadCancelled,
    GatedModelError,
    InsufficientDiskSpaceError,
    IntegrityError,
    InvalidModelFolderError,
    ModelManagerError,
    NotDownloadableError,
    UnknownModelError,
    UnsafeListingError,
)
from core_model.models.hub import Downloader, HubAccessDeniedError, HubError, RemoteFile, RepoListing
from core_model.models.registry import REGISTRY_FILENAME, RegisteredModel, Registry, data_dir

__all__ = [  # the public names this module has always had, wherever they live now
    "DISK_MARGIN_BYTES", "IGNORED_FILES", "PARTIAL_SUFFIX", "WEIGHT_PATTERNS", "DownloadCancelled", "GatedModelError",
    "InsufficientDiskSpaceError", "IntegrityError", "InvalidModelFolderError", "ModelManager", "ModelManagerError",
    "ModelStatus", "NotDownloadableError", "PullProgress", "RemoveResult", "UnknownModelError", "UnsafeListingError",
    "model_folder_problems",
]

DISK_MARGIN_BYTES = 500_000_000
"""Free space to leave on the disk after a download (the OS, the app's own files)."""


# ----------------------------------------------------------------------------------------------------------------
# Plain data for callers (CLI, GUI)
# ----------------------------------------------------------------------------------------------------------------


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
        self.cache = HubCache(self.cache_dir)
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
            size = record.size_bytes if record.source == "downloaded" and record.size_bytes else folder_size(path)
            return ModelStatus(model_id, record.source, entry, path, size)
        if entry is None:
            if record is not None:  # imported folder that went away or broke
                return ModelStatus(model_id, "missing", None, Path(record.path))
            raise UnknownModelError(self._unknown_message(model_id))
        if not entry.downloadable:
            return ModelStatus(model_id, "build-locally", entry)
        cached = self.cache.cached_snapshot(entry.repo_id, self.revision)
        if cached is not None:
            return ModelStatus(model_id, "in-cache", entry, cached, folder_size(cached))
        partial = self.cache.partial_bytes(entry.repo_id)
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
        """Ask the hub what a pull of ``model_id`` would fetch: (entry, listing, files still missing here).

        Raises UnsafeListingError, before anything is written or deleted, when a name in the listing would put a
        file outside the snapshot folder.
        """
        entry = self._downloadable_entry(model_id)
        listing = self._list_files(entry)
        check_listing(listing)
        wanted = wanted_files(listing.files)
        missing = [f for f in wanted
                   if not self.cache.snapshot_file(entry.repo_id, listing.commit, f.path).is_file()]
        return entry, listing, missing

    def pull(
        self,
        model_id: str,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> RegisteredModel:
        """Download ``model_id`` from the hub into the HF cache and register it. Blocking; run it off the GUI thread.

        Raises GatedModelError, InsufficientDiskSpaceError, IntegrityError, DownloadCancelled (partial files are
        kept for the next pull), NotDownloadableError, UnknownModelError, UnsafeListingError or ModelManagerError
        (hub/network).
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
        lock = FileLock(str(locks / (self.cache.repo_dir(entry.repo_id).name + ".lock")))
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
        wanted = wanted_files(listing.files)
        total = sum(f.size for f in wanted)
        already = total - sum(f.size for f in missing)
        partial = sum(self.cache.partial_size(entry.repo_id, f) for f in missing)
        self._check_disk_space(entry, sum(f.size for f in missing) - partial)

        tracker = ProgressTracker(entry.id, total, already + partial, len(wanted), len(wanted) - len(missing),
                                  progress)
        fetcher = FileFetcher(self.downloader, self.cache, listing, entry.name,
                              map_hub_error=lambda exc: self._fetch_error(entry, exc))
        for remote_file in missing:
            if cancel.cancelled:
                raise DownloadCancelled(f"Download of {entry.name} cancelled; 'pull' again to resume.")
            fetcher.fetch(remote_file, tracker, cancel)
            tracker.file_done(remote_file.path)
        self.cache.write_ref(entry.repo_id, self.revision, listing.commit)
        snapshot = self.cache.snapshot_dir(entry.repo_id, listing.commit)
        problems = model_folder_problems(snapshot)
        if problems:
            raise ModelManagerError(f"{entry.repo_id} was downloaded but is not a usable model: {'; '.join(problems)}.")
        record = RegisteredModel(
            id=entry.id, source="downloaded", path=str(snapshot), repo_id=entry.repo_id, commit=listing.commit,
            size_bytes=total, model_type=model_type(snapshot), files=[f.path for f in wanted],
        )
        self.registry.put(record)
        tracker.finish()
        return record

    def _fetch_error(self, entry: CatalogEntry, exc: HubError) -> ModelManagerError:
        if isinstance(exc, HubAccessDeniedError):
            return GatedModelError(self._gated_message(entry, exc))
        return ModelManagerError(f"{exc} What was fetched so far is kept; 'pull' again to resume.")

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
            id=model_id, source="imported", path=str(folder), model_type=model_type(folder),
            size_bytes=folder_size(folder),
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
            freed = self.cache.delete_snapshot(Path(record.path), record.commit)
            if record.repo_id:
                freed += self.cache.delete_partials(record.repo_id)
            self.registry.delete(model_id)
            return RemoveResult(model_id, freed, f"Removed '{model_id}', freeing {format_bytes(freed)}.")
        if entry is None:
            raise UnknownModelError(self._unknown_message(model_id))
        if entry.downloadable:
            freed = self.cache.delete_partials(entry.repo_id)
            if freed:
                return RemoveResult(model_id, freed, f"Removed the unfinished download of '{model_id}', "
                                    f"freeing {format_bytes(freed)}.")
            if self.cache.cached_snapshot(entry.repo_id, self.revision) is not None:
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

    def _unknown_message(self, model_id: str) -> str:
        known = ", ".join(entry.id for entry in self.catalog)
        return f"Unknown model '{model_id}'. Catalog models: {known}; or import a folder with 'vidi models import'."
