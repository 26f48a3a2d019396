"""Vidi never runs code fetched from a hub. This module makes sure of it for the one package that would.

transformers >= 5.25 requires the ``kernels`` package, and bitsandbytes 0.50 uses it when it is imported: on a CPU
with AVX512-BF16 (and on Apple MPS) it calls ``kernels.get_kernel("kernels-community/...")``, which downloads a
compiled kernel from the Hugging Face hub and loads it, whenever the machine is online (measured: the built app's
self-test logged "Failed to load CPU gemm_4bit_forward from kernels-community" only because it ran offline). That
breaks Vidi's promise that nothing is downloaded unless the user asks, and it would run code nobody reviewed.

``refuse_hub_kernels()`` (called when ``core_model`` is imported, so in every Vidi process: the GUI, the CLI and
the model process) makes ``kernels.get_kernel`` raise instead, without importing ``kernels`` before something else
does: an import hook patches it as it loads. bitsandbytes catches the error and uses its built-in kernels.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys

REFUSAL = "Vidi does not load kernels from the Hugging Face hub (core_model/no_hub_code.py)"


class HubKernelRefused(RuntimeError):
    pass


def _refuse(repo_id: str, *args, **kwargs):
    raise HubKernelRefused(f"{REFUSAL}: {repo_id}")


def _patch(module) -> None:
    module.get_kernel = _refuse


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds ``kernels`` like the normal path finder does, and patches the module right after it executes."""

    def find_spec(self, name, path, target=None):
        if name != "kernels":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        execute = spec.loader.exec_module

        def exec_module(module) -> None:
            execute(module)
            _patch(module)

        spec.loader.exec_module = exec_module
        return spec


def refuse_hub_kernels() -> None:
    """Idempotent: patch ``kernels`` now if it is imported, else when it is."""
    if "kernels" in sys.modules:
        _patch(sys.modules["kernels"])
    elif not any(isinstance(finder, _PatchOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
