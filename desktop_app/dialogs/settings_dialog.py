"""Settings: model, frames per segment, device, 4-bit, data folder, theme. Saved with QSettings on OK."""

from __future__ import annotations

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

from desktop_app.settings import DEVICE_CHOICES, THEME_CHOICES, Key, Settings

DEVICE_LABELS = {"auto": "Automatic (GPU when there is one)", "cuda": "GPU (CUDA)", "cpu": "CPU"}
THEME_LABELS = {"system": "Follow the system", "light": "Light", "dark": "Dark"}


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Vidi settings")
        self.setMinimumWidth(520)
        self._settings = settings
        self._init_fields()
        self._load()

    def _init_fields(self) -> None:
        self.model_edit = QLineEdit(self)
        self.model_edit.setPlaceholderText("A model folder, or a model id from Models…")
        browse_model = QPushButton("Folder…", self)
        browse_model.clicked.connect(self._browse_model)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_edit, 1)
        model_row.addWidget(browse_model)
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
        self.model_edit.setText(str(s.value(Key.MODEL)))
        self.frames_spin.setValue(int(s.value(Key.NUM_FRAMES)))
        self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(s.value(Key.DEVICE))))
        self.four_bit_check.setChecked(bool(s.value(Key.LOAD_IN_4BIT)))
        self.max_tokens_spin.setValue(int(s.value(Key.MAX_NEW_TOKENS)))
        self.data_edit.setText(str(s.value(Key.DATA_FOLDER)))
        self.theme_combo.setCurrentIndex(max(0, self.theme_combo.findData(s.value(Key.THEME))))

    def save(self) -> None:
        s = self._settings
        s.set_value(Key.MODEL, self.model_edit.text().strip())
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

    def _browse_model(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder", self.model_edit.text())
        if folder:
            self.model_edit.setText(folder)

    def _browse_data(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.data_edit.text())
        if folder:
            self.data_edit.setText(folder)
