"""The one bridge between the GUI and core_model's backends: a QObject living on its own QThread.

The GUI thread never calls a backend except ``cancel()`` (thread-safe by contract). It talks to the worker through
queued signals (load, submit) and receives Signals back, every one carrying the request id first, so that late
pieces of a stopped request can be dropped. By default the model runs in a child process (model_process), so
torch is never imported into the GUI process; tests and benchmarks may run a backend on the thread itself.

Requests run one at a time in arrival order: a submit while another answers waits in the thread's event queue.
``InferenceClient`` (GUI side) owns the thread and the worker and ends both within a deadline on close.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from dataclasses import replace
from typing import Callable

from PySide6.QtCore import QObject, Signal, Slot

from core_model.backends.base import Backend, BackendInfo, Capabilities, RunInfo
from core_model.errors import VidiError, as_vidi_error, first_line, user_message
from desktop_app.workers.chat_request import ChatRequest, ModelSpec

log = logging.getLogger(__name__)


BackendFactory = Callable[[ModelSpec], Backend]


def default_backend_factory(spec: ModelSpec) -> Backend:
    """The model in its own process (see model_process): torch is never imported by the GUI process."""
    from desktop_app.workers.model_process import ProcessBackend

    return ProcessBackend(spec.model, device=spec.device, load_in_4bit=spec.load_in_4bit)


def in_thread_backend_factory(spec: ModelSpec) -> Backend:
    """core_model's registry called on the worker thread itself (torch then loads into the GUI process)."""
    from core_model.backends import load_backend

    return load_backend(spec.model, device=spec.device, load_in_4bit=spec.load_in_4bit)


class _Aborted(Exception):
    """Raised inside a model load's progress callback when the app is closing."""


def _error_kind(exc: BaseException) -> str:
    """core_model.errors' kind ("model_load", "unsupported_media", "out_of_memory", "media", "internal", ...)."""
    return as_vidi_error(exc).kind


def _gpu_memory_used_bytes() -> int:
    torch = sys.modules.get("torch")  # never import torch just to ask
    try:
        if torch is not None and torch.cuda.is_available():
            return int(torch.cuda.memory_allocated())
    except Exception:  # noqa: BLE001  (a broken driver must not break the status bar)
        pass
    return -1


