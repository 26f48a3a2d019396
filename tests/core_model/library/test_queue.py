"""The indexing queue: one video at a time, a corrupt file skipped with a note without stopping the queue,
pausing, and resuming after the process is killed (a real SIGKILL'd child process)."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import core_model
from core_model.library.library_store import LibraryStore
from core_model.library.queue import index_library
from core_model.library.scan import scan_library
from core_model.models.manager import ModelManager
from core_model.store.fingerprint import fingerprint_file
from core_model.store.index_store import IndexStore
from tests.fixtures.library_media import CORRUPT_BYTES, copy_video

REPO_ROOT = Path(core_model.__file__).resolve().parent.parent


@pytest.fixture
def stores(tmp_path):
    db = tmp_path / "vidi.sqlite3"
    with LibraryStore(db) as library, IndexStore(db) as index:
        yield library, index


@pytest.fixture
def no_models(tmp_path):
    return ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "hub")


def test_a_corrupt_file_is_skipped_with_a_note_and_the_queue_goes_on(tmp_path, stores, library_videos, no_models):
    library, index = stores
    root = tmp_path / "videos"
    (root).mkdir()
    (root / "a_broken.mp4").write_bytes(CORRUPT_BYTES)
    lake = copy_video(library_videos["lake.mp4"], root / "lake.mp4")
    talk = copy_video(library_videos["talk.mp4"], root / "talk.mp4")
    library.add_folder(root)
    scan_library(library)
    seen = []
    report = index_library(library, index, manager=no_models, progress=seen.append)
    assert list(report.failed) == [root / "a_broken.mp4"] and report.indexed == [lake, talk]
    broken = library.file(root / "a_broken.mp4")
    assert broken.state == "failed" and "\n" not in broken.note and broken.note
    assert [c.text for c in index.cues(fingerprint_file(talk))][0] == "She explains the budget for next year"
    assert library.file(lake).duration_s == pytest.approx(20.0, abs=0.3)
    overall = [p.fraction for p in seen]
    assert overall == sorted(overall) and overall[-1] == pytest.approx(1.0, abs=0.01)  # progress only goes on
    assert {p.count for p in seen} == {3}
    again = index_library(library, index, manager=no_models)
    assert not again.indexed and not again.failed  # nothing new: nothing done, the broken file is not retried
    assert library.retry_failed() == 1
    retried = index_library(library, index, manager=no_models)
    assert list(retried.failed) == [root / "a_broken.mp4"] and not retried.indexed


def test_should_stop_pauses_the_queue_and_the_next_run_goes_on(tmp_path, stores, library_videos, no_models):
    library, index = stores
    root = tmp_path / "videos"
    lake = copy_video(library_videos["lake.mp4"], root / "a.mp4")
    talk = copy_video(library_videos["talk.mp4"], root / "b.mp4")
    library.add_folder(root)
    scan_library(library)
    done = []
    report = index_library(library, index, manager=no_models,
                           progress=lambda p: done.append(p.video), should_stop=lambda: talk in done)
    assert report.stopped and report.indexed == [lake]
    assert library.file(talk).state == "new"
    report = index_library(library, index, manager=no_models)
    assert report.indexed == [talk] and not report.stopped


def _index_and_die(db: Path, victim: str, kill_at_s: float) -> subprocess.CompletedProcess:
    """Run the queue in a child process that SIGKILLs itself once ``victim``'s scenes reach ``kill_at_s``."""
    script = textwrap.dedent(f"""
        import os, signal
        from core_model.library.library_store import LibraryStore
        from core_model.library.queue import index_library
        from core_model.models.manager import ModelManager
        from core_model.store.index_store import IndexStore

        def progress(p):
            if (p.video.name == {victim!r} and p.index is not None and p.index.part == "scenes"
                    and p.index.position_s >= {kill_at_s}):
                os.kill(os.getpid(), signal.SIGKILL)

        manager = ModelManager(data_folder={str(db.parent / "data")!r}, cache_dir={str(db.parent / "hub")!r})
        index_library(LibraryStore({str(db)!r}), IndexStore({str(db)!r}), progress=progress, manager=manager)
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)


def test_the_queue_resumes_after_the_process_is_killed(tmp_path, library_videos, long_scene_video, no_models):
    db = tmp_path / "vidi.sqlite3"
    root = tmp_path / "videos"
    lake = copy_video(library_videos["lake.mp4"], root / "a_lake.mp4")
    long = copy_video(long_scene_video, root / "b_long.mp4")
    with LibraryStore(db) as library:
        library.add_folder(root)
        scan_library(library)
    child = _index_and_die(db, "b_long.mp4", kill_at_s=35)
    assert child.returncode == -signal.SIGKILL, child.stderr
    with LibraryStore(db) as library, IndexStore(db) as index:
        assert library.file(lake).state == "indexed" and library.file(long).state == "new"
        state = index.part(fingerprint_file(long), "scenes")
        assert state.state == "partial" and 0 < state.done_until_s < 70
        seen = []
        report = index_library(library, index, manager=no_models, progress=seen.append)
        assert report.indexed == [long]  # the video done before the kill is not taken again
        positions = [p.index.position_s for p in seen if p.index is not None and p.index.part == "scenes"]
        assert positions[0] >= state.done_until_s  # it went on where the killed run's last commit was
        starts = [s.start_s for s in index.scenes(fingerprint_file(long))]
    assert starts == pytest.approx([0, 10, 20, 30, 40, 50, 60], abs=0.3)  # nothing lost, nothing twice


def test_a_chapter_model_also_titles_each_videos_chapters(tmp_path, stores, library_videos, no_models,
                                                          tiny_vlm_dir):
    library, index = stores
    talk = copy_video(library_videos["talk.mp4"], tmp_path / "videos" / "talk.mp4")
    library.add_folder(tmp_path / "videos")
    scan_library(library)
    report = index_library(library, index, manager=no_models, chapter_model=str(tiny_vlm_dir))
    assert report.indexed == [talk]
    assert list(report.notes) in ([], [talk]) and "chapters" not in report.notes.get(talk, "")  # only no SigLIP here
    fingerprint = fingerprint_file(talk)
    assert index.part(fingerprint, "chapters").done and index.chapters(fingerprint)
