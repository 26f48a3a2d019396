"""``vidi library index --model remote+URL#MODEL``: a library indexed by a model server (issue 12: a GPU box's vLLM
indexes while the laptop stays free), here a real ``transformers serve`` on 127.0.0.1 with a tiny random-weight
Gemma 4 (tests/fixtures/remote_server.py), then ``vidi search`` finds a moment by the server's captions. Real child
processes, real HTTP, a real SQLite database; the videos are silent and have no subtitles, so every word searched
comes from the server."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import core_model
from core_model.store.fingerprint import fingerprint_file
from core_model.store.index_store import IndexStore
from tests.fixtures.index_media import write_scene_video
from tests.fixtures.remote_server import free_port

REPO_ROOT = Path(core_model.__file__).resolve().parents[1]


def _vidi(args, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", VIDI_DATA_DIR=str(home / "data"),
               HF_HUB_CACHE=str(home / "hub"), PYTHONPATH=str(REPO_ROOT))
    for name in ("VIDI_MODEL", "VIDI_SERVER", "VIDI_API_KEY"):
        env.pop(name, None)
    return subprocess.run([sys.executable, "-m", "core_model.cli", *map(str, args)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_a_library_indexed_by_a_model_server_is_searchable_by_its_captions(transformers_server, tmp_path):
    folder = tmp_path / "videos"
    folder.mkdir()
    beach = write_scene_video(folder / "beach.mp4", [30, 40], fps=5, width=96, height=72)  # 14 s, two shots
    garden = write_scene_video(folder / "garden.mp4", [50], fps=5, width=96, height=72)
    assert _vidi(["library", "add", folder], tmp_path).returncode == 0

    # the server is not up yet (nothing listens on that port): one line, and nothing is marked indexed without it
    down = _vidi(["library", "index", "--model", f"remote+http://127.0.0.1:{free_port()}/v1#m"], tmp_path)
    assert down.returncode == 2 and "Traceback" not in down.stderr
    assert down.stderr.splitlines()[-1].startswith("vidi: error: Server 127.0.0.1:")
    assert "refused the connection" in down.stderr and "2 videos kept to index" in down.stderr
    assert "2 to index" in _vidi(["library", "list"], tmp_path).stdout

    spec = f"remote+{transformers_server.base_url}#{transformers_server.model}"
    indexed = _vidi(["library", "index", "--model", spec], tmp_path)
    assert indexed.returncode == 0, indexed.stderr
    assert indexed.stdout.startswith("Indexed 2 videos.") and "failed" not in indexed.stdout, indexed.stdout
    assert "captions 3/" in indexed.stderr and f"loading {spec}" in indexed.stderr  # the progress bar

    with IndexStore(tmp_path / "data" / "vidi.sqlite3") as index:
        captions = {video: index.captions(fingerprint_file(video)) for video in (beach, garden)}
        parts = {video: index.parts(fingerprint_file(video)) for video in (beach, garden)}
    for video in (beach, garden):
        assert parts[video]["captions"].done and parts[video]["captions"].model_id == transformers_server.model
        assert parts[video]["chapters"].done  # --model titles chapters too, through the same server
        assert captions[video] and all(c.text.strip() and c.model_id == transformers_server.model
                                       for c in captions[video])
        assert not any(re.search(r"<\|?\w+\|?>", c.text) for c in captions[video])  # no model control tokens

    # a word of the server's first caption of beach.mp4: search finds that moment (no other words exist)
    first = captions[beach][0]
    word = max(re.findall(r"[A-Za-z]{4,}", first.text), key=len)
    found = _vidi(["search", word, "--json", "--limit", "20"], tmp_path)
    assert found.returncode == 0, found.stderr
    moments = json.loads(found.stdout)
    assert moments and all(m["text"] for m in moments)
    assert any(m["video"] == str(beach) and m["start_s"] <= first.start_s < m["end_s"] and first.text in m["text"]
               for m in moments), (word, moments)
