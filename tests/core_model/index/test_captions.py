"""Captions: windows that follow the scenes, one model pass per window through the Backend protocol (a tiny random
Qwen2-VL: the words are random, the plumbing is what is tested), stored and searchable, resumable after a real kill,
skipped with what to pull when there is no model."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import core_model
from core_model.index.captions import MAX_WINDOW_S, caption_windows, clean_caption
from core_model.index.runner import build_index
from core_model.models.manager import ModelManager
from core_model.store.fingerprint import fingerprint_file
from core_model.store.index_records import Scene
from core_model.store.index_store import IndexStore

REPO_ROOT = Path(core_model.__file__).resolve().parent.parent
TEN_S_WINDOWS = [(float(s), float(s + 10)) for s in range(0, 70, 10)]


@pytest.fixture
def index(tmp_path):
    with IndexStore(tmp_path / "vidi.sqlite3") as opened:
        yield opened


@pytest.fixture
def no_models(tmp_path):
    return ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "hub")


def _flat(windows):
    return [t for window in windows for t in window]


def _scenes(*bounds):
    return [Scene(a, b, ()) for a, b in zip(bounds, bounds[1:])]


def test_windows_follow_scenes_split_long_ones_and_join_quick_cuts():
    assert caption_windows(_scenes(0, 10, 20), 20) == [(0, 10), (10, 20)]
    assert caption_windows(_scenes(0, 75), 75) == [(0, 25), (25, 50), (50, 75)]  # at most 30 s each
    assert caption_windows(_scenes(0, 1, 2, 3, 4.5, 12), 12) == [(0, 4.5), (4.5, 12)]  # quick cuts: one window
    assert caption_windows(_scenes(0, 10, 11), 11) == [(0, 11)]  # a short tail joins the window before it
    assert _flat(caption_windows([], 65)) == pytest.approx([0, 65 / 3, 65 / 3, 130 / 3, 130 / 3, 65], abs=1e-3)
    many = caption_windows(_scenes(*[i * 0.5 for i in range(400)]), 199.5)
    assert all(b - a <= MAX_WINDOW_S + 1e-6 for a, b in many)
    assert many[0][0] == 0 and many[-1][1] == 199.5
    assert all(a[1] == b[0] for a, b in zip(many, many[1:]))  # no gap, no overlap


def test_a_caption_is_plain_words_without_the_control_tokens_a_server_may_leave():
    answer = "<bos><|turn>model\nA dog <|image|> runs on the <start_of_turn>beach.</s><turn|>"
    assert clean_caption(answer) == "model A dog runs on the beach."
    assert clean_caption("3 < 4 and x > 2, a <b> tag") == "3 < 4 and x > 2, a tag"


def test_captions_are_made_per_window_stored_and_searchable(long_scene_video, index, no_models, tiny_vlm_dir):
    positions = []
    report = build_index(long_scene_video, parts=["scenes", "captions"], store=index, manager=no_models,
                         chapter_model=str(tiny_vlm_dir), progress=positions.append)
    assert report.built == ["scenes", "captions"], report.skipped
    captions = index.captions(report.fingerprint)
    assert _flat((c.start_s, c.end_s) for c in captions) == pytest.approx(_flat(TEN_S_WINDOWS), abs=0.3)
    assert all(c.text and c.model_id == report.parts["captions"].model_id for c in captions)
    state = report.parts["captions"]
    assert state.state == "done" and state.model_id
    word = captions[3].text.split()[0]
    hits = index.search_text(report.fingerprint, word)
    assert any(h.kind == "caption" and h.start_s == captions[3].start_s for h in hits)
    caption_reports = [p for p in positions if p.part == "captions"]
    assert caption_reports[-1].fraction == 1.0
    assert any(p.eta_s is not None for p in caption_reports)
    again = build_index(long_scene_video, parts=["scenes", "captions"], store=index, manager=no_models,
                        chapter_model=str(tiny_vlm_dir), progress=lambda p: pytest.fail("work was redone"))
    assert again.already_done == ["scenes", "captions"]


def test_without_a_model_captions_are_skipped_naming_the_pull(scene_video, index, no_models):
    report = build_index(scene_video, parts=["scenes", "captions"], store=index, manager=no_models)
    assert report.built == ["scenes"]
    assert "no model on this machine to caption" in report.skipped["captions"]
    assert "vidi models pull" in report.parts["captions"].notice


def test_captions_wait_for_the_scenes(scene_video, index, no_models, tiny_vlm_dir):
    report = build_index(scene_video, parts=["captions"], store=index, manager=no_models,
                         chapter_model=str(tiny_vlm_dir))
    assert report.skipped == {"captions": "waits for the scenes"}


def test_captions_resume_after_the_process_is_killed(tmp_path, long_scene_video, tiny_vlm_dir, no_models):
    db = tmp_path / "vidi.sqlite3"
    with IndexStore(db) as index:
        build_index(long_scene_video, parts=["scenes"], store=index, manager=no_models)
    script = textwrap.dedent(f"""
        import os, signal
        from core_model.index.runner import build_index
        from core_model.store.index_store import IndexStore

        def progress(p):
            if p.part == "captions" and p.position_s >= 30:
                os.kill(os.getpid(), signal.SIGKILL)

        build_index({str(long_scene_video)!r}, parts=["captions"], store=IndexStore({str(db)!r}),
                    progress=progress, chapter_model={str(tiny_vlm_dir)!r})
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    child = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr
    with IndexStore(db) as index:
        fingerprint = fingerprint_file(long_scene_video)
        state = index.part(fingerprint, "captions")
        assert state.state == "partial" and state.done_until_s == pytest.approx(30.0, abs=0.3)
        first = index.captions(fingerprint)
        assert len(first) == 3
        positions = []
        report = build_index(long_scene_video, parts=["captions"], store=index, manager=no_models,
                             chapter_model=str(tiny_vlm_dir), progress=positions.append)
        assert report.built == ["captions"]
        assert [p.position_s for p in positions if p.message.startswith("captioned")][0] == pytest.approx(40, abs=.3)
        captions = index.captions(fingerprint)
    assert captions[:3] == first  # kept, not redone
    # nothing lost, nothing twice
    assert _flat((c.start_s, c.end_s) for c in captions) == pytest.approx(_flat(TEN_S_WINDOWS), abs=0.3)


def test_stopping_keeps_the_captioned_windows(long_scene_video, index, no_models,
                                                                          tiny_vlm_dir):
    build_index(long_scene_video, parts=["scenes"], store=index, manager=no_models)
    captioned = []

    def stop_during_the_third_window():
        return len(captioned) >= 3  # progress comes after each stored caption: true once the third is kept

    report = build_index(long_scene_video, parts=["captions"], store=index, manager=no_models,
                         chapter_model=str(tiny_vlm_dir), should_stop=stop_during_the_third_window,
                         progress=lambda p: captioned.append(p) if p.message.startswith("captioned") else None)
    assert report.stopped and report.parts["captions"].state == "partial"
    assert report.parts["captions"].done_until_s == pytest.approx(30.0, abs=0.3)
    assert len(index.captions(report.fingerprint)) == 3
