"""build_index: parts from subtitles and scenes, a part skipped with what to pull, resumption after a real kill,
stopping, a renamed file keeping its index, progress with an ETA."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import core_model
from core_model.errors import UsageError
from core_model.index.runner import build_index
from core_model.models.manager import ModelManager
from core_model.store.fingerprint import fingerprint_file
from core_model.store.index_store import IndexStore

REPO_ROOT = Path(core_model.__file__).resolve().parent.parent


@pytest.fixture
def index(tmp_path):
    with IndexStore(tmp_path / "vidi.sqlite3") as opened:
        yield opened


@pytest.fixture
def no_models(tmp_path):
    """A model manager with nothing downloaded (an empty data folder and hub cache)."""
    return ModelManager(data_folder=tmp_path / "data", cache_dir=tmp_path / "hub")


def test_sidecar_transcript_and_scenes_are_built_then_cost_nothing(tmp_path, scene_video, index, no_models):
    video = tmp_path / "party.mp4"
    shutil.copy(scene_video, video)
    (tmp_path / "party.srt").write_text("1\n00:00:01,000 --> 00:00:02,000\nHappy birthday grandma\n")
    report = build_index(video, parts=["transcript", "scenes"], store=index, manager=no_models)
    assert report.built == ["transcript", "scenes"] and not report.skipped and not report.stopped
    assert report.parts["transcript"].source == "sidecar" and report.parts["transcript"].model_id == "party.srt"
    assert [c.text for c in index.cues(report.fingerprint)] == ["Happy birthday grandma"]
    assert len(index.scenes(report.fingerprint)) == 4
    again = build_index(video, parts=["transcript", "scenes"], store=index, manager=no_models,
                        progress=lambda p: pytest.fail("work was redone"))
    assert again.already_done == ["transcript", "scenes"] and again.built == []


def test_without_subtitles_or_whisper_the_transcript_is_skipped_naming_the_pull(speech_video, index, no_models,
                                                                                  tiny_whisper):
    report = build_index(speech_video, store=index, manager=no_models)
    assert report.built == ["scenes"]
    assert "vidi models pull whisper-" in report.skipped["transcript"]
    assert report.skipped["chapters"] == "waits for the transcript"
    assert report.parts["transcript"].state == "missing"
    assert "vidi models pull" in report.parts["transcript"].notice
    completed = build_index(speech_video, parts=["transcript", "scenes"], store=index, manager=no_models,
                            asr_model=str(tiny_whisper))
    assert completed.built == ["transcript"] and completed.already_done == ["scenes"]
    state = completed.parts["transcript"]
    assert (state.state, state.source, state.model_id) == ("done", "asr", "tiny-whisper")
    assert index.cues(completed.fingerprint)


def test_a_video_without_sound_has_an_empty_done_transcript(video_no_audio, index, no_models):
    report = build_index(video_no_audio, parts=["transcript"], store=index, manager=no_models)
    assert report.built == ["transcript"] and index.cues(report.fingerprint) == []


def test_a_renamed_file_keeps_its_index(tmp_path, scene_video, index, no_models):
    first = tmp_path / "a.mp4"
    shutil.copy(scene_video, first)
    built = build_index(first, parts=["scenes"], store=index, manager=no_models)
    moved = tmp_path / "folder" / "renamed.mp4"
    moved.parent.mkdir()
    first.rename(moved)
    again = build_index(moved, parts=["scenes"], store=index, manager=no_models)
    assert again.fingerprint == built.fingerprint and again.already_done == ["scenes"]
    assert index.scenes(fingerprint_file(moved)) == index.scenes(built.fingerprint)


def test_stopping_keeps_what_was_built_and_the_next_build_completes_it(long_scene_video, index, no_models):
    positions = []

    def stop_after_35_s():
        return bool(positions) and positions[-1].position_s >= 35

    stopped = build_index(long_scene_video, parts=["scenes"], store=index, manager=no_models,
                          progress=positions.append, should_stop=stop_after_35_s)
    assert stopped.stopped and stopped.built == []
    state = stopped.parts["scenes"]
    assert state.state == "partial" and state.done_until_s == pytest.approx(30.0, abs=0.3)
    assert any(p.eta_s is not None and p.eta_s > 0 for p in positions)  # an ETA while it ran
    resumed_positions = []
    done = build_index(long_scene_video, parts=["scenes"], store=index, manager=no_models,
                       progress=resumed_positions.append)
    assert done.built == ["scenes"]
    assert resumed_positions[0].position_s >= state.done_until_s  # it went on from there, not from the start
    assert [s.start_s for s in index.scenes(done.fingerprint)] == pytest.approx([0, 10, 20, 30, 40, 50, 60], abs=0.3)


def _build_and_die(video: Path, db: Path, part: str, kill_at_s: float,
                   asr_model: str = "") -> subprocess.CompletedProcess:
    """Run build_index in a child process that SIGKILLs itself once ``part`` reports ``kill_at_s``."""
    script = textwrap.dedent(f"""
        import os, signal
        from core_model.index.runner import build_index
        from core_model.store.index_store import IndexStore

        def progress(p):
            if p.part == {part!r} and p.position_s >= {kill_at_s}:
                os.kill(os.getpid(), signal.SIGKILL)

        build_index({str(video)!r}, parts=[{part!r}], store=IndexStore({str(db)!r}), progress=progress,
                    asr_model={asr_model!r} or None)
    """)
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    return subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)


def test_scenes_resume_after_the_process_is_killed(tmp_path, long_scene_video, no_models):
    db = tmp_path / "vidi.sqlite3"
    child = _build_and_die(long_scene_video, db, "scenes", kill_at_s=35)
    assert child.returncode == -signal.SIGKILL, child.stderr
    with IndexStore(db) as index:
        fingerprint = fingerprint_file(long_scene_video)
        state = index.part(fingerprint, "scenes")
        assert state.state == "partial" and 0 < state.done_until_s < 70
        kept = index.scenes(fingerprint)
        assert kept and kept[-1].end_s == state.done_until_s
        positions = []
        build_index(long_scene_video, parts=["scenes"], store=index, manager=no_models, progress=positions.append)
        assert positions[0].position_s >= state.done_until_s
        starts = [s.start_s for s in index.scenes(fingerprint)]
    assert starts == pytest.approx([0, 10, 20, 30, 40, 50, 60], abs=0.3)  # nothing lost, nothing twice


def test_speech_recognition_resumes_after_the_process_is_killed(tmp_path, speech_video, tiny_whisper, no_models):
    db = tmp_path / "vidi.sqlite3"
    child = _build_and_die(speech_video, db, "transcript", kill_at_s=30, asr_model=str(tiny_whisper))
    assert child.returncode == -signal.SIGKILL, child.stderr
    with IndexStore(db) as index:
        fingerprint = fingerprint_file(speech_video)
        state = index.part(fingerprint, "transcript")
        assert (state.state, state.done_until_s, state.model_id) == ("partial", 30.0, "tiny-whisper")
        first_window = index.cues(fingerprint)
        assert first_window
        positions = []
        report = build_index(speech_video, parts=["transcript"], store=index, manager=no_models,
                             asr_model=str(tiny_whisper), progress=positions.append)
        assert report.built == ["transcript"]
        assert [p.position_s for p in positions if p.message.startswith("speech")] == [pytest.approx(45.0, abs=0.1)]
        assert index.cues(fingerprint) == first_window  # the rest is silence; the first window was not redone


def test_an_unknown_part_or_a_missing_video_is_one_clear_error(tmp_path, index):
    with pytest.raises(UsageError, match="unknown index part"):
        build_index(tmp_path / "x.mp4", parts=["subtitles"], store=index)
    from core_model.errors import MediaError

    with pytest.raises(MediaError, match="not found"):
        build_index(tmp_path / "missing.mp4", store=index)


def test_chapters_are_titled_by_the_model_over_the_transcript(tmp_path, long_scene_video, index, no_models,
                                                              tiny_vlm_dir):
    video = tmp_path / "tour.mp4"
    shutil.copy(long_scene_video, video)
    (tmp_path / "tour.srt").write_text("1\n00:00:05,000 --> 00:00:08,000\nWelcome to the castle\n\n"
                                       "2\n00:00:50,000 --> 00:00:52,000\nAnd this is the garden\n")
    skipped = build_index(video, store=index, manager=no_models)
    assert skipped.built == ["transcript", "scenes"]
    assert "no model on this machine to title chapters" in skipped.skipped["chapters"]
    assert "vidi models pull" in skipped.skipped["chapters"]
    report = build_index(video, store=index, manager=no_models, chapter_model=str(tiny_vlm_dir))
    assert report.built == ["captions", "chapters"] and report.parts["chapters"].model_id  # one model for both
    chapters = index.chapters(report.fingerprint)
    assert [(c.start_s, c.end_s) for c in chapters] == [(0.0, 70.0)]  # 70 s: one chapter (at least a minute each)
    assert chapters[0].title  # random words from the tiny model: the plumbing is what is tested


def test_subtitles_put_beside_the_video_later_replace_recognised_speech(tmp_path, speech_video, index, no_models,
                                                                        tiny_whisper):
    video = tmp_path / "talk.mp4"
    shutil.copy(speech_video, video)
    first = build_index(video, parts=["transcript"], store=index, manager=no_models, asr_model=str(tiny_whisper))
    assert first.parts["transcript"].source == "asr"
    index.replace_chapters(first.fingerprint, [])  # chapters made from the recognised words
    (tmp_path / "talk.srt").write_text("1\n00:00:01,000 --> 00:00:03,000\nHello, the castle\n")
    again = build_index(video, parts=["transcript"], store=index, manager=no_models)
    assert again.built == ["transcript"] and again.parts["transcript"].source == "sidecar"
    assert [c.text for c in index.cues(first.fingerprint)] == ["Hello, the castle"]
    assert index.search_text(first.fingerprint, "castle")[0].text == "Hello, the castle"
    assert again.parts["chapters"].state == "missing"  # to be titled again from the new words
