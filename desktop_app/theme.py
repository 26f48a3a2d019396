"""Light and dark looks. "system" follows the desktop's colour scheme (and its changes while Vidi runs)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

_STYLE = """
QFrame#question { background: %(question)s; border-radius: 8px; }
QFrame#answer { background: %(answer)s; border-radius: 8px; }
QLabel#about, QLabel#answerState, QLabel#queueLabel { color: %(muted)s; font-size: 9pt; }
QLabel#emptyLabel { color: %(muted)s; padding: 40px 10px; }
QLabel#segmentLabel, QLabel#timeLabel { font-family: monospace; }
QLabel#thumb { border: 1px solid %(border)s; }
QWidget#messageList { background: %(base)s; }
QStatusBar QLabel { padding: 0 6px; }
"""


def _palette(dark: bool) -> QPalette:
    p = QPalette()
    if dark:
        colors = {
            QPalette.ColorRole.Window: "#202124", QPalette.ColorRole.WindowText: "#e8eaed",
            QPalette.ColorRole.Base: "#17181a", QPalette.ColorRole.AlternateBase: "#2a2b2e",
            QPalette.ColorRole.Text: "#e8eaed", QPalette.ColorRole.Button: "#2d2e31",
            QPalette.ColorRole.ButtonText: "#e8eaed", QPalette.ColorRole.Highlight: "#4f8cff",
            QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#2d2e31",
            QPalette.ColorRole.ToolTipText: "#e8eaed", QPalette.ColorRole.PlaceholderText: "#9aa0a6",
            QPalette.ColorRole.Link: "#8ab4f8", QPalette.ColorRole.Mid: "#3c4043",
        }
    else:
        colors = {
            QPalette.ColorRole.Window: "#f6f7f9", QPalette.ColorRole.WindowText: "#1f2328",
            QPalette.ColorRole.Base: "#ffffff", QPalette.ColorRole.AlternateBase: "#eceef1",
            QPalette.ColorRole.Text: "#1f2328", QPalette.ColorRole.Button: "#f0f1f3",
            QPalette.ColorRole.ButtonText: "#1f2328", QPalette.ColorRole.Highlight: "#2f6fec",
            QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#ffffff",
            QPalette.ColorRole.ToolTipText: "#1f2328", QPalette.ColorRole.PlaceholderText: "#6e7781",
            QPalette.ColorRole.Link: "#0b5cd5", QPalette.ColorRole.Mid: "#c9ced6",
        }
    for role, color in colors.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#80868b"))
    return p


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str) -> bool:
    """Apply "light", "dark" or "system"; returns True when the dark look is in use."""
    dark = theme == "dark" or (theme == "system" and system_prefers_dark())
    app.setStyle("Fusion")
    app.setPalette(_palette(dark))
    app.setStyleSheet(_STYLE % (
        {"question": "#2b3445", "answer": "#26272a", "muted": "#9aa0a6", "border": "#3c4043", "base": "#17181a"}
        if dark else
        {"question": "#e3ecfd", "answer": "#f1f2f4", "muted": "#6e7781", "border": "#c9ced6", "base": "#ffffff"}
    ))
    return dark


def follow_system_theme(current_theme) -> None:
    """Re-apply the look when the desktop switches light/dark, while the setting (``current_theme()``) is "system"."""
    app = QApplication.instance()

    def on_scheme_changed(_scheme) -> None:
        if current_theme() == "system":
            apply_theme(app, "system")

    QGuiApplication.styleHints().colorSchemeChanged.connect(on_scheme_changed)
