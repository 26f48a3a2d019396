"""Help ▸ Keyboard shortcuts and Help ▸ About."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from desktop_app.resources import icon


class ShortcutsDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(460, 560)
        table = QTableWidget(len(rows), 3, self)
        table.setHorizontalHeaderLabels(["", "Action", "Keys"])
        for row, (group, text, keys) in enumerate(rows):
            for column, value in enumerate((group, text, keys)):
                table.setItem(row, column, QTableWidgetItem(value))
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        self.table = table
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)


def about_text(version: str) -> str:
    return (
        f"<h2>Vidi {version}</h2>"
        "<p>A local, private assistant for your own videos and images: pick a segment, ask what is seen "
        "and heard, and a multimodal model on your own computer answers.</p>"
        "<p>Nothing leaves this machine: videos, questions and answers stay in your data folder.</p>"
        "<p><small>Built with Qt (PySide6), PyTorch and Hugging Face transformers. Licensed Apache-2.0.</small></p>"
    )


def show_about(parent: QWidget, version: str) -> None:
    box = QMessageBox(parent)
    box.setWindowTitle("About Vidi")
    box.setIconPixmap(icon("app").pixmap(64, 64))
    box.setText(about_text(version))
    box.exec()
