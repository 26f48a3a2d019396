"""Runs a model backend in a child process, behind the same Backend protocol (a proxy the worker thread drives).

Why: importing torch runs C++ initialisers that hold Python's GIL for over a second (``torch._C``: 1.3 s here),
and a model load or a CUDA crash can take the whole process down. In a child process none of that can freeze or
kill the window: the GUI process never imports torch, and closing Vidi can always end the child at once, even in
the middle of ``from_pretrained``.

Protocol (over one ``multiprocessing`` Pipe; the child is started with "spawn", never fork, as Qt runs threads):
parent -> child ``("describe",)``, ``("load",)``, ``("answer", conversation, options)``, ``("unload",)``,
``("quit",)``; child -> parent ``("described", BackendInfo)``, ``("progress", fraction, message)``,
``("loaded", BackendInfo)``, ``("piece", text)``, ``("done", RunInfo)``, ``("error", core_model.errors.to_wire)``.
Every command ends with exactly one final message ("described", "loaded", "done", "unloaded" or "error"), so the
parent always knows where a command ends, whatever went wrong in the child. Cancel goes over a second pipe, which
a thread of the child turns into ``backend.cancel()`` at once. A child that dies (killed, out of memory, a crash
in native code) is reported as ModelProcessError naming the signal or exit code, and the next command starts a
new child. No Qt is imported here: the child must not load Qt.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from typing import Iterator

from core_model.backends.base import BackendInfo, Capabilities, GenerationOptions, MemoryEstimate, RunInfo
from core_model.errors import ModelProcessError, VidiError, from_wire, to_wire
from desktop_app.workers.child_exit import killing_signal

_FINAL = ("described", "loaded", "done", "unloaded")


# ---- child side -------------------------------------------------------------------------------------------------
def _warm_up() -> None:
    """Import the heavy libraries while the user is still choosing a segment, so the first answer comes sooner."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except Exception:  # noqa: BLE001  (the load reports real problems)
        pass


def child_main(conn, cancel_conn, model: str, device: str, load_in_4bit) -> None:
    """The child process: build the backend, then serve commands until "quit" or the pipe closes.

    Library noise (progress bars, transformers' advice, FFmpeg logs) stays off the terminal as in the CLI, unless
    ``$VIDI_VERBOSE`` is 1."""
    import os

    from core_model.cli.quiet import library_output

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the window's to handle
    with library_output(os.environ.get("VIDI_VERBOSE") == "1", command="ask"):
        _serve(conn, cancel_conn, model, device, load_in_4bit)


def _serve(conn, cancel_conn, model: str, device: str, load_in_4bit) -> None:
    backend = None

    def watch_cancel() -> None:
        while True:
            try:
                cancel_conn.recv()
            except (EOFError, OSError):
                return
            if backend is not None:
                backend.cancel()

    threading.Thread(target=watch_cancel, daemon=True, name="vidi-cancel-watch").start()
    try:
        from core_model.backends import load_backend

        backend = load_backend(model, device=device, load_in_4bit=load_in_4bit)
    except BaseException as exc:  # noqa: BLE001  reported once; every later command gets the same error
        failure = to_wire(exc)
    else:
        failure = None
    while True:
        try:
            command = conn.recv()
        except (EOFError, OSError):
            break
        name = command[0]
        if name == "quit":
            break
        try:
            if failure is not None:
                conn.send(("error", failure))
            elif name == "describe":
                conn.send(("described", backend.describe()))
                _warm_up()
            elif name == "load":
                backend.load(lambda fraction, message: conn.send(("progress", float(fraction), str(message))))
                conn.send(("loaded", backend.describe()))
            elif name == "answer":
                _, conversation, options = command
                for piece in backend.answer(conversation, options):
                    conn.send(("piece", piece))
                conn.send(("done", backend.last_run))
            elif name == "unload":
                backend.unload()
                conn.send(("unloaded",))
        except BaseException as exc:  # noqa: BLE001  (reported to the parent, the child goes on)
            try:
                conn.send(("error", to_wire(exc)))
            except (OSError, ValueError):
                break
    if backend is not None:
        try:
            backend.unload()
        except Exception:  # noqa: BLE001
            pass


