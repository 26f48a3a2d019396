"""Vidi's desktop GUI (PySide6). Holds no model logic: it drives core_model through one worker thread."""
