"""Composition root: ``run_gui(argv)`` makes the QApplication, settings, store, worker threads and main window.

Nothing here imports torch or transformers: the model side loads on the worker thread when the first question
comes (or the user asks for it), so the window is on screen fast.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path


log = logging.getLogger("vidi")


def data_folder_for(settings) -> Path:
    """The folder for the chat database, pasted images and recordings (settings, $VIDI_DATA_DIR, or default)."""
    from core_model.store import default_db_path
    from desktop_app.settings import Key

    configured = str(settings.value(Key.DATA_FOLDER) or "")
    return Path(configured).expanduser() if configured else default_db_path().parent


def open_store(folder: Path, report=None):
    """The conversation store in ``folder``; None (history off, the app still runs) if it cannot be opened, after
    ``report(message)`` tells why in one line. Opening marks answers of processes that died as interrupted."""
    try:
        from core_model.store import ConversationStore

        return ConversationStore(folder / "vidi.sqlite3")
    except Exception as exc:  # noqa: BLE001
        from core_model.errors import VidiError, user_message

        # a damaged or unreachable database is one line on the terminal too; a traceback only for the unexpected
        log.warning("the conversation store cannot be opened; chats will not be kept: %s", user_message(exc),
                    exc_info=not isinstance(exc, VidiError))
        if report is not None:
            report(f"Chats will not be kept: {user_message(exc)}")
        return None


def open_store_and_video(window, video: str | None) -> None:
    """Once the window is on screen: open the chats' store (a problem is said in the chat, and again in each
    video's chat) and the video given on the command line."""
    problems: list[str] = []
    store = open_store(window.data_folder, problems.append)
    window.attach_store(store, problems[0] if problems else "")
    if video:
        window.open_video(video)


def create_main_window(settings, backend_factory=None, recorder=None, store="open", data_folder: Path | None = None):
    """Build the window and everything it needs. Tests pass a fake ``backend_factory`` and ``recorder``."""
    from core_model import __version__
    from desktop_app.audio_recorder import SoundDeviceRecorder
    from desktop_app.main_window import MainWindow
    from desktop_app.session_controller import SessionController
    from desktop_app.timeline.thumbnail_worker import ThumbnailService
    from desktop_app.workers.inference_client import InferenceClient
    from desktop_app.workers.text_embedder_process import TextEmbedderProcess

    folder = data_folder or data_folder_for(settings)
    if store == "open":
        store = open_store(folder)
    text_embedder = TextEmbedderProcess()  # its child starts at the first search by look
    client = InferenceClient(backend_factory, text_embedder=text_embedder)
    controller = SessionController(client, store)
    thumbnails = ThumbnailService()
    window = MainWindow(settings, controller, thumbnails, recorder or SoundDeviceRecorder(), folder, __version__,
                        text_embedder=text_embedder)
    window.attach_store(store)
    client.setParent(window)
    controller.setParent(window)
    thumbnails.setParent(window)
    return window


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vidi", description="Vidi: ask a local model about your own videos.")
    parser.add_argument("video", nargs="?", help="a video to open")
    parser.add_argument("--model", help="model folder or id for this session (overrides Settings)")
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), help="device for this session")
    args, _qt_args = parser.parse_known_args(argv)
    return args


def run_gui(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    import multiprocessing

    multiprocessing.freeze_support()  # a frozen build's model process re-enters here; this runs it and exits
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parse_args(argv)
    logging.basicConfig(level=os.environ.get("VIDI_LOG", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    if os.environ.get("VIDI_VERBOSE") != "1":
        # Qt Multimedia's own lines (FFmpeg's stream dump of every video opened, "No HW decoder found", a missing
        # PipeWire) are noise on a user's terminal, as the libraries' are for the CLI; VIDI_VERBOSE=1 keeps them
        os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
    from PySide6.QtWidgets import QApplication

    from desktop_app.resources import icon
    from desktop_app.settings import APPLICATION, ORGANIZATION, Key, Settings

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "vidi"])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Vidi")
    app.setDesktopFileName("vidi")
    app.setWindowIcon(icon("app"))
    settings = Settings()
    if args.model:
        settings.set_value(Key.MODEL, args.model)
    if args.device:
        settings.set_value(Key.DEVICE, args.device)
    window = create_main_window(settings, store=None)  # the store opens once the window is on screen
    window.show()
    log.info("window shown %.0f ms after start", (time.perf_counter() - started) * 1000)
    from PySide6.QtCore import QTimer

    QTimer.singleShot(0, lambda: open_store_and_video(window, args.video))
    code = app.exec()
    clean = window.shutdown()
    store = getattr(window, "store", None)
    if store is not None:
        store.close()
    if not clean:
        # A model load that cannot be interrupted (inside from_pretrained) still runs: its thread would keep the
        # process alive or crash at exit. Everything is saved by now, so leave at once.
        logging.shutdown()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(run_gui())
