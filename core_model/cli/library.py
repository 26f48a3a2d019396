"""``vidi library``: the folders of videos Vidi searches, and indexing what is new in them.

    vidi library add ~/Videos            # add a folder (subfolders too); its videos are found at once
    vidi library remove ~/Videos         # take it out (the videos' indexes and chats stay, keyed by content)
    vidi library list                    # folders and their videos: indexed, to index, failed (and why)
    vidi library index [--model ID]      # index what is new, one video at a time, with a progress bar on stderr
    vidi library index --retry-failed    # and try the videos that failed again

Every command first runs the cheap scan (size and mtime; only changed files are read), so new, renamed, moved and
removed videos are noticed. ``index`` resumes where a killed or interrupted run stopped; a video that cannot be
read is noted and skipped. ``--model``: the model that captions the scenes and titles chapters, a catalog id, a
folder, or a server (``remote+http://gpu-box:8000/v1#MODEL``: a GPU box indexes while this machine stays free); one
that cannot be loaded (the server is down) stops the run with one line, the videos left kept to index. Bad input:
one line, exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core_model.cli.index import ProgressLine, format_index_progress


def register(subparsers) -> None:
    parser = subparsers.add_parser("library", help="the folders of videos to search: add, remove, list, index",
                                   description="Manage the library: the folders of videos 'vidi search' searches.")
    actions = parser.add_subparsers(dest="library_action", metavar="ACTION")
    add = actions.add_parser("add", help="add a folder of videos", description="Add a folder (and its subfolders).")
    add.add_argument("folder", metavar="FOLDER")
    add.set_defaults(func=run_add)
    remove = actions.add_parser("remove", help="take a folder out of the library",
                                description="Take a folder out of the library (its videos leave the results).")
    remove.add_argument("folder", metavar="FOLDER")
    remove.set_defaults(func=run_remove)
    listing = actions.add_parser("list", help="list the folders and their videos",
                                 description="List the library's folders and the state of each video.")
    listing.set_defaults(func=run_list)
    index = actions.add_parser("index", help="index the videos that are new (resumable)",
                               description="Index the library's new videos, one at a time, with a progress bar.")
    index.add_argument("--model", metavar="ID_OR_PATH",
                       help="the model that captions the scenes and titles chapters: a catalog id, a folder, or "
                            "remote+http://HOST:PORT/v1#MODEL (a model server)")
    index.add_argument("--asr-model", metavar="ID_OR_PATH",
                       help="the speech model (Whisper) for videos without subtitles")
    index.add_argument("--retry-failed", action="store_true",
                       help="try again the videos that failed (e.g. after fixing their permissions)")
    index.set_defaults(func=run_index)
    parser.set_defaults(func=lambda args: parser.print_help() or 0)


def scanned_library():
    """The library store after the cheap scan (a missing folder: a warning line on stderr)."""
    from core_model.library.library_store import LibraryStore
    from core_model.library.scan import scan_library

    library = LibraryStore()
    try:
        report = scan_library(library)
    except BaseException:
        library.close()
        raise
    for folder in report.missing_folders:
        print(f"vidi: warning: the folder {folder} is missing (unplugged?): its videos are kept as they were",
              file=sys.stderr)
    return library, report


def run_add(args: argparse.Namespace) -> int:
    from core_model.library.library_store import LibraryStore

    with LibraryStore() as library:
        folder = library.add_folder(args.folder)
    library, _ = scanned_library()
    with library:
        files = library.files(folder.id)
    waiting = sum(f.state == "new" for f in files)
    print(f"Added {folder.path}: {_count(len(files), 'video')}, {waiting} to index.")
    if waiting:
        print("Run 'vidi library index' to index them.")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from core_model.library.library_store import LibraryStore

    with LibraryStore() as library:
        folder = library.remove_folder(args.folder)
    print(f"Removed {folder.path} from the library (its videos' indexes and chats are kept).")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from core_model.timefmt import format_clock_s

    library, _ = scanned_library()
    with library:
        folders = library.folders()
        if not folders:
            print("The library is empty: add a folder with 'vidi library add FOLDER'.")
            return 0
        for folder in folders:
            files = library.files(folder.id)
            states = {state: sum(f.state == state for f in files) for state in ("indexed", "new", "failed")}
            print(f"{folder.path}  ({_count(len(files), 'video')}: {states['indexed']} indexed, "
                  f"{states['new']} to index, {states['failed']} failed)")
            for f in files:
                length = format_clock_s(f.duration_s) if f.duration_s else ""
                state = {"new": "to index"}.get(f.state, f.state)
                note = f"  ({f.note})" if f.note else ""
                print(f"  {state:<9} {length:>8}  {Path(f.path).relative_to(folder.path)}{note}")
    return 0


def run_index(args: argparse.Namespace) -> int:
    from core_model.library.queue import index_library
    from core_model.store.index_store import IndexStore

    library, _ = scanned_library()
    bar = LibraryProgressBar(sys.stderr)
    with library, IndexStore(library.path) as index:
        if args.retry_failed:
            library.retry_failed()
        waiting = len(library.to_index())
        if not library.folders():
            print("The library is empty: add a folder with 'vidi library add FOLDER'.")
            return 0
        if not waiting:
            print("Nothing new to index.")
            return 0
        try:
            report = index_library(library, index, progress=bar.update, chapter_model=args.model,
                                   asr_model=args.asr_model)
        finally:
            bar.close()
    print(f"Indexed {_count(len(report.indexed), 'video')}" + (f", {len(report.failed)} failed:" if report.failed
                                                               else "."))
    for path, note in report.failed.items():
        print(f"  {path}: {note}")
    for path, note in report.notes.items():
        print(f"  note: {path.name}: {note}")
    if report.model_error:
        from core_model.errors import ModelLoadError

        left = waiting - len(report.indexed) - len(report.failed)
        raise ModelLoadError(f"{report.model_error} ({_count(left, 'video')} kept to index: run 'vidi library index'"
                             " again once the model loads)")
    return 0


class LibraryProgressBar(ProgressLine):
    """One line on a terminal (redrawn with \\r): the video, its part, and the overall share; on a pipe, a line
    per video and per 10% of each part."""

    WIDTH = 20

    def update(self, progress) -> None:
        head = f"[{progress.number}/{progress.count}] {progress.video.name}"
        if progress.done:
            line, key = f"{head}  done", (progress.number, "done", 0)
        elif progress.index is None:
            line, key = f"{head}  starting", (progress.number, None, 0)
        else:
            line = f"{head}  {format_index_progress(progress.index, self.WIDTH)}"
            key = (progress.number, progress.index.part, int(progress.index.fraction * 10))
        self.show(f"{line}  overall {progress.fraction * 100:3.0f}%", key)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
