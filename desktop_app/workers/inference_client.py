"""The GUI-thread side of the inference worker (workers/inference_worker.py): owns its QThread, forwards requests as
queued signals, and ends the thread within a deadline when the window closes. Never blocks the GUI."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal

from desktop_app.workers.chat_request import ChatRequest, ModelSpec
from desktop_app.workers.inference_worker import BackendFactory, InferenceWorker

log = logging.getLogger(__name__)


class InferenceClient(QObject):
    """GUI-thread owner of the worker thread. Forwards the worker's signals; never blocks the GUI."""

    _load_requested = Signal(object)
    _inspect_requested = Signal(object)
    _submit_requested = Signal(object)

    def __init__(self, backend_factory: BackendFactory | None = None, parent: QObject | None = None,
                 text_embedder=None) -> None:
        super().__init__(parent)
        self._next_id = 1
        self.thread = QThread()
        self.thread.setObjectName("vidi-inference")
        self.worker = InferenceWorker(backend_factory, text_embedder)
        self.worker.moveToThread(self.thread)
        self._load_requested.connect(self.worker.load)
        self._inspect_requested.connect(self.worker.inspect)
        self._submit_requested.connect(self.worker.submit)
        self.thread.start()

    def new_request_id(self) -> int:
        request_id, self._next_id = self._next_id, self._next_id + 1
        return request_id

    def inspect(self, spec: ModelSpec) -> None:
        self._inspect_requested.emit(spec)

    def load(self, spec: ModelSpec) -> None:
        self._load_requested.emit(spec)

    def submit(self, request: ChatRequest) -> None:
        self._submit_requested.emit(request)

    def cancel(self, request_id: int) -> None:
        self.worker.cancel(request_id)

    def cancel_all(self) -> None:
        self.worker.cancel_all(self._next_id)

    def shutdown(self, timeout_ms: int = 2000) -> bool:
        """Cancel everything, let the thread finish, wait at most ``timeout_ms``. True when it has finished."""
        if not self.thread.isRunning():
            return True
        self.worker.shutdown()
        self.thread.quit()
        finished = self.thread.wait(timeout_ms)
        if finished:
            self.worker.release()  # the thread is gone: unloading from here is safe
        else:
            log.warning("the model thread did not finish within %d ms", timeout_ms)
        return finished
