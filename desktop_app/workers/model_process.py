"""Runs a model backend in a child process, behind the same Backend protocol (a proxy the worker thread drives).

Why: importing torch runs C++ initialisers that hold Python's GIL for over a second (``torch._C``: 1.3 s here),
and a model load or a CUDA crash can take the whole process down. In a child process none of that can freeze or
kill the window: the GUI process never imports torch, and closing Vidi can always end the child at once, even in
the middle of ``from_pretrained``.

Protocol (over one ``multiprocessing`` Pipe; the child is started with "spawn", never fork, as Qt runs threads):
parent -> child ``("describe",)``, ``("load",)``, ``("answer", conversation, media, options)``, ``("unload",)``,
``("quit",)``; child -> parent ``("described", info)``, ``("progress", fraction, message)``, ``("loaded", info)``,
``("piece", text)``, ``("done", RunInfo)``, ``("error", kind, message)``. Cancel goes over a second pipe, which a
thread of the child turns into ``backend.cancel()`` at once. No Qt is imported here: the child must not load Qt.
"""

from __future__ import annotations

import multiprocessing
import threading
from dataclasses import dataclass
from typing import Iterator

from core_model.backends.base import BackendInfo, Capabilities, GenerationOptions, MemoryEstimate, RunInfo
from core_model.errors import ModelProcessError, VidiError, from_wire, to_wire


# ---- child side -------------------------------------------------------------------------------------------------
def _info_of(backend) -> BackendInfo:
    import sys

    memory = -1
    torch = sys.modules.get("torch")
    try:
        if torch is not None and torch.cuda.is_available():
            memory = int(torch.cuda.memory_allocated())
    except Exception:  # noqa: BLE001
        pass
    try:
        estimate = backend.memory_estimate()
    except Exception:  # noqa: BLE001
        estimate = None
    return BackendInfo(str(backend.model_id), backend.capabilities, str(getattr(backend, "device", "")),
                       memory_used_bytes=memory, memory_estimate=estimate)


def _warm_up() -> None:
    """Import the heavy libraries while the user is still choosing a segment, so the first answer comes sooner."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except Exception:  # noqa: BLE001  (the load reports real problems)
        pass


def child_main(conn, cancel_conn, model: str, device: str, load_in_4bit) -> None:
    """The child process: build the backend, then serve commands until "quit" or the pipe closes."""
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
    except BaseException as exc:  # noqa: BLE001
        conn.send(("error", to_wire(exc)))
        return
    while True:
        try:
            command = conn.recv()
        except (EOFError, OSError):
            break
        name = command[0]
        try:
            if name == "describe":
                conn.send(("described", _info_of(backend)))
                _warm_up()
            elif name == "load":
                backend.load(lambda fraction, message: conn.send(("progress", float(fraction), str(message))))
                conn.send(("loaded", _info_of(backend)))
            elif name == "answer":
                _, conversation, options = command
                for piece in backend.answer(conversation, options):
                    conn.send(("piece", piece))
                conn.send(("done", backend.last_run))
            elif name == "unload":
                backend.unload()
                conn.send(("unloaded",))
            elif name == "quit":
                break
        except BaseException as exc:  # noqa: BLE001  (reported to the parent, the child goes on)
            conn.send(("error", to_wire(exc)))
    try:
        backend.unload()
    except Exception:  # noqa: BLE001
        pass


# ---- parent side ------------------------------------------------------------------------------------------------
class ProcessBackend:
    """A Backend whose model lives in a child process. Methods other than cancel/abort run on one thread."""

    def __init__(self, model: str, device: str = "auto", load_in_4bit: bool | None = None) -> None:
        self.model_id = model
        self.device = ""
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
        parent_conn, child_conn = self._context.Pipe()
        cancel_parent, cancel_child = self._context.Pipe()
        self._process = self._context.Process(target=child_main, args=(child_conn, cancel_child, *self._args),
                                              name="vidi-model", daemon=True)
        self._process.start()
        child_conn.close()
        cancel_child.close()
        self._conn, self._cancel_conn = parent_conn, cancel_parent

    def _recv(self):
        try:
            message = self._conn.recv()
        except (EOFError, OSError):
            if self._aborted.is_set():
                raise ModelProcessError("The model process was stopped.") from None
            code = self._process.exitcode if self._process is not None else None
            raise ModelProcessError(
                f"The model process ended unexpectedly (exit code {code}); it may have run out of memory."
            ) from None
        if message[0] == "error":
            raise from_wire(message[1])
        return message

    def _take_info(self, info: BackendInfo) -> None:
        self.info = info
        self.model_id, self.capabilities, self.device = info.model_id, info.capabilities, info.device
        self.last_run = RunInfo(model_id=info.model_id)

    # -- Backend protocol
    def describe(self) -> BackendInfo:
        """Start the process (it imports torch there, not here) and learn what the model takes; no weights."""
        self._ensure_process()
        self._conn.send(("describe",))
        self._take_info(self._recv()[1])
        return self.info

    def load(self, progress=None) -> None:
        self._ensure_process()
        self._conn.send(("load",))
        while True:
            message = self._recv()
            if message[0] == "progress":
                if progress is not None:
                    progress(message[1], message[2])
            elif message[0] == "loaded":
                self._take_info(message[1])
                return

    def answer(self, conversation, options: GenerationOptions | None = None) -> Iterator[str]:
        self._ensure_process()
        self._conn.send(("answer", list(conversation), options or GenerationOptions()))
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
        except VidiError:  # the child reported an error and is done with this answer
            finished = True
            raise
        finally:
            if not finished and self._process is not None and self._process.is_alive():
                self.cancel()  # the consumer stopped early: end the answer and drain what is left of it
                try:
                    while self._recv()[0] != "done":
                        pass
                except BaseException:  # noqa: BLE001
                    pass

    def cancel(self) -> None:
        with self._cancel_lock:
            conn = self._cancel_conn
            if conn is not None:
                try:
                    conn.send(True)
                except (OSError, ValueError):
                    pass  # the process is gone: nothing runs to cancel

    def unload(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        with self._cancel_lock:
            cancel_conn, self._cancel_conn = self._cancel_conn, None
        if cancel_conn is not None:
            cancel_conn.close()
        if process is None:
            return
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