# ---- parent side ------------------------------------------------------------------------------------------------
class ProcessBackend:
    """A Backend whose model lives in a child process. Methods other than cancel/abort run on one thread."""

    def __init__(self, model: str, device: str = "auto", load_in_4bit: bool | None = None) -> None:
        self.model_id = model
        self.device = "" if device == "auto" else device
        self.load_in_4bit = bool(load_in_4bit)
        self.notice = ""
        self.capabilities = Capabilities(video=True, audio=False, image=True)
        self.last_run = RunInfo(model_id=model)
        self.info: BackendInfo | None = None
        self._args = (model, device, load_in_4bit)
        self._context = multiprocessing.get_context("spawn")
        self._process = None
        self._conn = None
        self._cancel_conn = None
        self._cancel_lock = threading.Lock()
        self._aborted = threading.Event()

    # -- process plumbing
    def _ensure_process(self) -> None:
        if self._process is not None and self._process.is_alive():
            return
        if self._aborted.is_set():
            raise ModelProcessError("Vidi is closing.")
        self._close_pipes()
        parent_conn, child_conn = self._context.Pipe()
        cancel_parent, cancel_child = self._context.Pipe()
        self._process = self._context.Process(target=child_main, args=(child_conn, cancel_child, *self._args),
                                              name="vidi-model", daemon=True)
        self._process.start()
        child_conn.close()
        cancel_child.close()
        self._conn = parent_conn
        with self._cancel_lock:
            self._cancel_conn = cancel_parent

    def _recv(self):
        try:
            message = self._conn.recv()
        except (EOFError, OSError):
            raise self._death() from None
        if message[0] == "error":
            raise from_wire(message[1])
        return message

    def _death(self) -> ModelProcessError:
        """The error for a child that is gone; the next command starts a new one."""
        process = self._process
        if process is not None:
            process.join(2.0)
        if self._aborted.is_set():
            return ModelProcessError("The model process was stopped.")
        code = process.exitcode if process is not None else None
        self._process = None
        name = killing_signal(code)
        if name is not None:
            why = " (the system may have run out of memory)" if name == "SIGKILL" else ""
            return ModelProcessError(
                f"The model process was killed by {name}{why}. Ask again to restart it."
            )
        return ModelProcessError(
            f"The model process ended unexpectedly (exit code {code}); it may have run out of memory. "
            "Ask again to restart it."
        )

    def _take_info(self, info: BackendInfo) -> None:
        self.info = info
        self.model_id, self.capabilities, self.device = info.model_id, info.capabilities, info.device
        self.load_in_4bit, self.notice = info.load_in_4bit, info.notice
        self.last_run = RunInfo(model_id=info.model_id, notice=info.notice)

    def _command(self, *command) -> None:
        self._ensure_process()
        try:
            self._conn.send(command)
        except (OSError, ValueError):
            raise self._death() from None

    # -- Backend protocol
    def describe(self) -> BackendInfo:
        """Start the process (it imports torch there, not here) and learn what the model takes; no weights."""
        self._command("describe")
        self._take_info(self._recv()[1])
        return self.info

    def load(self, progress=None) -> None:
        self._command("load")
        while True:
            message = self._recv()
            if message[0] == "progress":
                if progress is not None:
                    progress(message[1], message[2])
            elif message[0] == "loaded":
                self._take_info(message[1])
                return

    def answer(self, conversation, options: GenerationOptions | None = None) -> Iterator[str]:
        self._command("answer", list(conversation), options or GenerationOptions())
        return self._stream()

    def _stream(self) -> Iterator[str]:
        finished = False
        try:
            while True:
                message = self._recv()
                if message[0] == "piece":
                    yield message[1]
                elif message[0] == "done":
                    self.last_run = message[1]
                    finished = True
                    return
        except VidiError:  # the child reported an error and is done with this answer, or it died
            finished = True
            raise
        finally:
            if not finished and self._process is not None and self._process.is_alive():
                self.cancel()  # the consumer stopped early: end the answer and drain what is left of it
                self._drain()

    def _drain(self) -> None:
        """Read up to this command's final message, so the next command's replies start clean."""
        try:
            while True:
                message = self._conn.recv()
                if message[0] in _FINAL or message[0] == "error":
                    if message[0] == "done":
                        self.last_run = message[1]
                    return
        except (EOFError, OSError):
            return

    def cancel(self) -> None:
        with self._cancel_lock:
            conn = self._cancel_conn
            if conn is not None:
                try:
                    conn.send(True)
                except (OSError, ValueError):
                    pass  # the process is gone: nothing runs to cancel

    def _close_pipes(self) -> None:
        with self._cancel_lock:
            cancel_conn, self._cancel_conn = self._cancel_conn, None
        for conn in (cancel_conn, self._conn):
            if conn is not None:
                conn.close()
        self._conn = None

    def unload(self) -> None:
        process, conn = self._process, self._conn
        self._process = None
        if process is not None:
            try:
                if process.is_alive():
                    conn.send(("quit",))
                process.join(2.0)
            except (OSError, ValueError):
                pass
            if process.is_alive():
                process.terminate()
                process.join(1.0)
            if process.is_alive():
                process.kill()
                process.join(1.0)
        self._close_pipes()

    def abort(self) -> None:
        """End the child at once (Vidi is closing); safe from any thread, even during a load."""
        self._aborted.set()
        process = self._process
        if process is not None and process.is_alive():
            process.kill()

    def memory_estimate(self) -> MemoryEstimate:
        if self.info is not None and self.info.memory_estimate is not None:
            return self.info.memory_estimate
        return MemoryEstimate(device=self.device or "unknown")
