"""How ``vidi ask`` records an exchange, in real processes on a real store file: the question is saved before the
model loads (a kill while loading keeps it), a failure of any kind is saved as failed with its message, and store
failures are one line with exit code 2."""

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core_model.cli import main
from core_model.store import ConversationStore
from tests.core_model.cli.test_ask import REPO_ROOT, _env

# Runs `vidi ask` in a child process with one part of it changed (what a test cannot make happen for real).
_PATCHED_VIDI = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import core_model.backends as backends
    from core_model.cli import main

    patch, marker = sys.argv[1], Path(sys.argv[2])
    real_load_backend = backends.load_backend

    def patched_load_backend(*args, **kwargs):
        backend = real_load_backend(*args, **kwargs)
        if patch == "slow-load":  # a big model on a slow disk: loading takes minutes
            def load(progress=None):
                marker.touch()
                time.sleep(300)
            backend.load = load
        elif patch == "answer-fails":  # a library's own exception in the middle of an answer
            real_answer = backend.answer
            def answer(conversation, options=None):
                for count, piece in enumerate(real_answer(conversation, options)):
                    if count == 3:
                        raise ValueError("tensor a (7) must match tensor b (9)")
                    yield piece
            backend.answer = answer
        return backend

    backends.load_backend = patched_load_backend
    if patch == "disk-fills":  # the disk fills up after the first piece
        import core_model.chat_session as chat_session
        real_append = chat_session.Exchange.append
        def append(self, piece):
            if not self.text:
                (pages,) = self.store._query_one("PRAGMA page_count")
                self.store._db.execute(f"PRAGMA max_page_count = {pages}")
                self.store._db.execute("PRAGMA cache_size = 0")
            real_append(self, piece * 2000)
        chat_session.Exchange.append = append
    sys.exit(main(sys.argv[3:]))
    """
)


def _patched_vidi(patch, marker, ask_args, data_dir, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-c", _PATCHED_VIDI, patch, str(marker), "ask", *map(str, ask_args)],
        cwd=REPO_ROOT, env=_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs,
    )


def _ask_args(tiny_vlm_dir, video, question):
    return [video, "--start", "1", "--end", "3", "--model", tiny_vlm_dir, "--device", "cpu", "--frames", "4",
            "--max-new-tokens", "12", question]


def test_a_kill_while_the_model_loads_keeps_the_question(tiny_vlm_dir, video_with_audio, tmp_path):
    marker = tmp_path / "loading"
    process = _patched_vidi("slow-load", marker, _ask_args(tiny_vlm_dir, video_with_audio, "Who speaks?"), tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert process.poll() is None, process.communicate()[1]
            assert time.monotonic() < deadline, "the model never started loading"
            time.sleep(0.05)
        with ConversationStore(tmp_path / "vidi.sqlite3") as store:  # while it loads: recorded, still pending
            [turn] = [t for t in store.iter_all_turns() if t.role == "user"]
            assert turn.text == "Who speaks?" and turn.segment_start_s == 1.0
            assert store.interrupted_count == 0  # its writer is alive
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    with ConversationStore(tmp_path / "vidi.sqlite3") as store:
        question, answer = store.iter_all_turns()
        assert question.text == "Who speaks?"
        assert (answer.status, answer.text, answer.model_id) == ("error", "", tiny_vlm_dir.name)
        assert answer.error.startswith("interrupted")


def test_a_failed_answer_is_saved_as_failed_with_its_error(tiny_vlm_dir, video_with_audio, tmp_path):
    process = _patched_vidi("answer-fails", tmp_path / "unused",
                            _ask_args(tiny_vlm_dir, video_with_audio, "What happens?"), tmp_path)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 2
    assert stderr.splitlines() == ["vidi: error: Unexpected error (ValueError): tensor a (7) must match tensor b (9)"]
    with ConversationStore(tmp_path / "vidi.sqlite3") as store:
        question, answer = store.iter_all_turns()
    assert answer.status == "error" and answer.error.endswith("tensor a (7) must match tensor b (9)")
    assert answer.text and stdout.startswith(answer.text)  # the three pieces that came first are kept
    assert answer.run["model_id"] == tiny_vlm_dir.name


def test_a_disk_that_fills_mid_answer_still_shows_the_answer_then_one_line(tiny_vlm_dir, video_with_audio, tmp_path):
    process = _patched_vidi("disk-fills", tmp_path / "unused",
                            _ask_args(tiny_vlm_dir, video_with_audio, "What happens?"), tmp_path)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr
    assert len(stdout.split()) == 12  # the whole answer was shown (12 tokens, one word each)
    [line] = stderr.splitlines()
    assert line.startswith("vidi: error: The disk is full")


def test_a_data_folder_that_is_a_file_fails_in_one_line_before_the_model_loads(tiny_vlm_dir, video_with_audio,
                                                                               tmp_path, capsys, monkeypatch):
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file")
    monkeypatch.setenv("VIDI_DATA_DIR", str(not_a_folder))
    loaded = []
    monkeypatch.setattr("core_model.cli.ask._load", lambda backend: loaded.append(backend) or 0.0)
    assert main(["ask", *map(str, _ask_args(tiny_vlm_dir, video_with_audio, "q"))]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and loaded == []
    assert captured.err.splitlines() == [
        f"vidi: error: Vidi's data folder '{not_a_folder}' is a file, not a folder."
    ]
