"""``vidi index``, ``vidi transcript`` and ``vidi chapters`` end to end, as a user runs them (child processes)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import core_model
from tests.fixtures.index_media import (  # noqa: F401  (fixtures)
    index_media_dir,
    long_scene_video,
    speech_video,
    tiny_whisper,
)
from tests.fixtures.tiny_siglip import tiny_siglip_dir  # noqa: F401  (fixture)

REPO_ROOT = Path(core_model.__file__).resolve().parents[1]
SIDECAR = ("1\n00:00:05,000 --> 00:00:08,000\nWelcome to the castle\n\n"
           "2\n00:00:50,000 --> 00:00:52,500\nAnd this is the <i>garden</i>\n")


def _vidi(args, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", VIDI_DATA_DIR=str(home / "data"),
               HF_HUB_CACHE=str(home / "hub"), PYTHONPATH=str(REPO_ROOT))
    env.pop("VIDI_MODEL", None)
    return subprocess.run([sys.executable, "-m", "core_model.cli", *map(str, args)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def tour(tmp_path, long_scene_video):  # noqa: F811
    video = tmp_path / "tour.mp4"
    shutil.copy(long_scene_video, video)
    (tmp_path / "tour.srt").write_text(SIDECAR)
    return video


def test_index_then_transcript_and_chapters(tmp_path, tour, tiny_vlm_dir, tiny_siglip_dir):  # noqa: F811
    built = _vidi(["index", tour, "--model", tiny_vlm_dir, "--embed-model", tiny_siglip_dir], tmp_path)
    assert built.returncode == 0, built.stderr
    assert "transcript: 2 lines from tour.srt (built now)" in built.stdout
    assert "scenes: 7 scenes (built now)" in built.stdout
    assert "captions: 7 captions by" in built.stdout and "(built now)" in built.stdout
    assert f"embeddings: 7 keyframes by {tiny_siglip_dir.name} (built now)" in built.stdout
    assert "chapters: 1 chapter titled by" in built.stdout
    assert "scenes 2/5 [" in built.stderr and "100%" in built.stderr  # the progress bar, on stderr

    srt = _vidi(["transcript", tour, "--format", "srt"], tmp_path)
    assert srt.returncode == 0 and srt.stdout.startswith("1\n00:00:05,000 --> 00:00:08,000\nWelcome to the castle\n")
    vtt = _vidi(["transcript", tour, "--format", "vtt"], tmp_path).stdout
    assert vtt.startswith("WEBVTT\n\n00:00:05.000 --> 00:00:08.000\n")
    txt = _vidi(["transcript", tour, "--format", "txt"], tmp_path).stdout
    assert txt == "Welcome to the castle\nAnd this is the garden\n"
    cues = json.loads(_vidi(["transcript", tour, "--format", "json"], tmp_path).stdout)
    assert cues[1] == {"start_s": 50.0, "end_s": 52.5, "text": "And this is the garden", "source": "sidecar",
                       "language": ""}

    chapters = json.loads(_vidi(["chapters", tour, "--json"], tmp_path).stdout)
    assert [set(c) for c in chapters] == [{"start_s", "end_s", "title", "summary"}]
    assert (chapters[0]["start_s"], chapters[0]["end_s"]) == (0.0, 70.0) and chapters[0]["title"]
    plain = _vidi(["chapters", tour], tmp_path)
    assert plain.returncode == 0 and plain.stdout.startswith("0:00-1:10  ")

    again = _vidi(["index", tour], tmp_path)  # everything there: nothing rebuilt, no model needed
    assert again.returncode == 0 and "(built now)" not in again.stdout


def test_a_renamed_video_keeps_its_index(tmp_path, tour):
    assert _vidi(["index", tour], tmp_path).returncode == 0
    renamed = tmp_path / "elsewhere" / "castle tour.mp4"
    renamed.parent.mkdir()
    tour.rename(renamed)
    printed = _vidi(["transcript", renamed, "--format", "txt"], tmp_path)
    assert printed.returncode == 0 and printed.stdout.startswith("Welcome to the castle\n")


def test_missing_parts_say_what_to_do_in_one_line(tmp_path, long_scene_video):  # noqa: F811
    built = _vidi(["index", long_scene_video], tmp_path)  # no subtitles, no sound, no model here
    assert built.returncode == 0, built.stderr
    assert "chapters: skipped: no model on this machine to title chapters" in built.stdout
    assert "vidi models pull" in built.stdout
    chapters = _vidi(["chapters", long_scene_video], tmp_path)
    assert chapters.returncode == 2
    [line] = chapters.stderr.strip().splitlines()
    assert line.startswith(f"vidi: error: {long_scene_video.name} has no chapters yet (no model on this machine")
    assert line.endswith(f": run 'vidi index {long_scene_video}'") and "vidi models pull" in line
    assert ".)" not in line
    # no subtitles and no sound: the transcript is built and empty, and says so (it printed nothing at all)
    printed = _vidi(["transcript", long_scene_video, "--format", "srt"], tmp_path)
    assert printed.returncode == 0 and printed.stdout == ""
    assert printed.stderr.strip() == (f"vidi: note: nothing is said in {long_scene_video.name}: it has no "
                                      "subtitles and no speech was heard")


@pytest.mark.parametrize("args", [
    ["index", "no-such-video.mp4"],
    ["transcript", "no-such-video.mp4"],
    ["transcript", "{video}", "--format", "doc"],
    ["chapters", "{folder}"],
    ["index"],
])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, tour, args):
    args = [a.format(video=tour, folder=tmp_path) for a in args]
    result = _vidi(args, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidi: error: "), result.stderr


def test_speech_is_recognised_with_the_asr_model_given(tmp_path, speech_video, tiny_whisper):  # noqa: F811
    built = _vidi(["index", speech_video, "--asr-model", tiny_whisper], tmp_path)
    assert built.returncode == 0, built.stderr
    assert "transcript: " in built.stdout and "by tiny-whisper (built now)" in built.stdout
    assert "transcript 1/5 [" in built.stderr
    cues = json.loads(_vidi(["transcript", speech_video, "--format", "json"], tmp_path).stdout)
    assert cues and {c["source"] for c in cues} == {"asr"} and len({c["language"] for c in cues}) == 1


def test_without_subtitles_or_whisper_the_transcript_says_what_to_pull(tmp_path, video_with_audio):
    built = _vidi(["index", video_with_audio], tmp_path)
    assert built.returncode == 0 and "transcript: skipped: no subtitles" in built.stdout
    printed = _vidi(["transcript", video_with_audio], tmp_path)
    assert printed.returncode == 2 and "vidi models pull whisper-" in printed.stderr
    named = _vidi(["index", video_with_audio, "--asr-model", "whisper-large-v3-turbo"], tmp_path)
    assert named.returncode == 2
    assert named.stderr.strip().splitlines()[-1] == (
        "vidi: error: The speech model 'whisper-large-v3-turbo' is not on this machine: get it with "
        "'vidi models pull whisper-large-v3-turbo', or give a model folder.")
