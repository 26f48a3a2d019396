"""Where models lie on disk: huggingface_hub's cache layout, and what makes a folder a model folder.

    <cache>/models--org--name/blobs/<etag>                   a file's bytes, named by its hash
    <cache>/models--org--name/blobs/<etag>.vidi-partial      an unfinished download (the next pull resumes from it)
    <cache>/models--org--name/snapshots/<commit>/<path>      links to the blobs (the files themselves without symlinks)
    <cache>/models--org--name/refs/main                      the commit of the snapshot

Transformers and the ``hf`` tool read the same layout. Names that come from a hub listing (file paths, the commit,
hashes) become paths here only after ``check_listing`` accepted them, and ``HubCache.snapshot_file`` checks the
resolved path again: a hostile hub or mirror cannot make Vidi write or delete anything outside the snapshot folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path, PurePosixPath

from core_model.models.errors import ModelManagerError, UnsafeListingError
from core_model.models.hub import RemoteFile, RepoListing

PARTIAL_SUFFIX = ".vidi-partial"
WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.pth", "*.pt")

_COMMIT = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,99}")  # the hub's are 40 hex digits; no "/" and no ".." ever
_SHA256 = re.compile(r"[0-9a-f]{64}")
_GIT_SHA1 = re.compile(r"[0-9a-f]{40}")
_DRIVE = re.compile(r"^[A-Za-z]:")


# ----------------------------------------------------------------------------------------------------------------
# Names from the hub
# ----------------------------------------------------------------------------------------------------------------


def check_listing(listing: RepoListing) -> None:
    """Refuse a listing with any name that cannot safely become a path (UnsafeListingError, naming the file)."""
    where = f"The hub's listing of {listing.repo_id}"
    if not _COMMIT.fullmatch(listing.commit or "") or ".." in listing.commit:
        raise UnsafeListingError(f"{where} names an invalid commit {listing.commit!r}; nothing was downloaded.")
    for remote_file in listing.files:
        problem = path_problem(remote_file.path)
        if problem:
            raise UnsafeListingError(
                f"{where} has a file name that would be written outside the model folder ({remote_file.path!r}: "
                f"{problem}); nothing was downloaded. Is HF_ENDPOINT pointing at a mirror you trust?"
            )
        if remote_file.sha256 is not None and not _SHA256.fullmatch(remote_file.sha256):
            raise UnsafeListingError(f"{where} gives {remote_file.path} an invalid SHA-256; nothing was downloaded.")
        if remote_file.blob_id is not None and not _GIT_SHA1.fullmatch(remote_file.blob_id):
            raise UnsafeListingError(f"{where} gives {remote_file.path} an invalid blob id; nothing was downloaded.")
        if remote_file.size < 0:
            raise UnsafeListingError(f"{where} gives {remote_file.path} a negative size; nothing was downloaded.")


def path_problem(name: str) -> str | None:
    """Why the repo file name ``name`` is not a plain relative path inside the repo (None when it is)."""
    if not name:
        return "empty"
    if "\x00" in name or "\\" in name:
        return "a NUL or backslash in it"
    if name.startswith("/") or _DRIVE.match(name) or PurePosixPath(name).is_absolute():
        return "an absolute path"
    if any(part in ("", ".", "..") for part in name.split("/")):
        return "a '..', '.' or empty part"
    return None


# ----------------------------------------------------------------------------------------------------------------
# The cache
# ----------------------------------------------------------------------------------------------------------------


class HubCache:
    """One huggingface_hub cache folder (``root``), as Vidi reads and writes it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def repo_dir(self, repo_id: str) -> Path:
        return self.root / ("models--" + repo_id.replace("/", "--"))

    def snapshot_dir(self, repo_id: str, commit: str) -> Path:
        return self.repo_dir(repo_id) / "snapshots" / commit

    def snapshot_file(self, repo_id: str, commit: str, name: str) -> Path:
        """The path of repo file ``name`` in the snapshot; UnsafeListingError when it would land outside it (also
        through a symlinked folder already on disk)."""
        snapshot = self.snapshot_dir(repo_id, commit)
        problem = path_problem(name)
        target = snapshot / name
        # the folder it goes in, resolved (the file itself is a link to its blob, outside the snapshot by design)
        if problem is None and not Path(os.path.realpath(target.parent)).is_relative_to(os.path.realpath(snapshot)):
            problem = "it leads outside the snapshot folder"
        if problem:
            raise UnsafeListingError(f"Refusing to write {name!r} for {repo_id}: {problem}.")
        return target

    def blob(self, repo_id: str, remote_file: RemoteFile) -> Path:
        return self.repo_dir(repo_id) / "blobs" / remote_file.blob_name

    def partial(self, repo_id: str, remote_file: RemoteFile) -> Path:
        return self.repo_dir(repo_id) / "blobs" / (remote_file.blob_name + PARTIAL_SUFFIX)

    def partial_size(self, repo_id: str, remote_file: RemoteFile) -> int:
        part = self.partial(repo_id, remote_file)
        return min(part.stat().st_size, remote_file.size) if part.is_file() else 0

    def partial_bytes(self, repo_id: str) -> int:
        blobs = self.repo_dir(repo_id) / "blobs"
        return sum(p.stat().st_size for p in blobs.glob("*" + PARTIAL_SUFFIX)) if blobs.is_dir() else 0

    def delete_partials(self, repo_id: str) -> int:
        freed = 0
        blobs = self.repo_dir(repo_id) / "blobs"
        for part in blobs.glob("*" + PARTIAL_SUFFIX) if blobs.is_dir() else ():
            freed += part.stat().st_size
            part.unlink()
        return freed

    def write_ref(self, repo_id: str, revision: str | None, commit: str) -> None:
        refs = self.repo_dir(repo_id) / "refs"
        refs.mkdir(parents=True, exist_ok=True)
        (refs / (revision or "main")).write_text(commit, encoding="utf-8")

    def cached_snapshot(self, repo_id: str, revision: str | None) -> Path | None:
        """The complete snapshot the ref points at (put there by Vidi or another tool), else None."""
        ref = self.repo_dir(repo_id) / "refs" / (revision or "main")
        try:
            commit = ref.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        if not _COMMIT.fullmatch(commit) or ".." in commit:
            return None
        snapshot = self.snapshot_dir(repo_id, commit)
        return snapshot if not model_folder_problems(snapshot) else None

    def delete_snapshot(self, snapshot: Path, commit: str | None) -> int:
        """Delete one snapshot and the blobs no other snapshot uses; drop the repo folder when nothing is left."""
        snapshots_dir = snapshot.parent
        repo_dir = snapshots_dir.parent
        if snapshots_dir.name != "snapshots" or not repo_dir.name.startswith("models--"):
            raise ModelManagerError(f"Refusing to delete '{snapshot}': it is not a Hugging Face cache snapshot.")
        freed = 0
        if snapshot.is_dir():
            used_here = blob_targets(snapshot)
            used_elsewhere = set()
            for other in snapshots_dir.iterdir():
                if other != snapshot and other.is_dir():
                    used_elsewhere |= blob_targets(other)
            for path in snapshot.rglob("*"):
                if path.is_file() and not path.is_symlink():
                    freed += path.stat().st_size  # files stored in the snapshot itself (no-symlink mode)
            shutil.rmtree(snapshot)
            for blob in used_here - used_elsewhere:
                if blob.is_file() and blob.parent == repo_dir / "blobs":  # never a file a link points at elsewhere
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


def blob_targets(snapshot: Path) -> set[Path]:
    targets = set()
    for path in snapshot.rglob("*"):
        if path.is_symlink():
            targets.add(Path(os.path.normpath(path.parent / os.readlink(path))))
    return targets


# ----------------------------------------------------------------------------------------------------------------
# Model folders
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
            settings = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            problems.append("its config.json is not valid JSON")
        else:
            if not isinstance(settings, dict):  # a JSON list or number loads, but is no model's configuration
                problems.append("its config.json is not a model configuration (not a JSON object)")
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


def folder_size(folder: Path) -> int:
    total = 0
    for path in Path(folder).rglob("*"):
        try:
            if path.is_file():
                total += path.stat().st_size  # follows snapshot symlinks to their blobs
        except OSError:
            continue
    return total


def model_type(folder: Path) -> str:
    try:
        return str(json.loads((Path(folder) / "config.json").read_text(encoding="utf-8")).get("model_type", ""))
    except (OSError, ValueError, AttributeError):
        return ""
