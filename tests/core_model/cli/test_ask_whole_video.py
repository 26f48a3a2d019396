"""``vidi ask VIDEO "question"`` about a whole video, end to end as a user runs it (child processes, the tiny
random-weight VLM, a 3-minute video with a sidecar .srt). The tiny model answers random words: the tests assert on
``sources``, which come from retrieval, not on the answer's text."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import core_model
from tests.fixtures.index_media import index_media_dir, long_scene_video  # noqa: F401  (fixtures)
from tests.fixtures.whole_video_media import PARTY_DURATION_S, PARTY_SRT, SPEECH_AT_S, party_video  # noqa: F401

REPO_ROOT = Path(core_model.__file__).resolve().parents[1]
GRANDMA = "when does grandma give her speech?"


def _vidi(args, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", VIDI_DATA_DIR=str(home / "data"),
               HF_HUB_CACHE=str(home / "hub"), PYTHONPATH=str(REPO_ROOT))
    env.pop("VIDI_MODEL", None)
    return subprocess.run([sys.executable, "-m", "core_model.cli", *map(str, args)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def _ask(video, question, model, home, *extra) -> dict:
    result = _vidi(["ask", video, "--json", "--model", model, "--device", "cpu", "--frames", "4",
                    "--max-new-tokens", "6", *extra, question], home)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    answer["stderr"] = result.stderr
    return answer


@pytest.fixture
def party(tmp_path, party_video):  # noqa: F811
    video = tmp_path / "party.mp4"
    shutil.copy(party_video, video)
    shutil.copy(party_video.with_suffix(".srt"), tmp_path / "party.srt")
    return video


def _inside(source: dict) -> bool:
    return 0.0 <= source["start_s"] < source["end_s"] <= PARTY_DURATION_S and \
        source["end_s"] - source["start_s"] < PARTY_DURATION_S


def test_done_when_index_print_and_ask_about_the_whole_video(tmp_path, party, tiny_vlm_dir):
    built = _vidi(["index", party, "--model", tiny_vlm_dir], tmp_path)
    assert built.returncode == 0, built.stderr
    assert "transcript: 7 lines from party.srt (built now)" in built.stdout
    assert "chapters: 3 chapters titled by" in built.stdout

    srt = _vidi(["transcript", party, "--format", "srt"], tmp_path)
    assert srt.returncode == 0 and srt.stdout.startswith("1\n00:00:05,000 --> 00:00:08,000\nWelcome everyone")
    chapters = json.loads(_vidi(["chapters", party, "--json"], tmp_path).stdout)
    assert [(c["start_s"], c["end_s"]) for c in chapters] == [(0.0, 60.0), (60.0, 120.0), (120.0, 180.0)]

    answer = _ask(party, GRANDMA, tiny_vlm_dir, tmp_path)
    assert answer["answered_from"] == "moments" and answer["stderr"] == ""  # indexed: no notice, nothing rebuilt
    first = answer["sources"][0]
    assert set(first) == {"start_s", "end_s", "why"}
    assert first["start_s"] <= SPEECH_AT_S <= first["end_s"] and "Grandma gives her speech" in first["why"]
    assert all(_inside(source) for source in answer["sources"])
    assert answer["frame_timestamps_s"] and answer["answer"].strip()
    # the frames the model saw were taken from the moments, not from the whole file
    spans = [(s["start_s"], s["end_s"]) for s in answer["sources"]]
    assert all(any(a - 0.5 <= t <= b + 0.5 for a, b in spans) for t in answer["frame_timestamps_s"])

    plain = _vidi(["ask", party, "--model", tiny_vlm_dir, "--device", "cpu", "--max-new-tokens", "4", GRANDMA],
                  tmp_path)
    assert plain.returncode == 0 and plain.stderr == ""
    assert plain.stdout.endswith('\nSources:\n  1:36–1:51  said: "Grandma gives her speech about the family"\n')

    summary = _ask(party, "Summarise this video", tiny_vlm_dir, tmp_path)
    assert summary["answered_from"] == "summary"
    assert [(s["start_s"], s["end_s"]) for s in summary["sources"]] == [(0.0, 60.0), (60.0, 120.0), (120.0, 180.0)]


def test_a_long_video_without_an_index_is_indexed_once_with_a_notice(tmp_path, party, tiny_vlm_dir):
    answer = _ask(party, GRANDMA, tiny_vlm_dir, tmp_path)
    assert ("vidi: notice: party.mp4 (3:00) has no index yet: indexing its transcript, scenes and keyframes"
            in answer["stderr"])
    assert "embeddings skipped: no image embedding model on this machine: run 'vidi models pull siglip2-base'" \
        in answer["stderr"]  # no SigLIP here: said once, the rest is built and used
    first = answer["sources"][0]
    assert first["start_s"] <= SPEECH_AT_S <= first["end_s"]
    printed = _vidi(["transcript", party, "--format", "txt"], tmp_path)
    assert printed.returncode == 0 and printed.stdout.startswith("Welcome everyone to the birthday party\n")

    (tmp_path / "party.srt").write_text(PARTY_SRT.replace("Grandma", "Grandpa"))
    again = _ask(party, GRANDMA, tiny_vlm_dir, tmp_path)  # the index is there: never rebuilt by a question
    assert "notice" not in again["stderr"] and again["sources"][0] == first


def test_a_short_video_without_an_index_is_answered_in_one_pass(tmp_path, video_with_audio, tiny_vlm_dir):
    answer = _ask(video_with_audio, "what is on the screen?", tiny_vlm_dir, tmp_path)
    assert answer["answered_from"] == "segment" and answer["sources"] == [] and answer["stderr"] == ""
    assert _vidi(["transcript", video_with_audio], tmp_path).returncode == 2  # nothing was indexed


def test_a_segment_question_on_an_indexed_video_stays_a_segment_question(tmp_path, party, tiny_vlm_dir):
    assert _vidi(["index", party], tmp_path).returncode == 0
    answer = _ask(party, GRANDMA, tiny_vlm_dir, tmp_path, "--start", "0:10", "--end", "0:20")
    assert answer["answered_from"] == "segment" and answer["sources"] == []
    assert all(10.0 - 0.5 <= t <= 20.0 + 0.5 for t in answer["frame_timestamps_s"])


def test_a_long_video_with_nothing_said_is_looked_at_in_spread_moments(tmp_path, long_scene_video,  # noqa: F811
                                                                        tiny_vlm_dir):
    answer = _ask(long_scene_video, "what colours are on screen?", tiny_vlm_dir, tmp_path)
    assert "has no index yet" in answer["stderr"]
    assert "vidi: notice: nothing in the video's transcript matched the question" in answer["stderr"]
    assert answer["answered_from"] == "moments" and len(answer["sources"]) == 4
    assert all(0.0 <= s["start_s"] < s["end_s"] <= 70.0 and s["end_s"] - s["start_s"] <= 10.0
               for s in answer["sources"])


def test_an_index_without_its_transcript_says_how_to_complete_it(tmp_path, video_with_audio, tiny_vlm_dir):
    assert _vidi(["index", video_with_audio], tmp_path).returncode == 0  # no subtitles, no Whisper here
    answer = _ask(video_with_audio, "what is said?", tiny_vlm_dir, tmp_path)
    assert answer["answered_from"] == "moments"  # indexed (its scenes): planned, not one pass
    assert f"the transcript of {video_with_audio.name} is missing (no subtitles" in answer["stderr"]
    assert f"'vidi index {video_with_audio}' completes it" in answer["stderr"]
    assert "has no index yet" not in answer["stderr"]


def test_a_whole_video_question_is_recorded_as_the_window_records_it(tmp_path, party, tiny_vlm_dir):
    from core_model.store import ConversationStore

    assert _vidi(["index", party, "--model", tiny_vlm_dir], tmp_path).returncode == 0
    answer = _ask(party, GRANDMA, tiny_vlm_dir, tmp_path)
    with ConversationStore(tmp_path / "data" / "vidi.sqlite3") as store:
        question, reply = store.list_turns(answer["chat_id"])
        asked = store.list_segments(store.find_video(party).id)
    assert [(m.start_s, m.end_s) for m in question.media] == [(None, None)]  # the whole video, not its moments
    assert asked == []  # so no moment is marked on the timeline as asked about
    assert reply.run["sources"] == answer["sources"]  # kept with the answer: chips when the chat is reopened
