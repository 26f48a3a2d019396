"""``vidi ask`` end to end with the tiny model: streaming, --json, the store, bad input, and a kill mid-answer."""

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import core_model
from core_model.cli import main
from core_model.cli.ask import parse_time_s
from core_model.store import ConversationStore

REPO_ROOT = Path(core_model.__file__).resolve().parents[1]


def _env(data_dir: Path) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", VIDI_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO_ROOT))
    env.pop("VIDI_MODEL", None)
    return env


def _vidi(args, data_dir, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "core_model.cli", *map(str, args)],
        cwd=REPO_ROOT, env=_env(data_dir), capture_output=True, text=True, timeout=120, **kwargs,
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("65", 65.0), ("7.25", 7.25), (".5", 0.5), ("1:05", 65.0), ("1:05.5", 65.5), ("90:00", 5400.0),
     ("0:01:05", 65.0), ("1:02:03.25", 3723.25)],
)
def test_times_parse(text, seconds):
    assert parse_time_s(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "abc", "-5", "1:75", "1:60:00", "1:2:3:4", "1::5", "5s"])
def test_bad_times_are_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_time_s(text)


def test_ask_streams_the_answer_and_records_it(tiny_vlm_dir, video_with_audio, tmp_path):
    result = _vidi(
        ["ask", video_with_audio, "--start", "0:01", "--end", "3.5", "--model", tiny_vlm_dir, "--device", "cpu",
         "--frames", "4", "--max-new-tokens", "10", "What is on the screen?"],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    answer = result.stdout.strip()
    assert len(answer.split()) >= 5

    with ConversationStore(tmp_path / "vidi.sqlite3") as store:
        [video] = store.list_videos()
        assert video.path == str(video_with_audio.resolve())
        [chat] = store.list_chats(video.id)
        question, reply = store.list_turns(chat.id)
    assert question.text == "What is on the screen?"
    assert (question.segment_start_s, question.segment_end_s) == (1.0, 3.5)
    assert reply.status == "complete" and reply.text.strip() == answer and reply.model_id == tiny_vlm_dir.name
    assert len(reply.run["frame_timestamps_s"]) == 4


def test_ask_json_with_an_image(tiny_vlm_dir, video_with_audio, image_png, tmp_path):
    result = _vidi(
        ["ask", video_with_audio, "--start", "1", "--end", "4", "--image", image_png, "--no-audio", "--json",
         "--model", tiny_vlm_dir, "--device", "cpu", "--frames", "6", "--max-new-tokens", "8", "--no-4bit",
         "Is the picture in the video?"],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)  # the only thing on stdout
    assert data["answer"].split() and data["model"] == str(tiny_vlm_dir)
    assert len(data["frame_timestamps_s"]) == 6 and all(1.0 <= t <= 4.0 for t in data["frame_timestamps_s"])
    assert data["images"] == [str(image_png.resolve())] and data["video"] == str(video_with_audio.resolve())
    assert (data["start_s"], data["end_s"], data["num_new_tokens"], data["stopped"]) == (1.0, 4.0, 8, False)
    assert data["load_in_4bit"] is False and data["device"] == "cpu"
    assert set(data["timings"]) == {"load_s", "prepare_s", "first_token_s", "total_s"}
    assert 0 < data["timings"]["first_token_s"] <= data["timings"]["total_s"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{video}", "--start", "1:75", "q"], "is not a time"),
        (["{video}", "--start", "4", "--end", "2", "q"], "segment is empty"),
        (["{video}", "--start", "9:00", "q"], "past the end of the video"),
        (["{video}", "--frames", "0", "q"], "--frames must be between"),
        (["{video}", "--bogus", "q"], "unrecognized arguments"),
        (["{video}", "two", "questions"], "put the question in quotes"),
        (["just a question"], "nothing to look at"),
        (["--start", "1", "--image", "{image}", "q"], "--start/--end need a VIDEO"),
        (["{tmp}/missing.mp4", "q"], "does not exist"),
        (["{text_video}", "q"], ""),  # a MediaError from the media pipeline
        (["--image", "{tmp}/missing.png", "q"], "does not exist"),
        (["{video}", "--model", "{tmp}", "q"], "not a model folder"),
    ],
)
def test_bad_arguments_and_files_exit_2_with_one_line(args, message, video_with_audio, text_as_video, image_png,
                                                      tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VIDI_DATA_DIR", str(tmp_path))
    names = {"video": video_with_audio, "text_video": text_as_video, "image": image_png, "tmp": tmp_path}
    argv = ["ask", *(a.format(**names) for a in args)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidi: error: ") and message in lines[0], captured.err


def test_default_model_comes_from_vidi_model(video_with_audio, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VIDI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VIDI_MODEL", str(tmp_path))  # a folder that is not a model: the error names it
    assert main(["ask", str(video_with_audio), "q"]) == 2
    assert f"'{tmp_path}' is not a model folder" in capsys.readouterr().err


def test_bad_input_in_a_real_process_prints_no_traceback(text_as_video, tmp_path):
    result = _vidi(["ask", text_as_video, "--start", "0", "--end", "1", "What?"], tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("vidi: error: ")
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_killed_mid_answer_keeps_the_question_and_the_partial_answer(tiny_vlm_dir, video_with_audio, tmp_path):
    db_path = tmp_path / "vidi.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-m", "core_model.cli", "ask", str(video_with_audio), "--start", "1", "--end", "3",
         "--model", str(tiny_vlm_dir), "--device", "cpu", "--frames", "4", "--max-new-tokens", "100000",
         "Describe everything."],
        cwd=REPO_ROOT, env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        partial = _wait_for_partial_answer(db_path, process, timeout_s=90)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert partial

    with sqlite3.connect(db_path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with ConversationStore(db_path) as store:
        [chat] = store.list_chats(store.list_videos()[0].id)
        question, answer = store.list_turns(chat.id)
        assert question.text == "Describe everything." and question.status == "complete"
        # opening the store again closes the dead process's answer as interrupted, keeping its text
        assert store.interrupted_count == 1
        assert answer.status == "error" and answer.error.startswith("interrupted") and answer.text.startswith(partial)
        store.complete_answer(store.begin_answer(chat.id, "tiny").id, "complete", text="still writable")


def _wait_for_partial_answer(db_path: Path, process: subprocess.Popen, timeout_s: float) -> str:
    """Poll the store (read-only) until the pending answer holds some text; return that text."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        if db_path.exists():
            try:
                with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as raw:
                    row = raw.execute(
                        "SELECT text FROM turns WHERE role = 'assistant' AND status = 'pending' AND text != ''"
                    ).fetchone()
            except sqlite3.OperationalError:  # tables not created yet
                row = None
            if row:
                return row[0]
        time.sleep(0.1)
    raise AssertionError("no partial answer appeared in the store")
