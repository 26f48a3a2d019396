"""A work-around for a reference-count bug of PySide6 6.12 on Python 3.11, applied when ``desktop_app`` is imported.

PySide6/shiboken6 6.12.0 hands back ``None`` from every void method (``setText``, ``drawLine``,
``processEvents``...) and ``True`` from ``Signal.emit()`` without taking a reference, as if these singletons were
immortal. They are immortal from Python 3.12 on (PEP 683), but not on 3.11: each call takes one reference away, and
after some thousands of calls (a few seconds of painting a playing video's timeline, one streamed answer) the
interpreter aborts with "Fatal Python error: none_dealloc: deallocating None" (or bool_dealloc).

The fix gives ``None``, ``True`` and ``False`` a reference count so large (2**48) that no run can use it up, which
is what PEP 683 immortality amounts to. It touches only those three static singletons, which CPython never frees,
and it is applied only on Python < 3.12 with PySide6 >= 6.12. No Qt module is imported here, so the CLI (which also
imports ``desktop_app``) stays free of Qt.
"""

from __future__ import annotations

import ctypes
import sys

IMMORTAL_REFCOUNT = 1 << 48
_applied = False


def _pyside_version() -> tuple[int, ...] | None:
    from importlib import metadata

    for distribution in ("PySide6-Essentials", "PySide6"):
        try:
            return tuple(int(part) for part in metadata.version(distribution).split(".")[:2])
        except (metadata.PackageNotFoundError, ValueError):
            continue
    return None


def needs_fix() -> bool:
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    version = _pyside_version()
    return version is not None and version >= (6, 12)


def install() -> bool:
    """Make None/True/False effectively immortal where needed; True when the fix is (already) applied."""
    global _applied
    if _applied:
        return True
    if not needs_fix():
        return False
    for singleton in (None, True, False):
        refcount = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt is the first field of PyObject
        refcount.value = max(refcount.value, IMMORTAL_REFCOUNT)
    _applied = True
    return True


install()
