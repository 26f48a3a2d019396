"""Chapters resume per chapter: the grouping is saved first, each title is committed as the model gives it, and a
build that was stopped (should_stop) or killed (SIGKILL of a `vidi index` child) titles only the chapters left.

The video: 5 minutes of 30-s shots (chapters close at the first cut after a minute: five chapters of 60 s), with a
sidecar line in each chapter, so each chapter costs one model pass of the tiny random-weight VLM (counted)."""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import core_model
import core_model.backends
from core_model.index.runner import build_index
from core_model.models.manager import ModelManager
from core_model.store.fingerprint import fingerprint_file
from core_model.store.index_store import IndexStore
from tests.fixtures.index_media import write_scene_video

REPO_ROOT = Path(core_model.__file__).resolve().parent.parent
CHAPTERS_S = [(0.0, 60.0), (60.0, 120.0), (120.0, 180.0), (180.0, 240.0), (240.0, 300.0)]
TITLE_PROMPT = "Here is what is said and seen in one part of a video"


@pytest.fixture(scope="module")
def five_chapter_video(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("chapters")
    video = write_scene_video(folder / "trip.mp4", [60] * 10, fps=2, width=64, height=48)  # a cut every 30 s
    lines = [f"{n}\n00:{m:02d}:10,000 --> 00:{m:02d}:12,000\nIn minute {m} the guide talks about room {m}\n"
             for n, m in enumerate(range(5), start=1)]
    (folder / "trip.srt").write_text("\n".join(lines))
    return video


@pytest.fixture
def no_models(tmp_path):
    return ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "hub")


@pytest.fixture
def title_prompts(monkeypatch):
    """The chapter prompts the real (tiny) model is asked, in order: load_backend wrapped to count them."""
    prompts: list[str] = []
    real_load_backend = core_model.backends.load_backend

    def counting_load_backend(*args, **kwargs):
        backend = real_load_backend(*args, **kwargs)
        real_answer = backend.answer

        def answer(conversation, options=None):
            if conversation[-1].text.startswith(TITLE_PROMPT):
                prompts.append(conversation[-1].text)
            return real_answer(conversation, options)

        backend.answer = answer
        return backend

    monkeypatch.setattr(core_model.backends, "load_backend", counting_load_backend)
    return prompts


def _raw_titles(db: Path, fingerprint: str) -> list[str]:
    with sqlite3.connect(db) as raw:
        return [title for (title,) in raw.execute(
            "SELECT title FROM chapters WHERE fingerprint = ? AND titled = 1 ORDER BY start_s", (fingerprint,))]


def _titled_spans(index: IndexStore, fingerprint: str) -> list[tuple[float, float]]:
    return [(a, b) for a, b, titled in index.chapter_spans(fingerprint) if titled]


def test_a_stopped_build_titles_only_the_chapters_left(tmp_path, five_chapter_video, no_models, tiny_vlm_dir,
                                                       title_prompts):
    parts = ["transcript", "scenes", "chapters"]
    with IndexStore(tmp_path / "vidi.sqlite3") as index:
        stopped = build_index(five_chapter_video, parts=parts, store=index, manager=no_models,
                              chapter_model=str(tiny_vlm_dir), should_stop=lambda: len(title_prompts) >= 2)
        assert stopped.stopped and stopped.built == ["transcript", "scenes"]
        fingerprint = stopped.fingerprint
        state = index.part(fingerprint, "chapters")
        assert (state.state, state.done_until_s) == ("partial", 60.0 * 2)
        assert [(a, b) for a, b, _ in index.chapter_spans(fingerprint)] == CHAPTERS_S  # the grouping, saved first
        assert _titled_spans(index, fingerprint) == CHAPTERS_S[:2]
        assert index.chapters(fingerprint) == []  # not shown half-titled
        from core_model.cli.index import summary_lines

        assert "  chapters: partial, up to 2:00: 2 of 5 chapters titled" in summary_lines(stopped, index)
        first_titles = _raw_titles(tmp_path / "vidi.sqlite3", fingerprint)[:2]
        assert len(title_prompts) == 2

        positions = []
        resumed = build_index(five_chapter_video, parts=parts, store=index, manager=no_models,
                              chapter_model=str(tiny_vlm_dir), progress=positions.append)
        assert resumed.built == ["chapters"] and resumed.already_done == ["transcript", "scenes"]
        assert len(title_prompts) == 2 + 3  # one model pass for each chapter left, none for those titled before
        assert ["from 2:00 to 3:00" in p for p in title_prompts[2:]] == [True, False, False]
        assert "from 4:00 to 5:00" in title_prompts[-1]
        chapter_positions = [p.position_s for p in positions if p.part == "chapters"]
        assert chapter_positions[0] == 120.0  # progress went on from the last title, not from 0
        chapters = index.chapters(fingerprint)
        assert [(c.start_s, c.end_s) for c in chapters] == CHAPTERS_S and all(c.title for c in chapters)
        assert [c.title for c in chapters[:2]] == first_titles  # kept as they were committed
        assert index.part(fingerprint, "chapters").done

        again = build_index(five_chapter_video, parts=parts, store=index, manager=no_models,
                            chapter_model=str(tiny_vlm_dir))
        assert again.already_done == parts and len(title_prompts) == 5  # done: no model pass at all


