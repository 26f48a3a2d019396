"""Several processes opening the same NEW store file at the same moment: each one opens it, none fails.

Before the fix ``migrate()`` read ``user_version`` before it took the write lock, so two processes both saw version
0 and the second failed with "table videos already exists"; and switching a new file to WAL while another process
did the same failed at once with "database is locked" (SQLite does not wait for that switch).
"""

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import core_model
from core_model.store import SCHEMA_VERSION, ConversationStore

REPO_ROOT = Path(core_model.__file__).resolve().parents[1]
PROCESSES = 6
FILES = 20

_CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from core_model.store import ConversationStore

    folder, name = Path(sys.argv[1]), sys.argv[2]
    (folder / f"ready-{name}").touch()
    while not (folder / "go").exists():  # start together: the imports above take different times
        time.sleep(0.001)
    failures = []
    for index in range(int(sys.argv[3])):
        try:
            with ConversationStore(folder / f"new-{index}.sqlite3") as store:
                store.new_chat(None, f"{name}-{index}")
        except Exception as exc:
            failures.append(f"{index}: {type(exc).__name__}: {exc}")
    print("\\n".join(failures))
    """
)


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path):
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(tmp_path), str(n), str(FILES)],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for n in range(PROCESSES)
    ]
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("ready-*"))) < PROCESSES:
            assert time.monotonic() < deadline, "the children did not start"
            time.sleep(0.01)
        (tmp_path / "go").touch()
        outputs = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    for child, (stdout, stderr) in zip(children, outputs):
        assert child.returncode == 0, stderr
        assert stdout.strip() == "", stdout  # no open failed
    for index in range(FILES):
        with ConversationStore(tmp_path / f"new-{index}.sqlite3") as store:
            assert sorted(c.title for c in store.list_chats(None)) == sorted(f"{n}-{index}" for n in range(PROCESSES))
            assert store._query_one("PRAGMA user_version")[0] == SCHEMA_VERSION
