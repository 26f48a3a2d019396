"""``vidi ask --server`` and ``vidi models list --server`` in a real process against a real ``transformers serve``."""

import json
import os
import subprocess
import sys
from pathlib import Path

import core_model
from core_model.store import ConversationStore
from tests.fixtures.remote_server import free_port

REPO_ROOT = Path(core_model.__file__).resolve().parents[1]


def _vidi(args, data_dir, **env_extra):
    env = dict(os.environ, HF_HUB_OFFLINE="1", VIDI_DATA_DIR=str(data_dir), PYTHONPATH=str(REPO_ROOT), **env_extra)
    for name in ("VIDI_MODEL", "VIDI_SERVER", "VIDI_API_KEY"):
        if name not in env_extra:
            env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "core_model.cli", *map(str, args)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def test_ask_a_segment_on_the_server_and_record_it(transformers_server, video_with_audio, tmp_path):
    result = _vidi(["ask", video_with_audio, "--start", "0:01", "--end", "3", "--server", transformers_server.base_url,
                    "--model", transformers_server.model, "--frames", "4", "--max-new-tokens", "6", "--json",
                    "What is on the screen?"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = json.loads(result.stdout)
    assert out["answer"].strip() and out["device"] == "remote" and out["model_id"] == transformers_server.model
    assert len(out["frame_timestamps_s"]) == 4 and all(1.0 <= t <= 3.0 for t in out["frame_timestamps_s"])
    assert "as images, with audio" in out["plan"] and f"127.0.0.1:{transformers_server.port}" in out["plan"]
    assert out["used_audio"] is True
    with ConversationStore(tmp_path / "vidi.sqlite3") as store:
        [chat] = store.list_chats(store.list_videos()[0].id)
        question, reply = store.list_turns(chat.id)
    assert reply.status == "complete" and reply.text == out["answer"]


def test_ask_a_segment_and_an_image_with_the_server_from_the_environment(transformers_server, video_with_audio,
                                                                           image_png, tmp_path):
    # $VIDI_SERVER is the default server; the server serves one model, so --model may be left out
    result = _vidi(["ask", video_with_audio, "--end", "2", "--image", image_png, "--frames", "2",
                    "--max-new-tokens", "5", "Is the picture in the video?"], tmp_path,
                   VIDI_SERVER=transformers_server.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


def test_models_list_server_shows_what_it_serves(transformers_server, tmp_path):
    result = _vidi(["models", "list", "--server", transformers_server.base_url], tmp_path)
    assert result.returncode == 0, result.stderr
    assert transformers_server.model in result.stdout
    assert "video as frames, images, audio" in result.stdout  # probed: images and audio yes, video_url no
    assert "ms to list them" in result.stdout
    assert (tmp_path / "remote_servers.json").is_file()


def test_a_server_that_is_down_or_a_wrong_model_is_one_line(transformers_server, video_with_audio, tmp_path):
    down = _vidi(["ask", video_with_audio, "--server", f"http://127.0.0.1:{free_port()}", "--model", "m", "Hi?"],
                 tmp_path)
    assert down.returncode == 2
    assert down.stderr.count("\n") == 1 and "refused the connection" in down.stderr
    wrong = _vidi(["ask", video_with_audio, "--server", transformers_server.base_url, "--model", "nope", "Hi?"],
                  tmp_path)
    assert wrong.returncode == 2
    assert wrong.stderr.count("\n") == 1 and "does not serve model 'nope'" in wrong.stderr
    bad = _vidi(["models", "list", "--server", "ftp://x"], tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "not a server address" in bad.stderr


def test_server_killed_mid_answer_keeps_the_partial_answer(tiny_vlm_dir, video_with_audio, tmp_path):
    from tests.fixtures.remote_server import start_transformers_server

    server = start_transformers_server(tiny_vlm_dir, tmp_path)
    env = dict(os.environ, HF_HUB_OFFLINE="1", VIDI_DATA_DIR=str(tmp_path), PYTHONPATH=str(REPO_ROOT))
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "core_model.cli", "ask", str(video_with_audio), "--end", "2", "--frames", "2",
             "--server", server.base_url, "--model", server.model, "--max-new-tokens", "4000", "Describe it."],
            cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = process.stdout.read(200)  # the answer is streaming
        server.kill()
        rest, stderr = process.communicate(timeout=60)
    finally:
        server.stop()
    assert process.returncode == 2
    assert stderr.count("\n") == 1 and "cut before the answer was complete" in stderr and "part received is kept" in stderr
    printed = first + rest
    assert printed.rstrip().endswith("[answer cut off]")
    with ConversationStore(tmp_path / "vidi.sqlite3") as store:
        [chat] = store.list_chats(store.list_videos()[0].id)
        question, answer = store.list_turns(chat.id)
    assert question.text == "Describe it."
    assert answer.status == "error" and "cut" in answer.error
    assert answer.text.endswith("[answer cut off]") and printed.startswith(answer.text[:200])