def test_another_model_titles_every_chapter_again(tmp_path, five_chapter_video, no_models, tiny_vlm_dir,
                                                  title_prompts):
    other = tmp_path / "other-vlm"
    shutil.copytree(tiny_vlm_dir, other)  # the same weights under another name: another model id
    parts = ["transcript", "scenes", "chapters"]
    with IndexStore(tmp_path / "vidi.sqlite3") as index:
        build_index(five_chapter_video, parts=parts, store=index, manager=no_models, chapter_model=str(tiny_vlm_dir),
                    should_stop=lambda: len(title_prompts) >= 2)
        report = build_index(five_chapter_video, parts=parts, store=index, manager=no_models,
                             chapter_model=str(other))
        assert report.built == ["chapters"] and report.parts["chapters"].model_id == "other-vlm"
        assert len(title_prompts) == 2 + 5  # titles of two models are not mixed in one list


def _wait_for_titles(db: Path, fingerprint: str, child: subprocess.Popen, timeout_s: float = 240.0) -> int:
    """Poll the child's database until it has committed at least one chapter title; the count then."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and child.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1.0) as raw:
                    (titled,) = raw.execute("SELECT count(*) FROM chapters WHERE fingerprint = ? AND titled = 1",
                                            (fingerprint,)).fetchone()
            except sqlite3.OperationalError:  # not created or migrated yet
                titled = 0
            if titled:
                return titled
        time.sleep(0.01)
    pytest.fail(f"no chapter was titled (child exit {child.poll()}): {child.stderr.read() if child.stderr else ''}")


def test_a_killed_vidi_index_resumes_at_the_first_untitled_chapter(tmp_path, five_chapter_video, no_models,
                                                                   tiny_vlm_dir, title_prompts):
    data = tmp_path / "data"
    db = data / "vidi.sqlite3"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", VIDI_DATA_DIR=str(data),
               HF_HUB_CACHE=str(tmp_path / "hub"), PYTHONPATH=str(REPO_ROOT))
    child = subprocess.Popen([sys.executable, "-m", "core_model.cli", "index", str(five_chapter_video),
                              "--model", str(tiny_vlm_dir)], cwd=REPO_ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    fingerprint = fingerprint_file(five_chapter_video)
    try:
        _wait_for_titles(db, fingerprint, child)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    with IndexStore(db) as index:
        state = index.part(fingerprint, "chapters")
        titled = _titled_spans(index, fingerprint)
        assert state.state == "partial" and 1 <= len(titled) < len(CHAPTERS_S), (state, titled)
        assert titled == CHAPTERS_S[:len(titled)] and state.done_until_s == titled[-1][1]
        assert index.part(fingerprint, "captions").done  # captions came before the chapters, and are kept

        report = build_index(five_chapter_video, store=index, manager=no_models, chapter_model=str(tiny_vlm_dir))
        assert report.built == ["chapters"], report.skipped
        assert len(title_prompts) == len(CHAPTERS_S) - len(titled)  # only the chapters the kill left untitled
        assert f"from {int(titled[-1][1]) // 60}:00 to" in title_prompts[0]
        chapters = index.chapters(fingerprint)
    assert [(c.start_s, c.end_s) for c in chapters] == CHAPTERS_S and all(c.title for c in chapters)
    listed = subprocess.run([sys.executable, "-m", "core_model.cli", "chapters", str(five_chapter_video), "--json"],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.count('"title"') == len(CHAPTERS_S)
