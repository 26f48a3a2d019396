"""``vidi library add/remove/list/index`` and ``vidi search`` end to end, as a user runs them (child processes)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import core_model
from core_model.cli import command_names
from tests.fixtures.library_media import CORRUPT_BYTES, copy_video, library_videos  # noqa: F401  (fixture)

REPO_ROOT = Path(core_model.__file__).resolve().parents[1]


def _vidi(args, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", VIDI_DATA_DIR=str(home / "data"),
               HF_HUB_CACHE=str(home / "hub"), PYTHONPATH=str(REPO_ROOT))
    env.pop("VIDI_MODEL", None)
    return subprocess.run([sys.executable, "-m", "core_model.cli", *map(str, args)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stderr
    return result


def _one_line_error(result: subprocess.CompletedProcess, words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("vidi: error: ") and words in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


@pytest.fixture
def folder(tmp_path, library_videos):  # noqa: F811
    root = tmp_path / "videos"
    copy_video(library_videos["party.mp4"], root / "party.mp4")
    copy_video(library_videos["lake.mp4"], root / "trips" / "lake.mp4")
    copy_video(library_videos["talk.mp4"], root / "talk.mp4")
    (root / "broken.mp4").write_bytes(CORRUPT_BYTES)
    return root


def test_the_commands_are_registered():
    assert {"library", "search"} <= set(command_names())


def test_add_index_then_search_finds_the_moment(tmp_path, folder):
    added = _ok(_vidi(["library", "add", folder], tmp_path))
    assert f"Added {folder}: 4 videos, 4 to index." in added.stdout
    waiting = _ok(_vidi(["search", "budget", "--json"], tmp_path))
    assert json.loads(waiting.stdout) == [] and "4 videos not indexed yet" in waiting.stderr

    indexed = _ok(_vidi(["library", "index"], tmp_path))
    assert "Indexed 3 videos, 1 failed:" in indexed.stdout
    assert f"{folder / 'broken.mp4'}: file is truncated or damaged" in indexed.stdout
    assert "[1/4] broken.mp4" in indexed.stderr and "[4/4] lake.mp4  scenes 2/4 [" in indexed.stderr  # the bar
    assert "overall 100%" in indexed.stderr

    listing = _ok(_vidi(["library", "list"], tmp_path)).stdout
    assert f"{folder}  (4 videos: 3 indexed, 0 to index, 1 failed)" in listing
    assert "trips/lake.mp4" in listing and "failed" in listing

    found = _ok(_vidi(["search", "the dog jumps off the pier", "--json", "--limit", "3"], tmp_path))
    moments = json.loads(found.stdout)
    assert 1 <= len(moments) <= 3 and set(moments[0]) == {"video", "start_s", "end_s", "score", "text"}
    assert moments[0]["video"] == str(folder / "trips" / "lake.mp4")
    assert moments[0]["start_s"] <= 15.0 < moments[0]["end_s"]
    assert "The dog jumps off the wooden pier" in moments[0]["text"]
    assert [m["score"] for m in moments] == sorted((m["score"] for m in moments), reverse=True)
    assert found.stderr == ""

    text = _ok(_vidi(["search", "grandma", "speech"], tmp_path)).stdout
    assert text.startswith(f"1. {folder / 'party.mp4'}  1:36–1:51") and "Grandma gives her speech" in text
    assert _ok(_vidi(["library", "index"], tmp_path)).stdout == "Nothing new to index.\n"
    retried = _ok(_vidi(["library", "index", "--retry-failed"], tmp_path)).stdout
    assert retried.startswith("Indexed 0 videos, 1 failed:") and "broken.mp4" in retried


def test_a_renamed_video_is_found_under_its_new_name_and_a_removed_folder_leaves(tmp_path, folder):
    _ok(_vidi(["library", "add", folder], tmp_path))
    _ok(_vidi(["library", "index"], tmp_path))
    renamed = folder / "2024" / "budget talk.mp4"
    renamed.parent.mkdir()
    (folder / "talk.mp4").rename(renamed)
    moments = json.loads(_ok(_vidi(["search", "budget", "--json"], tmp_path)).stdout)
    assert moments[0]["video"] == str(renamed)
    assert "not indexed yet" not in _vidi(["search", "budget"], tmp_path).stderr  # kept its index
    removed = _ok(_vidi(["library", "remove", folder], tmp_path))
    assert f"Removed {folder}" in removed.stdout
    _ok(_vidi(["library", "add", tmp_path / "data"], tmp_path))  # another folder, without these videos
    assert json.loads(_ok(_vidi(["search", "budget", "--json"], tmp_path)).stdout) == []


def test_bad_input_is_one_line_and_exit_code_2(tmp_path):
    _one_line_error(_vidi(["library", "add", tmp_path / "nowhere"], tmp_path), "folder not found")
    _one_line_error(_vidi(["library", "remove", tmp_path], tmp_path), "is not in the library")
    _one_line_error(_vidi(["search", "cake"], tmp_path), "the library is empty")
    _one_line_error(_vidi(["search", "cake", "--limit", "0"], tmp_path), "must be 1 or more")
    _one_line_error(_vidi(["search", "cake", "--from", "2025-13-01"], tmp_path), "YYYY-MM-DD")
    _one_line_error(_vidi(["library", "frobnicate"], tmp_path), "invalid choice")
