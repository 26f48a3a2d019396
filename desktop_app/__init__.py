"""Vidi's desktop GUI (PySide6). Holds no model logic: it drives core_model through one worker thread.

Importing this package applies ``qt_compat`` (a PySide6 6.12 reference-count fix for Python 3.11) before any
Qt code runs; it imports no Qt itself.
"""

from desktop_app import qt_compat as _qt_compat  # noqa: F401  (see the module)