class InferenceWorker(QObject):
    """Owns the backend. Lives on the worker thread; its slots run there."""

    inspected = Signal(object)  # BackendInfo (capabilities known, weights not loaded)
    inspect_failed = Signal(str)  # message
    load_started = Signal(str)  # model
    load_progressed = Signal(float, str)  # fraction in [0, 1], message
    loaded = Signal(object)  # BackendInfo from the backend's describe(): the real device, precision, notice
    load_failed = Signal(str)  # message
    request_started = Signal(int)  # request_id
    piece_received = Signal(int, str)  # request_id, text piece
    request_finished = Signal(int, object)  # request_id, RunInfo (stopped flag set when stopped)
    request_failed = Signal(int, str, str)  # request_id, message for the user, core_model.errors kind
    request_cancelled = Signal(int)  # request_id, stopped before it started
    planned = Signal(int, object)  # request_id, WholeVideoPlan: a whole-video question's moments, before its answer

    def __init__(self, backend_factory: BackendFactory | None = None, text_embedder=None) -> None:
        """``text_embedder``: a core_model TextEmbedding for whole-video questions to find moments by their look
        (the window's is desktop_app.workers.text_embedder_process); None: by their words only."""
        super().__init__()
        self._factory = backend_factory or default_backend_factory
        self._text_embedder = text_embedder
        self._backend: Backend | None = None
        self._spec: ModelSpec | None = None
        self._lock = threading.Lock()
        self._cancelled_ids: set[int] = set()
        self._cancel_below_id = 0  # every request id below this one is cancelled (stop all)
        self._current_id: int | None = None
        self._shutting_down = threading.Event()
        self._loaded_flag = False
        self._loaded_info: BackendInfo | None = None
        self._inspected: tuple[ModelSpec, Backend] | None = None  # described, not loaded: reused by the load
        self._loading: Backend | None = None

    # ---- called from the GUI thread (thread-safe) ---------------------------------------------------------
    def cancel(self, request_id: int) -> None:
        with self._lock:
            self._cancelled_ids.add(request_id)
            running = self._current_id == request_id
            backend = self._backend
        if running and backend is not None:
            backend.cancel()

    def cancel_all(self, below_id: int) -> None:
        """Cancel the running request and every queued one with an id below ``below_id``."""
        with self._lock:
            self._cancel_below_id = max(self._cancel_below_id, below_id)
            running = self._current_id is not None
            backend = self._backend
        if running and backend is not None:
            backend.cancel()

    def shutdown(self) -> None:
        """Stop what runs and refuse all further work; the thread can then quit."""
        self._shutting_down.set()
        self.cancel_all(sys.maxsize)
        with self._lock:
            backends = [self._loading, self._backend, self._inspected[1] if self._inspected else None]
        for backend in backends:
            abort = getattr(backend, "abort", None)
            if abort is not None:
                abort()  # a model process ends at once, even inside a load

    def _is_cancelled(self, request_id: int) -> bool:
        with self._lock:
            return (
                self._shutting_down.is_set()
                or request_id in self._cancelled_ids
                or request_id < self._cancel_below_id
            )

    # ---- slots (worker thread) ----------------------------------------------------------------------------
    @Slot(object)
    def inspect(self, spec: ModelSpec) -> None:
        """Find out what ``spec``'s model takes (video/audio/image) without loading its weights."""
        if self._shutting_down.is_set():
            return
        try:
            if spec == self._spec and self._backend is not None:
                self.inspected.emit(self._loaded_info or self._info(self._backend, loaded=self._is_loaded()))
                return
            self._drop_inspected()
            backend = self._factory(spec)
            with self._lock:
                self._inspected = (spec, backend)
            self.inspected.emit(self._info(backend, loaded=False))  # describe(): a model process starts here
        except Exception as exc:  # noqa: BLE001  (shown to the user, never raised into Qt)
            self.inspect_failed.emit(user_message(exc))

    @Slot(object)
    def load(self, spec: ModelSpec) -> None:
        if self._shutting_down.is_set():
            return
        try:
            self._ensure_loaded(spec)
        except _Aborted:
            pass
        except Exception as exc:  # noqa: BLE001
            self.load_failed.emit(user_message(exc))

    @Slot()
    def unload(self) -> None:
        self._drop_backend()

    @Slot(object)
    def submit(self, request: ChatRequest) -> None:
        request_id = request.request_id
        if self._is_cancelled(request_id):
            self.request_cancelled.emit(request_id)
            return
        plan = self._plan(request)  # before the load: the moments are shown while the model loads
        if self._is_cancelled(request_id):
            self.request_cancelled.emit(request_id)
            return
        try:
            self._ensure_loaded(request.spec)
        except _Aborted:
            self.request_cancelled.emit(request_id)
            return
        except Exception as exc:  # noqa: BLE001
            message = user_message(exc)
            self.load_failed.emit(message)
            self.request_failed.emit(request_id, message, _error_kind(exc))
            return
        if self._is_cancelled(request_id):
            self.request_cancelled.emit(request_id)
            return
        self._answer(request, plan)

    # ---- internals ----------------------------------------------------------------------------------------
    def _plan(self, request: ChatRequest):
        """A whole-video question's WholeVideoPlan (emitted as ``planned``); None for any other question, and for a
        video without an index or whose index cannot be read (then the whole file is asked about in one pass)."""
        ask = request.whole_video
        if ask is None:
            return None
        from core_model.index.whole_video import plan_question

        request_id = request.request_id
        embedder = self._text_embedder
        embed = getattr(embedder, "embed", None)
        embed_texts = embedder if embed is None else (
            lambda folder, texts: embed(folder, texts, should_stop=lambda: self._is_cancelled(request_id)))
        try:
            plan = plan_question(ask.db_path, request.turns()[-1], duration_s=ask.duration_s,
                                 num_frames=request.options.num_frames, image_search=embedder is not None,
                                 embed_texts=embed_texts)
        except (VidiError, OSError) as exc:  # a renamed file, a damaged index: asked in one pass, which says why
            log.info("a whole-video question is asked in one pass: %s", first_line(exc))
            return None
        except Exception:  # noqa: BLE001  (a bug: the question still goes out, in one pass)
            log.warning("planning a whole-video question failed", exc_info=True)
            return None
        if plan is not None:
            self.planned.emit(request_id, plan)
        return plan

    def _answer(self, request: ChatRequest, plan=None) -> None:
        backend = self._backend
        assert backend is not None
        request_id = request.request_id
        with self._lock:
            self._current_id = request_id
        self.request_started.emit(request_id)
        earlier_run = backend.last_run  # a backend sets a new RunInfo for each answer; this one is not ours
        pieces = None
        answered = False
        try:
            if plan is None:
                pieces = backend.answer(request.turns(), request.options)
            else:  # the moments re-watched, or the chapters summed up (map-reduce), as `vidi ask` does
                from core_model.index.whole_video import answer_whole_video

                pieces = answer_whole_video(plan, backend, request.options, history=request.turns()[:-1],
                                            should_stop=lambda: self._is_cancelled(request_id))
            for piece in pieces:
                if self._is_cancelled(request_id):
                    backend.cancel()
                    break
                if piece:
                    self.piece_received.emit(request_id, piece)
            self._close(pieces)  # a stopped stream ends (and its backend writes last_run) before we read it
            self.request_finished.emit(request_id, self._run_of(backend, earlier_run, request_id))
            answered = True
        except Exception as exc:  # noqa: BLE001
            if self._is_cancelled(request_id):
                self.request_finished.emit(request_id, self._run_of(backend, earlier_run, request_id))
            else:
                kind = _error_kind(exc)
                if kind == "internal":
                    log.error("answer failed:\n%s", traceback.format_exc())
                self.request_failed.emit(request_id, user_message(exc), kind)
        finally:
            self._close(pieces)
            with self._lock:
                self._current_id = None
            if answered and self._loaded_info is not None:  # the load's describe(), GPU memory refreshed
                self.loaded.emit(self._with_memory(self._loaded_info))

    def _run_of(self, backend: Backend, earlier_run, request_id: int) -> RunInfo:
        """This request's RunInfo; an empty one (no frames claimed) when the backend did not report one for it, so
        the chat never shows an earlier question's frames as this one's."""
        run = backend.last_run
        if run is earlier_run or not isinstance(run, RunInfo):
            run = RunInfo(model_id=str(getattr(backend, "model_id", "")))
        else:
            run = replace(run, frame_timestamps_s=list(run.frame_timestamps_s))
        if self._is_cancelled(request_id):
            run.stopped = True
        return run

    @staticmethod
    def _close(pieces) -> None:
        if pieces is not None and hasattr(pieces, "close"):
            try:
                pieces.close()
            except Exception:  # noqa: BLE001
                log.debug("closing the answer stream failed", exc_info=True)

    def _ensure_loaded(self, spec: ModelSpec) -> None:
        if self._backend is not None and self._spec == spec and self._is_loaded():
            return
        self._drop_backend()
        self.load_started.emit(spec.model)

        def progress(fraction: float, message: str) -> None:
            if self._shutting_down.is_set():
                raise _Aborted()
            self.load_progressed.emit(float(fraction), str(message))

        with self._lock:
            inspected, self._inspected = self._inspected, None
        if inspected is not None and inspected[0] != spec:
            inspected[1].unload()
            inspected = None
        backend = inspected[1] if inspected is not None else self._factory(spec)
        with self._lock:
            self._loading = backend
        try:
            backend.load(progress)
        except Exception:
            if self._shutting_down.is_set():
                raise _Aborted() from None
            backend.unload()
            raise
        finally:
            with self._lock:
                self._loading = None
        if self._shutting_down.is_set():
            backend.unload()
            raise _Aborted()
        with self._lock:
            self._backend, self._spec = backend, spec
        self._loaded_flag = True
        # describe() once per load: asked again after each answer, a model process would reset its last_run (and,
        # after a crash, start a new child with no model in it)
        self._loaded_info = self._info(backend, loaded=True)
        self.loaded.emit(self._loaded_info)

    def _is_loaded(self) -> bool:
        return self._loaded_flag

    def _drop_inspected(self) -> None:
        with self._lock:
            inspected, self._inspected = self._inspected, None
        if inspected is not None:
            try:
                inspected[1].unload()
            except Exception:  # noqa: BLE001
                log.warning("ending the model process failed", exc_info=True)

    def _drop_backend(self) -> None:
        with self._lock:
            backend, self._backend, self._spec = self._backend, None, None
        self._loaded_flag = False
        self._loaded_info = None
        if backend is not None:
            try:
                backend.unload()
            except Exception:  # noqa: BLE001
                log.warning("unloading the model failed", exc_info=True)

    @staticmethod
    def _info(backend: Backend, loaded: bool) -> BackendInfo:
        """The backend's own describe() (a model process answers with the child's), marked loaded or not."""
        try:
            info = backend.describe()
        except Exception as exc:  # noqa: BLE001  (a dead model process: say what is known, never guess a device)
            log.info("describe() failed: %s", exc)
            info = BackendInfo(str(getattr(backend, "model_id", "")), getattr(backend, "capabilities", Capabilities()),
                               str(getattr(backend, "device", "") or ""))
        info = replace(info, loaded=loaded)
        return InferenceWorker._with_memory(info) if loaded else info

    @staticmethod
    def _with_memory(info: BackendInfo) -> BackendInfo:
        """``info`` with this process's GPU memory in use, for a backend on this thread (a model process reports
        its own in describe())."""
        used = _gpu_memory_used_bytes() if info.device == "cuda" else -1
        return replace(info, memory_used_bytes=used) if used >= 0 else info

    @Slot()
    def release(self) -> None:
        """Last call, once the thread has ended: free the model (and end a model process)."""
        self._drop_inspected()
        self._drop_backend()
