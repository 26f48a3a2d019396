"""The Models dialog's workers: a download (ModelManager.pull) and the device detection, each on its own QThread.

The GUI thread only receives their signals (queued); a download is cancelled through a thread-safe CancelToken.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core_model.backends.base import CancelToken
from core_model.models import DownloadCancelled, ModelManager, ModelManagerError, PullProgress, recommend




class PullWorker(QObject):
    """Runs ModelManager.pull on its thread; signals carry the model id first."""

    progressed = Signal(str, object)  # (model_id, PullProgress)
    finished = Signal(str, str)  # (model_id, local folder)
    failed = Signal(str, str)  # (model_id, message)
    cancelled = Signal(str, str)  # (model_id, message)
    done = Signal()

    def __init__(self, manager: ModelManager, model_id: str, cancel: CancelToken) -> None:
        super().__init__()
        self.manager = manager
        self.model_id = model_id
        self.cancel = cancel

    @Slot()
    def run(self) -> None:
        try:
            record = self.manager.pull(self.model_id, progress=self._on_progress, cancel=self.cancel)
        except DownloadCancelled as exc:
            self.cancelled.emit(self.model_id, str(exc))
        except ModelManagerError as exc:
            self.failed.emit(self.model_id, str(exc))
        except Exception as exc:  # noqa: BLE001  whatever happens, the GUI must hear about it
            self.failed.emit(self.model_id, f"The download failed: {exc}")
        else:
            self.finished.emit(self.model_id, record.path)
        self.done.emit()

    def _on_progress(self, progress: PullProgress) -> None:
        self.progressed.emit(self.model_id, progress)


class DeviceWorker(QObject):
    """Detects the device (imports torch) and recommends a model, off the GUI thread."""

    detected = Signal(object, object)  # (DeviceInfo or None, Recommendation or None)
    done = Signal()

    def __init__(self, catalog) -> None:
        super().__init__()
        self.catalog = catalog

    @Slot()
    def run(self) -> None:
        try:
            from desktop_app.model_choice import detect_device_in_child

            device = detect_device_in_child()
            self.detected.emit(device, recommend(device, catalog=self.catalog))
        except Exception:  # noqa: BLE001  no torch / a broken driver: just no recommendation
            self.detected.emit(None, None)
        self.done.emit()


def start_on_thread(parent: QObject, worker: QObject) -> QThread:
    """Move ``worker`` onto a new QThread, run its ``run`` slot, and clean both up when it says ``done``."""
    thread = QThread(parent)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.done.connect(thread.quit)
    thread.finished.connect(worker.deleteLater)
    thread.start()
    return thread
