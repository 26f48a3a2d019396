"""The library scan: what is new, changed, renamed or moved, and removed in the library's folders since last time.

    report = scan_library(library)
    report.new          # [Path('/videos/lake.mp4')]: to index
    report.moved        # [(Path('/videos/a.mp4'), Path('/videos/2025/lake day.mp4'))]: same content, new path
    report.removed      # [Path('/videos/gone.mp4')]

Cheap first: a file whose size and modification time are what the last scan saw is not read at all. Only a file
that is new or whose size or mtime changed is fingerprinted (core_model.store.fingerprint: 2 MiB read, a few
milliseconds). A new path whose fingerprint is that of a file that vanished is the same video renamed or moved: it
keeps its row (its index state), and the conversation store's record follows it, so its index and chats show under
the new path. A folder that is missing (an unplugged drive) is reported and its videos are kept as they were.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from core_model.library.library_store import FolderRecord, LibraryFile, LibraryStore
from core_model.store.fingerprint import fingerprint_file

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".wmv", ".flv",
                            ".ts", ".mts", ".m2ts", ".3gp", ".ogv"})
"""File name endings the scan takes for videos (lower case); anything else in a folder is left alone."""


@dataclass
class ScanReport:
    new: list[Path] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)
    moved: list[tuple[Path, Path]] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    unreadable: dict[Path, str] = field(default_factory=dict)
    missing_folders: list[Path] = field(default_factory=list)
    fingerprinted: int = 0
    """How many files were read to fingerprint them (the cheap path reads none)."""

    @property
    def anything(self) -> bool:
        return bool(self.new or self.changed or self.moved or self.removed or self.unreadable)


def video_files(folder: Path) -> list[Path]:
    """The videos under ``folder`` and its subfolders, sorted; hidden files and folders are skipped."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if not name.startswith(".") and Path(name).suffix.lower() in VIDEO_SUFFIXES:
                found.append(Path(root) / name)
    return found


def scan_library(library: LibraryStore) -> ScanReport:
    """Bring ``library``'s files up to date with its folders on disk; what changed is in the report."""
    report = ScanReport()
    known: dict[str, LibraryFile] = {f.path: f for f in library.files()}
    seen: set[str] = set()
    unknown: list[tuple[FolderRecord, Path, os.stat_result]] = []
    scanned_folders: set[int] = set()
    for folder in library.folders():
        root = Path(folder.path)
        if not root.is_dir():
            report.missing_folders.append(root)
            continue
        scanned_folders.add(folder.id)
        for path in video_files(root):
            if str(path) in seen:  # a folder inside another folder of the library
                continue
            seen.add(str(path))
            try:
                stat = path.stat()
            except OSError as exc:
                report.unreadable[path] = exc.strerror or str(exc)
                continue
            record = known.get(str(path))
            if record is None:
                unknown.append((folder, path, stat))
            elif (record.size_bytes, record.mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                _recheck(library, record, path, stat, report)
    vanished = [f for f in known.values() if f.path not in seen and f.folder_id in scanned_folders]
    vanished_by_fingerprint = {f.fingerprint: f for f in vanished if f.fingerprint}
    moved_ids: set[int] = set()
    for folder, path, stat in unknown:
        try:
            fingerprint = fingerprint_file(path)
            report.fingerprinted += 1
        except OSError as exc:
            note = f"cannot read: {exc.strerror or exc}"
            library.add_file(folder.id, path, "", stat.st_size, stat.st_mtime_ns, state="failed", note=note)
            report.unreadable[path] = note
            continue
        before = vanished_by_fingerprint.pop(fingerprint, None)
        if before is not None:
            library.move_file(before.id, folder.id, path, stat.st_size, stat.st_mtime_ns)
            moved_ids.add(before.id)
            report.moved.append((Path(before.path), path))
        else:
            library.add_file(folder.id, path, fingerprint, stat.st_size, stat.st_mtime_ns)
            report.new.append(path)
    for gone in vanished:
        if gone.id not in moved_ids:
            library.remove_file(gone.id)
            report.removed.append(Path(gone.path))
    return report


def _recheck(library: LibraryStore, record: LibraryFile, path: Path, stat: os.stat_result,
             report: ScanReport) -> None:
    """A known path whose size or mtime changed: new content is indexed again; a touched file only updates."""
    try:
        fingerprint = fingerprint_file(path)
        report.fingerprinted += 1
    except OSError as exc:
        note = f"cannot read: {exc.strerror or exc}"
        library.update_file(record.id, state="failed", note=note, size_bytes=stat.st_size, mtime_ns=stat.st_mtime_ns)
        report.unreadable[path] = note
        return
    if fingerprint == record.fingerprint:
        library.update_file(record.id, size_bytes=stat.st_size, mtime_ns=stat.st_mtime_ns)
        return
    library.update_file(record.id, fingerprint=fingerprint, size_bytes=stat.st_size, mtime_ns=stat.st_mtime_ns,
                        state="new", note="", duration_s=None)
    report.changed.append(path)
