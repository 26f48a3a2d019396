"""Settings: model, frames per segment, device, 4-bit, data folder, theme. Saved with QSettings on OK.

The model is chosen from the models on this machine (downloaded or imported, from core_model's ModelManager), the
one recommended for this machine marked with a star, "Choose a folder…" for any model folder, remote models used
before (with their host) and "Remote server…". ``Key.MODEL`` keeps its format: a catalog / registry id, a folder
path, or a remote model spec ("remote+URL#MODEL").
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from core_model.backends.remote_endpoint import is_remote_spec
from desktop_app.remote_models import remembered_remote_models, remote_model_label
from desktop_app.settings import DEVICE_CHOICES, THEME_CHOICES, Key, Settings

CHOOSE_FOLDER = "\x00choose-folder"
"""Item data of the "Choose a folder…" entry (never stored)."""
CHOOSE_REMOTE = "\x00choose-remote"
"""Item data of the "Remote server…" entry (never stored)."""
RECOMMENDED_MARK = "★"

DEVICE_LABELS = {"auto": "Automatic (GPU when there is one)", "cuda": "GPU (CUDA)", "cpu": "CPU"}
THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


class SettingsDialog(QDialog):
    """``manager``: a core_model ModelManager (None: the model list holds only the current value).
    ``recommended_id``: the catalog id recommended for this machine, marked in the list (``set_recommended``
    updates it once the device is known). ``open_models``: called by the "Models…" button (None: no button)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None, *, manager=None,
                 recommended_id: str | None = None, recommended_reason: str = "", open_models=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Vidi settings")
        self.setMinimumWidth(560)
        self._settings = settings
        self._manager = manager
        self._recommended_id, self._recommended_reason = recommended_id, recommended_reason
        self._open_models = open_models
        self._model_value = ""
        self._init_fields()
        self._load()

    def _init_fields(self) -> None:
        self.model_combo = QComboBox(self)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(30)
        self.model_combo.activated.connect(self._on_model_activated)
        self.model_hint = QLabel(self)
        self.model_hint.setWordWrap(True)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_combo, 1)
        if self._open_models is not None:
            self.models_button = QPushButton("Models…", self)
            self.models_button.setToolTip("Download, import or remove models")
            self.models_button.clicked.connect(self._open_models)
            model_row.addWidget(self.models_button)
        self.frames_spin = QSpinBox(self)
        self.frames_spin.setRange(1, 128)
        self.frames_spin.setSuffix(" frames")
        self.device_combo = QComboBox(self)
        for choice in DEVICE_CHOICES:
            self.device_combo.addItem(DEVICE_LABELS[choice], choice)
        self.four_bit_check = QCheckBox("Load the model in 4-bit (NF4) to save GPU memory", self)
        self.max_tokens_spin = QSpinBox(self)
        self.max_tokens_spin.setRange(16, 8192)
        self.max_tokens_spin.setSuffix(" tokens")
        self.data_edit = QLineEdit(self)
        self.data_edit.setPlaceholderText("Default: the system's data folder for Vidi")
        browse_data = QPushButton("Folder…", self)
        browse_data.clicked.connect(self._browse_data)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_edit, 1)
        data_row.addWidget(browse_data)
        self.theme_combo = QComboBox(self)
        for choice in THEME_CHOICES:
            self.theme_combo.addItem(THEME_LABELS[choice], choice)
        note = QLabel("<small>Model, device and 4-bit changes take effect at the next question.<br>"
                      "A new data folder is used from the next start of Vidi.</small>", self)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Model", model_row)
        form.addRow("", self.model_hint)
        form.addRow("Frames per segment", self.frames_spin)
        form.addRow("Device", self.device_combo)
        form.addRow("", self.four_bit_check)
        form.addRow("Longest answer", self.max_tokens_spin)
        form.addRow("Data folder", data_row)
        form.addRow("Theme", self.theme_combo)
        form.addRow(note)
        form.addRow(buttons)

    def _load(self) -> None:
        s = self._settings
        self.populate_models(str(s.value(Key.MODEL) or ""))
        self.frames_spin.setValue(int(s.value(Key.NUM_FRAMES)))
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(s.value(Key.DEVICE))))
        self.four_bit_check.setChecked(bool(s.value(Key.LOAD_IN_4BIT)))
        self.max_tokens_spin.setValue(int(s.value(Key.MAX_NEW_TOKENS)))
        self.data_edit.setText(str(s.value(Key.DATA_FOLDER)))
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(s.value(Key.THEME))))

    def save(self) -> None:
        s = self._settings
        s.set_value(Key.MODEL, self.model_value())
        s.set_value(Key.NUM_FRAMES, self.frames_spin.value())
        s.set_value(Key.DEVICE, self.device_combo.currentData())
        s.set_value(Key.LOAD_IN_4BIT, self.four_bit_check.isChecked())
        s.set_value(Key.MAX_NEW_TOKENS, self.max_tokens_spin.value())
        s.set_value(Key.DATA_FOLDER, self.data_edit.text().strip())
        s.set_value(Key.THEME, self.theme_combo.currentData())
        s.sync()

    def accept(self) -> None:
        self.save()
        super().accept()

    # ---- the model chooser ----------------------------------------------------------------------------------
    def model_value(self) -> str:
        """What ``Key.MODEL`` gets: the chosen id or folder ("" when none is chosen)."""
        data = self.model_combo.currentData()
        return "" if data in (None, CHOOSE_FOLDER, CHOOSE_REMOTE) else str(data)

    def populate_models(self, current: str | None = None) -> None:
        """Refill the list (models on this machine, the current value, "Choose a folder…"), keeping the choice."""
        current = self.model_value() if current is None else current.strip()
        self._model_value = current
        combo = self.model_combo
        combo.blockSignals(True)
        combo.clear()
        on_disk = self._models_on_disk()
        for status in on_disk:
            combo.addItem(self._model_label(status), status.id)
            if status.path is not None:
                combo.setItemData(combo.count() - 1, str(status.path), Qt.ItemDataRole.ToolTipRole)
        remote = remembered_remote_models(self._settings)
        for spec in remote + ([current] if is_remote_spec(current) and current not in remote else []):
            combo.addItem(f"{remote_model_label(spec)} (remote)", spec)
        if current and combo.findData(current) < 0:
            entry = self._entry(current)
            label = f"{entry.name} (not on this machine yet)" if entry is not None else current
            combo.addItem(label, current)
        if not on_disk and not current and not remote:
            combo.addItem("No model on this machine yet: get one with Models…", "")
        combo.insertSeparator(combo.count())
        combo.addItem("Remote server…", CHOOSE_REMOTE)
        combo.addItem("Choose a folder…", CHOOSE_FOLDER)
        combo.setCurrentIndex(max(0, combo.findData(current)))
        combo.blockSignals(False)
        self._update_hint(on_disk)

    def set_recommended(self, model_id: str | None, reason: str = "") -> None:
        self._recommended_id, self._recommended_reason = model_id, reason
        self.populate_models()

    def _models_on_disk(self) -> list:
        if self._manager is None:
            return []
        try:
            from core_model.models.choice import models_on_disk

            return models_on_disk(self._manager)
        except Exception:  # noqa: BLE001  an unreadable registry must not keep the settings from opening
            return []

    def _entry(self, model_id: str):
        from core_model.models.catalog import get_entry

        return get_entry(model_id) if self._manager is None else get_entry(model_id, self._manager.catalog)

    def _model_label(self, status) -> str:
        name = status.entry.name if status.entry is not None else status.id
        how = {"imported": "imported", "in-cache": "in the Hugging Face cache"}.get(status.state, "downloaded")
        if status.id == self._recommended_id:
            return f"{RECOMMENDED_MARK} {name} (recommended)"
        return f"{name} ({how})"

    def _update_hint(self, on_disk: list) -> None:
        entry = self._entry(self._recommended_id) if self._recommended_id else None
        if entry is None:
            text = "" if on_disk else "Models… downloads a model or registers a folder you already have."
        elif any(s.id == entry.id for s in on_disk):
            text = f"{RECOMMENDED_MARK} {self._recommended_reason or entry.name + ' is recommended for this machine'}."
        else:
            text = (f"{RECOMMENDED_MARK} Recommended for this machine: {entry.name} "
                    f"({self._recommended_reason or 'fits it best'}); not downloaded yet: Models… gets it.")
        self.model_hint.setText(f"<small>{text}</small>" if text else "")
        self.model_hint.setVisible(bool(text))

    def _on_model_activated(self, index: int) -> None:
        if self.model_combo.itemData(index) == CHOOSE_REMOTE:
            self._choose_remote()
            return
        if self.model_combo.itemData(index) != CHOOSE_FOLDER:
            self._model_value = self.model_value()
            return
        folder = self.ask_model_folder()
        if not folder:
            self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(self._model_value)))
            return
        folder = str(Path(folder).expanduser())
        problem = self.folder_problem(folder)
        if problem:
            self.model_combo.setCurrentIndex(max(0, self.model_combo.findData(self._model_value)))
            self.model_hint.setText(f"<span style='color:#d9534f'>{html.escape(problem, quote=False)}</span>")
            self.model_hint.setVisible(True)
            return
        if self.model_combo.findData(folder) < 0:
            self.model_combo.insertItem(self.model_combo.count() - 3, folder, folder)  # before the separator
        self.model_combo.setCurrentIndex(self.model_combo.findData(folder))
        self._model_value = folder

    @staticmethod
    def folder_problem(folder: str) -> str:
        """Why Vidi cannot run the model in ``folder`` ("" when it can): no config.json, an unknown model type..."""
        from core_model.models.folder_info import inspect_model_folder

        return inspect_model_folder(folder, with_memory=False).problem

    def _choose_remote(self) -> None:
        """The Remote server dialog; a model chosen there joins the list and is selected."""
        from desktop_app.dialogs.remote_server_dialog import RemoteServerDialog

        self.remote_dialog = RemoteServerDialog(self._settings, self)
        chosen: list[str] = []
        self.remote_dialog.model_chosen.connect(chosen.append)
        self.remote_dialog.exec()
        self.populate_models(chosen[0] if chosen else self._model_value)

    def ask_model_folder(self) -> str:
        """The folder picker (tests replace it)."""
        start = self._model_value if Path(self._model_value).is_dir() else str(Path.home())
        return QFileDialog.getExistingDirectory(self, "Model folder", start)

    def _browse_data(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data_edit.text())
        if folder:
            self.data_edit.setText(folder)
