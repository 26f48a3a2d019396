"""The "Models…" dialog: the catalog with what each model takes and needs, and download / cancel / import / remove.

    dialog = ModelManagerDialog(parent=window)            # or manager=ModelManager(...) to inject one
    dialog.models_changed.connect(window.on_models_changed)
    dialog.model_chosen.connect(window.use_model)        # "Use this model": the id for Key.MODEL
    dialog.show()

A download runs in core_model's ModelManager.pull on a worker QObject moved onto its own QThread; the GUI thread
only receives its progress (bytes, speed) through queued signals and may cancel it through a thread-safe token.
Closing the dialog cancels a running download (what was fetched is kept; Download resumes it). The device
(for the "recommended" mark) is detected on a worker thread, in a child process (torch stays out of the GUI).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from desktop_app import qt_compat as _qt_compat  # noqa: F401  (binding fixes before any signal is emitted)
from core_model.backends.base import CancelToken
from core_model.models import (
    ModelManager,
    ModelManagerError,
    ModelStatus,
    PullProgress,
    Recommendation,
    format_bytes,
    recommend,
)
from desktop_app.dialogs.model_details import details_html, needs_cells
from desktop_app.dialogs.model_workers import DeviceWorker, PullWorker, start_on_thread

COLUMNS = ("", "Model", "Size", "Memory (4-bit)", "Takes", "Licence", "Status")
RECOMMENDED_MARK = "★"
STATE_TEXT = {
    "downloaded": "Downloaded",
    "imported": "Imported",
    "in-cache": "In the Hugging Face cache",
    "partial": "Partly downloaded",
    "not-downloaded": "Not downloaded",
    "build-locally": "Build with 'vidi convert'",
    "missing": "Folder missing",
}
PROGRESS_STEPS = 1000  # QProgressBar holds ints: show permille, the text says the bytes


# ----------------------------------------------------------------------------------------------------------------
# The dialog
# ----------------------------------------------------------------------------------------------------------------


class ModelManagerDialog(QDialog):
    """Lists the catalog and the models here; downloads, cancels, imports and removes models.

    ``manager``: a core_model ModelManager (default: the user's). ``device_info``: a core_model.device.DeviceInfo
    to recommend for (default: detected on a worker thread when the dialog opens). ``select_recommended``: select
    the recommended model's row once it is known (the first-run "Get …" button). ``current_model``: the model
    Vidi uses now (its "Use this model" button is disabled).
    """

    models_changed = Signal()  # a model was downloaded, imported or removed: refresh model choosers
    model_downloaded = Signal(str)  # model id
    model_chosen = Signal(str)  # "Use this model": the id to store in Key.MODEL
    remote_server_requested = Signal()  # "Remote server…": a model on an OpenAI-compatible server (ModelChoice)

    def __init__(self, parent=None, manager: ModelManager | None = None, device_info=None, *,
                 select_recommended: bool = False, current_model: str = "") -> None:
        super().__init__(parent)
        self.manager = manager if manager is not None else ModelManager()
        self.select_recommended = select_recommended
        self.current_model = current_model
        self.recommendation: Recommendation | None = None
        self._statuses: list[ModelStatus] = []
        self._folder_infos: dict[str, object] = {}  # folder -> core_model ModelFolderInfo
        self._pull_thread: QThread | None = None
        self._pull_worker: PullWorker | None = None
        self._pull_model_id: str | None = None
        self._cancel: CancelToken | None = None
        self._device_thread: QThread | None = None
        self.setWindowTitle("Models")
        self.resize(980, 520)
        self._init_table()
        self._init_details()
        self._init_progress()
        self._init_buttons()
        self._init_layout()
        self.refresh()
        if device_info is not None:
            self.on_device_detected(device_info, recommend(device_info, catalog=self.manager.catalog))
        else:
            self._detect_device()
        self.update_actions()

    # -- building ----------------------------------------------------------------------------------------------

    def _init_table(self) -> None:
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self.on_selection_changed)

    def _init_details(self) -> None:
        self.device_label = QLabel("Detecting this machine's GPU…", self)
        self.details_label = QLabel(self)
        self.details_label.setWordWrap(True)
        self.details_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_label.setOpenExternalLinks(True)
        self.message_label = QLabel(self)
        self.message_label.setWordWrap(True)

    def _init_progress(self) -> None:
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setValue(0)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setVisible(False)
        self.progress_label = QLabel(self)
        self.progress_label.setVisible(False)

    def _init_buttons(self) -> None:
        self.download_button = QPushButton("Download", self)
        self.cancel_button = QPushButton("Cancel download", self)
        self.import_button = QPushButton("Import folder…", self)
        self.remove_button = QPushButton("Remove", self)
        self.use_button = QPushButton("Use this model", self)
        self.use_button.setToolTip("Ask your questions to this model from now on")
        self.close_button = QPushButton("Close", self)
        self.remote_button = QPushButton("Remote server…", self)
        self.remote_button.setToolTip("Use a model served by vLLM or another OpenAI-compatible server")
        self.remote_button.clicked.connect(self.remote_server_requested)
        self.download_button.clicked.connect(self.on_download_clicked)
        self.cancel_button.clicked.connect(self.on_cancel_clicked)
        self.import_button.clicked.connect(self.on_import_clicked)
        self.remove_button.clicked.connect(self.on_remove_clicked)
        self.use_button.clicked.connect(self.on_use_clicked)
        self.close_button.clicked.connect(self.close)

    def _init_layout(self) -> None:
        buttons = QHBoxLayout()
        for button in (self.download_button, self.cancel_button, self.import_button, self.remove_button,
                       self.remote_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.device_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details_label)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_label)
        layout.addWidget(self.message_label)
        layout.addLayout(buttons)

    # -- state -------------------------------------------------------------------------------------------------

    @property
    def is_downloading(self) -> bool:
        return self._pull_thread is not None

    def refresh(self) -> None:
        """Re-read the manager's list (cheap: no network) and redraw the table, keeping the selection."""
        selected = self.selected_model_id()
        self._statuses = self.manager.list()
        recommended = self.recommendation.entry.id if self.recommendation and self.recommendation.entry else None
        self.table.setRowCount(len(self._statuses))
        for row, status in enumerate(self._statuses):
            entry = status.entry
            size = status.size_on_disk_bytes if status.available and status.size_on_disk_bytes else (
                entry.size_bytes if entry else 0)
            state = STATE_TEXT.get(status.state, status.state)
            if status.state == "partial":
                state += f" ({format_bytes(status.size_on_disk_bytes)})"
            memory, takes = self._needs(status)
            cells = (
                RECOMMENDED_MARK if status.id == recommended else "",
                entry.name if entry else status.id,
                format_bytes(size) if size else "unknown",
                memory,
                takes,
                entry.licence if entry else "",
                state,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, status.id)
                if column == 0 and text:
                    item.setToolTip(f"Recommended for this machine: {self.recommendation.reason}")
                self.table.setItem(row, column, item)
        if selected is not None:
            self.select_model(selected)
        self.update_actions()

    def _folder_info(self, status: ModelStatus):
        """What an imported folder takes and needs, read from its files (cached: refresh() runs often)."""
        if status.path is None:
            return None
        key = str(status.path)
        if key not in self._folder_infos:
            from core_model.models.folder_info import inspect_model_folder

            self._folder_infos[key] = inspect_model_folder(status.path)
        return self._folder_infos[key]

    def _needs(self, status: ModelStatus) -> tuple[str, str]:
        return needs_cells(status, None if status.entry is not None else self._folder_info(status))

    def selected_model_id(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        return self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)

    def select_model(self, model_id: str) -> None:
        for row, status in enumerate(self._statuses):
            if status.id == model_id:
                self.table.selectRow(row)
                return

    def status_of(self, model_id: str) -> ModelStatus | None:
        return next((s for s in self._statuses if s.id == model_id), None)

    @Slot()
    def update_actions(self) -> None:
        status = self.status_of(self.selected_model_id() or "")
        downloadable = bool(status and status.entry and status.entry.downloadable)
        can_fetch = downloadable and status.state in ("not-downloaded", "partial")
        self.download_button.setEnabled(can_fetch and not self.is_downloading)
        self.download_button.setText("Resume download" if status and status.state == "partial" else "Download")
        self.cancel_button.setEnabled(self.is_downloading)
        busy_here = self.is_downloading and status is not None and status.id == self._pull_model_id
        self.remove_button.setEnabled(
            bool(status and status.state in ("downloaded", "imported", "partial", "missing")) and not busy_here
        )
        self.import_button.setEnabled(True)
        in_use = status is not None and status.id == self.current_model
        answers = status is None or status.entry is None or status.entry.purpose == "answer"  # not a Whisper
        self.use_button.setEnabled(bool(status and status.available) and answers and not busy_here and not in_use)
        self.use_button.setText("In use" if in_use else "Use this model")

    @Slot()
    def on_selection_changed(self) -> None:
        status = self.status_of(self.selected_model_id() or "")
        self.details_label.setText(self._details_html(status) if status else "")
        self.update_actions()

    def _details_html(self, status: ModelStatus) -> str:
        return details_html(status, None if status.entry is not None else self._folder_info(status))

    # -- device ------------------------------------------------------------------------------------------------

    def _detect_device(self) -> None:
        worker = DeviceWorker(self.manager.catalog)
        worker.detected.connect(self.on_device_detected)
        self._device_worker = worker
        self._device_thread = start_on_thread(self, worker)

    @Slot(object, object)
    def on_device_detected(self, device, recommendation) -> None:
        self.recommendation = recommendation
        if device is None:
            self.device_label.setText("Could not detect this machine's GPU.")
        else:
            memory = f", {format_bytes(device.total_memory_bytes)}" if device.total_memory_bytes else ""
            text = f"This machine: {device.name}{memory}."
            if recommendation is not None:
                text += f"  {RECOMMENDED_MARK} {recommendation.reason}."
            self.device_label.setText(text)
        self.refresh()
        if self.select_recommended and recommendation is not None and recommendation.entry is not None:
            self.select_model(recommendation.entry.id)

    # -- actions -----------------------------------------------------------------------------------------------

    @Slot()
    def on_download_clicked(self) -> None:
        model_id = self.selected_model_id()
        status = self.status_of(model_id or "")
        if status is None or self.is_downloading or status.entry is None:
            return
        entry = status.entry
        if entry.access_note and not self.confirm(
            "Licence", f"{entry.access_note}\n\nDownload {entry.name} ({format_bytes(entry.size_bytes)})?"
        ):
            return
        self._cancel = CancelToken()
        self._pull_model_id = model_id
        worker = PullWorker(self.manager, model_id, self._cancel)
        worker.progressed.connect(self.on_pull_progressed)
        worker.finished.connect(self.on_pull_finished)
        worker.failed.connect(self.on_pull_failed)
        worker.cancelled.connect(self.on_pull_cancelled)
        worker.done.connect(self.on_pull_done)
        self._pull_worker = worker
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(f"{entry.name}: starting…")
        self.progress_bar.setVisible(True)
        self.progress_label.setText("Asking the hub for the file list…")
        self.progress_label.setVisible(True)
        self.show_message("")
        self._pull_thread = start_on_thread(self, worker)
        self.update_actions()

    @Slot()
    def on_cancel_clicked(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()
            self.progress_label.setText("Cancelling…")

    @Slot(str, object)
    def on_pull_progressed(self, model_id: str, progress: PullProgress) -> None:
        self.progress_bar.setValue(int(progress.fraction * PROGRESS_STEPS))
        self.progress_bar.setFormat(f"%p%  {format_bytes(progress.bytes_done)} / {format_bytes(progress.bytes_total)}")
        eta = progress.eta_s
        eta_text = f" — {int(eta) // 60} min {int(eta) % 60:02d} s left" if eta is not None and not progress.finished else ""
        self.progress_label.setText(
            f"{format_bytes(progress.bytes_per_s)}/s{eta_text} — file {min(progress.files_done + 1, progress.files_total)}"
            f" of {progress.files_total}: {progress.filename}"
        )

    @Slot(str, str)
    def on_pull_finished(self, model_id: str, path: str) -> None:
        self.progress_bar.setValue(PROGRESS_STEPS)
        self.show_message(f"{model_id} is ready ({path}).")
        self.model_downloaded.emit(model_id)
        self.models_changed.emit()

    @Slot(str, str)
    def on_pull_failed(self, model_id: str, message: str) -> None:
        self.progress_bar.setVisible(False)  # its "starting…" would otherwise stay, as if the download ran on
        self.show_message(message, error=True)

    @Slot(str, str)
    def on_pull_cancelled(self, model_id: str, message: str) -> None:
        self.show_message("Download cancelled; what was fetched is kept: Download resumes it.")

    @Slot()
    def on_pull_done(self) -> None:
        thread = self._pull_thread
        if thread is not None:
            thread.quit()
            thread.wait(5000)  # the worker has returned from run(): this only lets the event loop end
            thread.deleteLater()
        self._pull_thread = None
        self._pull_worker = None
        self._pull_model_id = None
        self._cancel = None
        self.progress_label.setVisible(False)
        self.refresh()

    @Slot()
    def on_import_clicked(self) -> None:
        folder = self.ask_folder()
        if not folder:
            return
        from core_model.models.folder_info import inspect_model_folder

        problem = inspect_model_folder(folder, with_memory=False).problem
        if problem:
            self.show_message(f"Cannot import this folder: {problem}", error=True)
            return
        try:
            record = self.manager.import_folder(folder)
        except ModelManagerError as exc:
            self.show_message(str(exc), error=True)
            return
        self.show_message(f"Imported '{record.id}' from {record.path}.")
        self.refresh()
        self.select_model(record.id)
        self.models_changed.emit()

    @Slot()
    def on_remove_clicked(self) -> None:
        status = self.status_of(self.selected_model_id() or "")
        if status is None:
            return
        question = (f"Unregister '{status.id}'? Its folder {status.path} is left as it is."
                    if status.state == "imported" else f"Delete '{status.id}' from this machine?")
        if not self.confirm("Remove model", question):
            return
        try:
            result = self.manager.remove(status.id)
        except ModelManagerError as exc:
            self.show_message(str(exc), error=True)
            return
        self.show_message(result.message)
        self.refresh()
        self.models_changed.emit()

    @Slot()
    def on_use_clicked(self) -> None:
        status = self.status_of(self.selected_model_id() or "")
        if status is None or not status.available:
            return
        self.current_model = status.id
        self.model_chosen.emit(status.id)
        name = status.entry.name if status.entry is not None else status.id
        self.show_message(f"Vidi now answers with {name}.")
        self.update_actions()

    def show_message(self, text: str, error: bool = False) -> None:
        self.message_label.setStyleSheet("color: #b00020;" if error else "")
        self.message_label.setText(text)

    # -- questions to the user (overridable in tests) ----------------------------------------------------------

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def ask_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, "Model folder to import", str(Path.home()))

    # -- closing -----------------------------------------------------------------------------------------------

    def done(self, result: int) -> None:  # close(), reject() and accept() all end here
        self.shutdown()
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: N802  (Qt's name)
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Cancel a running download and wait (bounded) for the worker threads to end."""
        if self._cancel is not None:
            self._cancel.cancel()
        for thread in (self._pull_thread, self._device_thread):
            if thread is not None and thread.isRunning():
                thread.quit()
                thread.wait(timeout_ms)
