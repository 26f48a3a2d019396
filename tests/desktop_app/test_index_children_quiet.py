"""The window's index and library children keep library noise off the terminal, as its model process does: seen on
the real app, each library video printed transformers' config advice and a "Loading weights" bar on the terminal the
window was started from. Real spawned children (as the window starts them), their stderr read at the descriptor."""

from __future__ import annotations

import multiprocessing
import shutil

import pytest

from core_model.models.manager import ModelManager
from desktop_app.workers.index_process import index_child_main
from desktop_app.workers.library_process import library_child_main
from tests.fixtures.index_media import index_media_dir, scene_video  # noqa: F401
from tests.fixtures.tiny_siglip import tiny_siglip_dir  # noqa: F401

NOISE = ("Loading weights", "[transformers]", "Model config")


@pytest.fixture
def siglip_here(tmp_path, monkeypatch, tiny_siglip_dir):  # noqa: F811
    """A data folder whose model list holds the tiny SigLIP as the catalog's embedding model (the children read it
    from $VIDI_DATA_DIR, as the window's do)."""
    data = tmp_path / "data"
    monkeypatch.setenv("VIDI_DATA_DIR", str(data))
    monkeypatch.delenv("VIDI_VERBOSE", raising=False)
    ModelManager(data_folder=data).import_folder(tiny_siglip_dir, id="siglip2-base")
    return data


def _run_child(target, *args) -> tuple:
    context = multiprocessing.get_context("spawn")
    parent_conn, child_conn = context.Pipe(duplex=False)
    stop_event = context.Event()  # held here until the child ends: the child unpickles it after start()
    process = context.Process(target=target, args=(child_conn, stop_event, *args), daemon=True)
    process.start()
    child_conn.close()
    messages = []
    while True:
        try:
            messages.append(parent_conn.recv())
        except EOFError:
            break
    process.join(60)
    return messages[-1]


def test_the_index_child_prints_nothing_of_the_libraries_it_loads(siglip_here, scene_video, tmp_path,  # noqa: F811
                                                                  capfd):
    video = shutil.copy(scene_video, tmp_path / "scene.mp4")
    capfd.readouterr()
    kind, outcome = _run_child(index_child_main, str(video), str(siglip_here / "vidi.sqlite3"), None, None)
    assert kind == "done" and "embeddings" in outcome.built  # SigLIP was loaded in the child
    err = capfd.readouterr().err
    assert not [line for line in err.splitlines() if any(noise in line for noise in NOISE)], err


def test_the_library_child_prints_nothing_of_the_libraries_it_loads(siglip_here, scene_video, tmp_path,  # noqa: F811
                                                                    capfd):
    from core_model.library.library_store import LibraryStore

    folder = tmp_path / "videos"
    folder.mkdir()
    shutil.copy(scene_video, folder / "a.mp4")
    db_path = siglip_here / "vidi.sqlite3"
    with LibraryStore(db_path) as library:
        library.add_folder(folder)
    capfd.readouterr()
    kind, outcome = _run_child(library_child_main, str(db_path), None)
    assert kind == "done" and len(outcome.built) == 1
    err = capfd.readouterr().err
    assert not [line for line in err.splitlines() if any(noise in line for noise in NOISE)], err
