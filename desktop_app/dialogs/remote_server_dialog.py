"""The "Remote server…" dialog: an OpenAI-compatible server's address and key, Test connection, and a model to use.

    dialog = RemoteServerDialog(settings, parent)
    dialog.model_chosen.connect(use_model)     # the spec "remote+URL#MODEL" for Key.MODEL
    dialog.show()

Test connection lists what the server serves (``/v1/models``), what each model takes (probed once per server and
remembered) and how long listing took. The key goes to the OS keyring when a model is used, never to QSettings.
The check runs off the GUI thread; the window stays responsive while a slow server answers.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core_model.errors import VidiError, user_message
from desktop_app.remote_models import remember_remote_model, remembered_remote_models
from desktop_app.settings import Settings


class RemoteServerDialog(QDialog):
    model_chosen = Signal(str)  # a remote model spec for Key.MODEL
    _checked = Signal(int, object, str)  # (attempt, ServerReport or None, error line), from the checking thread

    def __init__(self, settings: Settings, parent: QWidget | None = None, check=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Remote server")
        self.settings = settings
        self._check = check  # injectable: core_model.backends.remote_probe.check_server by default
        self._attempt = 0
        self._checking = False
        self.report = None
        self._init_fields()
        self._init_models()
        self._init_layout()
        self._checked.connect(self._on_checked)
        self._prefill()

    # ---- building -------------------------------------------------------------------------------------------
    def _init_fields(self) -> None:
        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText("https://gpu-box:8000  (vLLM, transformers serve, llama-server, Ollama)")
        self.url_edit.textChanged.connect(self._on_url_changed)
        self.key_edit = QLineEdit(self)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("API key, if the server wants one (kept in the system keyring)")
        self.warning_label = QLabel(self)
        self.warning_label.setWordWrap(True)
        self.warning_label.setVisible(False)
        self.test_button = QPushButton("Test connection", self)
        self.test_button.clicked.connect(self.test_connection)
        self.status_label = QLabel("", self)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def _init_models(self) -> None:
        self.models_tree = QTreeWidget(self)
        self.models_tree.setHeaderLabels(["Model", "Takes", "Max length"])
        self.models_tree.setRootIsDecorated(False)
        self.models_tree.setMinimumHeight(140)
        self.models_tree.itemSelectionChanged.connect(self._update_buttons)
        self.models_tree.itemDoubleClicked.connect(lambda *_: self.use_selected())

    def _init_layout(self) -> None:
        form = QFormLayout()
        form.addRow("Server", self.url_edit)
        form.addRow("Key", self.key_edit)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.status_label, 1)
        self.buttons = QDialogButtonBox(self)
        self.use_button = self.buttons.addButton("Use this model", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.use_button.clicked.connect(self.use_selected)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.warning_label)
        layout.addLayout(test_row)
        layout.addWidget(self.models_tree, 1)
        layout.addWidget(QLabel("<small>Only the segment you ask about (its frames and sound), your images and the "
                                "chat's text are sent, and only once you ask.</small>", self))
        layout.addWidget(self.buttons)
        self.resize(640, 420)
        self._update_buttons()

    def _prefill(self) -> None:
        from core_model.backends.remote_endpoint import parse_remote_spec

        remembered = remembered_remote_models(self.settings)
        if remembered:
            self.url_edit.setText(parse_remote_spec(remembered[0])[0].removesuffix("/v1"))

    # ---- checking -------------------------------------------------------------------------------------------
    def _endpoint(self):
        from core_model.backends.remote_endpoint import Endpoint

        return Endpoint.parse(self.url_edit.text())

    def _on_url_changed(self, _text: str) -> None:
        self.models_tree.clear()
        self.report = None
        try:
            warning = self._endpoint().warning
        except VidiError:
            warning = ""
        self.warning_label.setText(f"⚠ {warning}" if warning else "")
        self.warning_label.setVisible(bool(warning))
        self._update_buttons()

    def test_connection(self) -> None:
        """List the server's models off the GUI thread; the result arrives in ``_on_checked``."""
        self._attempt += 1
        attempt, server, key = self._attempt, self.url_edit.text(), self.key_edit.text().strip() or None
        self.models_tree.clear()
        self.report = None
        self.status_label.setText("Connecting…")
        self._checking = True
        self._update_buttons()

        def run() -> None:
            try:
                check = self._check
                if check is None:
                    from core_model.backends.remote_probe import check_server as check
                self._checked.emit(attempt, check(server, key), "")
            except Exception as exc:  # noqa: BLE001  every failure is one line in the dialog
                self._checked.emit(attempt, None, user_message(exc))

        threading.Thread(target=run, name="vidi-remote-check", daemon=True).start()

    def _on_checked(self, attempt: int, report, error: str) -> None:
        if attempt != self._attempt:
            return  # an older check, overtaken by a newer one
        self._checking = False
        if report is None:
            self.status_label.setText(f"⚠ {error}")
            self._update_buttons()
            return
        self.report = report
        for model, support in report.models:
            length = f"{model.max_model_len} tokens" if model.max_model_len else "?"
            item = QTreeWidgetItem([model.id, support.describe() if support else "?", length])
            item.setData(0, Qt.ItemDataRole.UserRole, model.id)
            self.models_tree.addTopLevelItem(item)
        for column in range(3):
            self.models_tree.resizeColumnToContents(column)
        if self.models_tree.topLevelItemCount():
            self.models_tree.setCurrentItem(self.models_tree.topLevelItem(0))
        count = len(report.models)
        self.status_label.setText(f"✓ {report.host}: {count} model{'s' if count != 1 else ''}, "
                                  f"{report.latency_ms:.0f} ms to list them")
        self._update_buttons()

    # ---- using a model --------------------------------------------------------------------------------------
    def selected_model(self) -> str | None:
        item = self.models_tree.currentItem()
        return None if item is None else str(item.data(0, Qt.ItemDataRole.UserRole))

    def use_selected(self) -> None:
        """Keep the key in the keyring, remember the model, hand its spec on; errors stay in the dialog."""
        from core_model.backends.remote_endpoint import remote_spec, save_api_key

        model = self.selected_model()
        if model is None or self.report is None:
            return
        try:
            endpoint = self._endpoint()
            key = self.key_edit.text().strip()
            if key:
                save_api_key(endpoint, key)
            spec = remote_spec(endpoint.base_url, model)
        except VidiError as exc:
            self.status_label.setText(f"⚠ {exc}")
            return
        remember_remote_model(self.settings, spec)
        self.model_chosen.emit(spec)
        self.accept()

    def _update_buttons(self) -> None:
        self.use_button.setEnabled(self.report is not None and self.selected_model() is not None)
        self.test_button.setEnabled(bool(self.url_edit.text().strip()) and not self._checking)
