"""core_model must run in a plain script: importing all of it pulls in no Qt."""

import pkgutil
import subprocess
import sys

import core_model


def test_core_model_imports_no_qt():
    modules = [m.name for m in pkgutil.walk_packages(core_model.__path__, "core_model.") if "__main__" not in m.name]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'PyQt', 'shiboken')))\n"
        "print(','.join(qt))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"core_model imported Qt modules: {result.stdout}"
