"""Choosing the model from the main window: the Settings and Models dialogs, and the first-run "no model" notice.

    choice = ModelChoice(window)        # wires the composer's guard; window.open_settings/open_models delegate here
    choice.use_model("gemma-4-e2b")     # Key.MODEL (an id or a folder) and the window applies it

A question asked with no model chosen is not sent: it stays in the composer, and the chat shows a notice with a
button that opens the Models dialog on the model recommended for this machine (or uses a model already here). The
device is detected once, in a child process (``detect_device_in_child``), so torch never enters the GUI process.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop_app.settings import Key

log = logging.getLogger(__name__)

_DEVICE_TIMEOUT_S = 60.0


def _detect_in_child():  # runs in the child process
    from core_model.device import detect_device

    return detect_device()


def detect_device_in_child(timeout_s: float = _DEVICE_TIMEOUT_S):
    """core_model.device.detect_device() run in a spawned child process (it imports torch); blocking."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply_async(_detect_in_child).get(timeout_s)


class DeviceProbe(QObject):
    """Detects the device once, off the GUI thread; ``detected(device or None, recommendation or None)``."""

    detected = Signal(object, object)
    _finished = Signal(object)

    def __init__(self, detect=None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._detect = detect or detect_device_in_child
        self.device = None
        self.recommendation = None
        self.done = False
        self._thread: threading.Thread | None = None
        self._finished.connect(self._on_finished)  # emitted from the thread: delivered on the GUI thread

    def start(self) -> None:
        if self.done or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="vidi-device-probe", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            device = self._detect()
        except Exception:  # noqa: BLE001  no torch, a broken driver: the CPU's small default is still offered
            log.warning("detecting the device failed", exc_info=True)
            device = None
        self._finished.emit(device)

    def _on_finished(self, device) -> None:
        from core_model.device import DeviceInfo
        from core_model.models.choice import recommendation_for

        self.device, self.done, self._thread = device, True, None
        self.recommendation = recommendation_for(device if device is not None else DeviceInfo("cpu", "CPU"))
        self.detected.emit(device, self.recommendation)


class ModelChoice(QObject):
    """The main window's model choosing: settings and models dialogs, and the guard for questions without a model.

    ``manager_factory``: makes the core_model ModelManager (default: the user's). ``detect``: the device detection
    (default: in a child process). Both are injectable for tests.
    """

    model_changed = Signal(str)  # the new Key.MODEL value

    def __init__(self, window, manager_factory=None, detect=None) -> None:
        super().__init__(window)
        self.window = window
        self.settings = window.settings
        self._manager_factory = manager_factory
        self.probe = DeviceProbe(detect, self)
        self.probe.detected.connect(self._on_detected)
        self.models_dialog = None
        self.settings_dialog = None
        self.notice = None  # the chat's "no model" notice (a QFrame with .label and .button)
        window.chat.composer.submit_guard = self.ready_to_ask

    # ---- the manager ----------------------------------------------------------------------------------------
    def manager(self):
        if self._manager_factory is not None:
            return self._manager_factory()
        from core_model.models import ModelManager

        return ModelManager()

    def current(self) -> str:
        return str(self.settings.value(Key.MODEL) or "").strip()

    # ---- asking without a model -----------------------------------------------------------------------------
    def ready_to_ask(self) -> bool:
        """True when a model is chosen and on this machine; else a notice says what to do, and False."""
        model = self.current()
        if model and (Path(model).expanduser().is_dir() or not self._missing_catalog_model(model)):
            from desktop_app.remote_models import confirm_host_once

            return confirm_host_once(self.window, self.settings, model)  # True at once for a local model
        self._show_notice(model)
        return False

    def _missing_catalog_model(self, model: str) -> bool:
        """A catalog id that is not on this machine (a folder or another id is left to the worker's checks)."""
        from core_model.models.catalog import get_entry

        if get_entry(model) is None:
            return False
        try:
            manager = self.manager()
            return manager.entry(model) is not None and manager.local_path(model) is None
        except Exception:  # noqa: BLE001
            return False

    def _show_notice(self, missing: str = "") -> None:
        self._drop_notice()
        text, action, handler = self._notice_content(missing)
        self.notice = self.window.chat.show_action_notice(
            text, action, handler, more_actions=[("Choose a folder…", self.choose_folder)])
        if not missing and not self.probe.done:
            self.probe.start()  # the notice names the recommended model once the device is known

    def _notice_content(self, missing: str):
        manager = self.manager()
        if missing:
            entry = manager.entry(missing)
            name = entry.name if entry is not None else missing
            return (f"{name} is chosen but is not on this machine yet. Your question is kept in the box: "
                    "send it again once the model is here.",
                    f"Get {name}…", lambda: self.open_models(select=missing))
        on_disk = self._on_disk(manager)
        if on_disk:
            status = on_disk[0]
            name = status.entry.name if status.entry is not None else status.id
            return (f"No model is chosen yet. {name} is on this machine; your question is kept in the box.",
                    f"Use {name}", lambda: self.use_model(status.id))
        rec = self.probe.recommendation
        if rec is not None and rec.entry is not None:
            return (f"No model on this machine yet. {rec.reason}. Your question is kept in the box: send it "
                    "again once the model is here.", f"Get {rec.entry.name}…", self.open_recommended)
        return ("No model on this machine yet: Vidi is checking which one fits it. Your question is kept in the "
                "box.", "Choose a model…", self.open_recommended)

    def _on_disk(self, manager) -> list:
        from core_model.models.choice import models_on_disk

        try:
            return models_on_disk(manager, self.probe.device)
        except Exception:  # noqa: BLE001
            return []

    def _drop_notice(self) -> None:
        from shiboken6 import isValid

        if self.notice is not None and isValid(self.notice):
            self.notice.hide()
            self.notice.setParent(None)  # out of the chat at once (deleteLater alone waits for the event loop)
            self.notice.deleteLater()
        self.notice = None

    def _on_detected(self, _device, recommendation) -> None:
        from shiboken6 import isValid

        if self.notice is not None and isValid(self.notice) and not self.current():
            text, action, handler = self._notice_content("")
            self.notice.label.setText("ℹ " + text)
            self.notice.button.setText(action)
            self.notice.button.clicked.disconnect()
            self.notice.button.clicked.connect(handler)
        if self.settings_dialog is not None and isValid(self.settings_dialog) and recommendation is not None:
            entry = recommendation.entry
            self.settings_dialog.set_recommended(entry.id if entry else None, recommendation.reason)

    # ---- choosing -------------------------------------------------------------------------------------------
    def use_model(self, model: str) -> None:
        """Store ``model`` (an id or a folder) in Key.MODEL and apply it."""
        self.settings.set_value(Key.MODEL, model)
        self.settings.sync()
        self.window.apply_settings()
        self._drop_notice()
        if self.models_dialog is not None:
            self.models_dialog.current_model = model
        self.model_changed.emit(model)
        if self.window.chat.composer.text().strip():
            self.window.chat.show_notice(f"Now using {self._name(model)}: press Enter to ask your question.",
                                         error=False)
        else:
            self.window.statusBar().showMessage(f"Now using {self._name(model)}.", 6000)

    def choose_folder(self) -> None:
        """A model folder the user already has (no download): checked, then used; a folder that is not a model
        Vidi can run is refused with its reason."""
        from core_model.models.folder_info import inspect_model_folder

        folder = self.ask_model_folder()
        if not folder:
            return
        info = inspect_model_folder(folder, with_memory=False)
        if info.problem:
            self.window.chat.show_notice(info.problem)
            return
        self.use_model(str(info.folder))

    def ask_model_folder(self) -> str:
        """The folder picker (tests replace it)."""
        from PySide6.QtWidgets import QFileDialog

        return QFileDialog.getExistingDirectory(self.window, "Model folder", str(Path.home()))

    def open_recommended(self) -> None:
        rec = self.probe.recommendation
        self.open_models(select=rec.entry.id if rec is not None and rec.entry is not None else None)

    def open_models(self, select: str | None = None) -> None:
        try:
            from desktop_app.model_manager_dialog import ModelManagerDialog
        except ImportError as exc:
            self.window.chat.show_notice(f"The model manager is not available: {exc}")
            return
        dialog = ModelManagerDialog(parent=self.window, manager=self.manager(), device_info=self.probe.device,
                                    select_recommended=select is None, current_model=self.current())
        if select is not None:
            dialog.select_model(select)
        dialog.models_changed.connect(self.refresh)
        dialog.model_chosen.connect(self.use_model)
        dialog.remote_server_requested.connect(self.open_remote_server)
        dialog.show()
        self.models_dialog = dialog

    def open_remote_server(self) -> None:
        """The Remote server dialog; the model chosen there is used like any other."""
        from desktop_app.dialogs.remote_server_dialog import RemoteServerDialog

        dialog = RemoteServerDialog(self.settings, self.models_dialog or self.window)
        dialog.model_chosen.connect(self.use_model)
        dialog.show()
        self.remote_dialog = dialog

    def open_settings(self) -> bool:
        from desktop_app.dialogs.settings_dialog import SettingsDialog

        rec = self.probe.recommendation
        dialog = SettingsDialog(self.settings, self.window, manager=self.manager(),
                                recommended_id=rec.entry.id if rec is not None and rec.entry is not None else None,
                                recommended_reason=rec.reason if rec is not None else "", open_models=self.open_models)
        self.settings_dialog = dialog
        self.probe.start()
        accepted = bool(dialog.exec())
        self.settings_dialog = None
        if accepted:
            self.window.apply_settings()
            self._drop_notice()
        return accepted

    def refresh(self) -> None:
        """Models were downloaded, imported or removed: refresh whatever lists them."""
        from shiboken6 import isValid

        if self.settings_dialog is not None and isValid(self.settings_dialog):
            self.settings_dialog.populate_models()
        if self.notice is not None and isValid(self.notice):
            model = self.current()
            if model and not self._missing_catalog_model(model):
                self._drop_notice()
                self.window.chat.show_notice(f"{self._name(model)} is ready: press Enter to ask.", error=False)
            else:
                self._show_notice(model)

    @staticmethod
    def _name(model: str) -> str:
        from core_model.models.catalog import get_entry
        from desktop_app.remote_models import remote_host, remote_model_label

        if remote_host(model):
            return remote_model_label(model)

        entry = get_entry(model)
        return entry.name if entry is not None else (Path(model).name or model)
