"""The window's searches by look embed their words with SigLIP in a child process (a core_model TextEmbedding).

Why a child: the window's process never imports torch (model_process.py says why), yet a whole-video question and a
library search both want the question's words as a SigLIP vector, to find keyframes that look like it. The child
loads the SigLIP the searched videos were embedded with (core_model.index.keyframes.embed_texts_here, which keeps it
loaded), so a second search costs one text pass: milliseconds. It ends itself after ``IDLE_EXIT_S`` without a
search, giving back its memory; the next search starts another.

    embedder = TextEmbedderProcess()
    embedder(folder, ["a dog on a beach"])                      # float32 [1, D], as embed_texts_here gives
    embedder.embed(folder, texts, should_stop=stopped)          # Cancelled once stopped() is true
    embedder.close()

Protocol (one ``multiprocessing`` Pipe, "spawn"): parent -> child ``("warm", folder)`` (import torch now, load
that folder's SigLIP when one is named; no reply),
``("embed", seq, folder, texts)``, ``("quit",)``; child -> parent ``("vectors", seq, array)`` or
``("error", seq, core_model.errors.to_wire)``. Replies carry the request's ``seq``: the reply to a search stopped
while the child was still busy is read and dropped by the next one. Thread-safe: the worker thread (a whole-video
question) and the library's search thread share one. A child that dies is a ModelProcessError naming the signal;
the next search starts a new one. No Qt here.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from core_model.errors import Cancelled, ModelProcessError, from_wire, to_wire
from desktop_app.workers.child_exit import killing_signal

IDLE_EXIT_S = 600.0
"""A child with no search for this long ends (SigLIP base and torch hold about 1 GB)."""
POLL_S = 0.05
"""How often a wait looks at ``should_stop`` and at the child being alive."""
WARM_REPLY_S = 20.0
"""A child that has SigLIP loaded embeds a question in milliseconds: one that has not answered in this long is stuck
(seen with a stopped child: every whole-video question after it said "Waiting..." until Stop), so it is killed and
the search goes on by words; the next search starts another. A cold child (importing torch, loading SigLIP) has no
such limit: that may take long on a slow disk."""


# ---- child side -------------------------------------------------------------------------------------------------
def child_main(conn, idle_exit_s: float) -> None:
    import os

    from core_model.cli.quiet import library_output

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the window's to handle
    with library_output(os.environ.get("VIDI_VERBOSE") == "1", command="search"):
        _serve(conn, idle_exit_s)


def _serve(conn, idle_exit_s: float) -> None:
    from core_model.index.keyframes import embed_texts_here

    while True:
        try:
            if not conn.poll(idle_exit_s):
                return  # idle: give the memory back
            command = conn.recv()
        except (EOFError, OSError):
            return
        if command[0] == "quit":
            return
        if command[0] == "warm":
            try:
                import torch  # noqa: F401
                import transformers  # noqa: F401

                if command[1:] and command[1]:
                    from core_model.index.keyframes import question_embedder

                    question_embedder(Path(command[1])).load()
            except Exception:  # noqa: BLE001  (the first search reports real problems)
                pass
            continue
        _, seq, folder, texts = command
        try:
            reply = ("vectors", seq, np.asarray(embed_texts_here(Path(folder), texts), dtype=np.float32))
        except BaseException as exc:  # noqa: BLE001  (reported to the parent; the child goes on)
            reply = ("error", seq, to_wire(exc))
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return


# ---- parent side ------------------------------------------------------------------------------------------------
class TextEmbedderProcess:
    """A TextEmbedding (``(folder, texts) -> float32 [N, D]``) whose SigLIP lives in a child process."""

    def __init__(self, idle_exit_s: float = IDLE_EXIT_S, warm_reply_s: float = WARM_REPLY_S) -> None:
        self.idle_exit_s = idle_exit_s
        self.warm_reply_s = warm_reply_s
        self._loaded: set[str] = set()  # the folders the current child has answered for: SigLIP is loaded there
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._process = None
        self._conn = None
        self._seq = 0
        self._closed = threading.Event()

    def __call__(self, folder: str | Path, texts: Sequence[str]) -> np.ndarray:
        return self.embed(folder, texts)

    def embed(self, folder: str | Path, texts: Sequence[str],
              should_stop: Callable[[], bool] = lambda: False) -> np.ndarray:
        """``texts`` through the SigLIP in ``folder``: float32 [N, D]. Cancelled once ``should_stop()`` is true
        (checked every ``POLL_S``, also while waiting for the lock); VidiError for what failed in the child."""
        while not self._lock.acquire(timeout=POLL_S):
            if should_stop():
                raise Cancelled("The search was stopped.")
        try:
            for attempt in (1, 2):
                self._ensure_process()
                self._seq += 1
                try:
                    self._send(("embed", self._seq, str(folder), [str(text) for text in texts]))
                    vectors = self._wait(self._seq, should_stop, warm=str(folder) in self._loaded)
                    self._loaded.add(str(folder))
                    return vectors
                except ModelProcessError:
                    if attempt == 2 or not self._ended_idle():
                        raise
                    # the child ended for want of work just as this search came: start another and ask again
                    self._forget()
        finally:
            self._lock.release()
        raise AssertionError("unreachable")

    def warm(self, folder: str | Path | None = None) -> None:
        """Start the child and import torch there now, and load the SigLIP in ``folder`` when given, so the first
        search by look comes sooner (the window warms it when a video with keyframe embeddings is opened).
        Never blocks; does nothing while a search runs (the child is warm then)."""
        if not self._lock.acquire(blocking=False):
            return
        try:
            self._ensure_process()
            self._conn.send(("warm", str(folder) if folder else ""))
        except (OSError, ValueError, ModelProcessError):
            pass
        finally:
            self._lock.release()

    def is_running(self) -> bool:
        process = self._process
        return process is not None and process.is_alive()

    def close(self, grace_s: float = 1.0) -> None:
        """End the child (Vidi is closing): asked to quit, killed after ``grace_s``. Safe from any thread; a
        search waiting on it ends with ModelProcessError."""
        self._closed.set()
        process, conn = self._process, self._conn
        if process is None:
            return
        try:
            if process.is_alive():
                conn.send(("quit",))
        except (OSError, ValueError):
            pass
        process.join(grace_s)
        if process.is_alive():
            process.kill()
            process.join(1.0)

    # ---- plumbing -----------------------------------------------------------------------------------------
    def _ensure_process(self) -> None:
        if self._closed.is_set():
            raise ModelProcessError("Vidi is closing.")
        if self._process is not None and self._process.is_alive():
            return
        self._forget()
        parent_conn, child_conn = self._context.Pipe()
        self._process = self._context.Process(target=child_main, args=(child_conn, self.idle_exit_s),
                                              name="vidi-search", daemon=True)
        self._process.start()
        child_conn.close()
        self._conn = parent_conn

    def _send(self, command: tuple) -> None:
        try:
            self._conn.send(command)
        except (OSError, ValueError):
            raise self._death() from None

    def _wait(self, seq: int, should_stop: Callable[[], bool], warm: bool = False) -> np.ndarray:
        deadline_s = time.monotonic() + self.warm_reply_s if warm else None
        while True:
            if should_stop():
                raise Cancelled("The search was stopped.")  # the child's late reply is dropped by the next search
            try:
                if not self._conn.poll(POLL_S):
                    if not self._process.is_alive() and not self._conn.poll(0):
                        raise self._death()
                    if deadline_s is not None and time.monotonic() > deadline_s:
                        raise self._stuck()
                    continue
                kind, reply_seq, payload = self._conn.recv()
            except (EOFError, OSError, ValueError):
                raise self._death() from None
            if reply_seq != seq:
                continue  # the answer to a search that was stopped
            if kind == "error":
                raise from_wire(payload)
            return payload

    def _ended_idle(self) -> bool:
        process = self._process
        if process is not None:
            process.join(1.0)
        return process is not None and process.exitcode == 0 and not self._closed.is_set()

    def _death(self) -> ModelProcessError:
        process = self._process
        if process is not None:
            process.join(1.0)
        if self._closed.is_set():
            return ModelProcessError("Vidi is closing.")
        code = process.exitcode if process is not None else None
        name = killing_signal(code)
        if name is not None:
            return ModelProcessError(f"The search process was killed by {name}; search again to restart it.")
        return ModelProcessError(f"The search process ended unexpectedly (exit code {code}).")

    def _stuck(self) -> ModelProcessError:
        """The warm child did not answer in ``warm_reply_s``: kill it (the next search starts another)."""
        process = self._process
        if process is not None and process.is_alive():
            process.kill()
            process.join(1.0)
        self._forget()
        return ModelProcessError(f"The search process did not answer in {self.warm_reply_s:.0f} s and was "
                                 "restarted; the search went on by words only.")

    def _forget(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._process = self._conn = None
        self._loaded = set()
