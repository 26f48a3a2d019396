"""Which speech model (Whisper) the index uses: the one asked for, else the best one on this machine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core_model.errors import ModelsError


@dataclass(frozen=True)
class SpeechModel:
    model_id: str
    folder: Path


def speech_pull_hint(gpu: bool | None = None) -> str:
    """What to run to get a speech model: turbo on a GPU, base on the CPU."""
    if gpu is None:
        try:
            import torch

            gpu = torch.cuda.is_available()
        except ImportError:  # pragma: no cover  (torch is a dependency)
            gpu = False
    return f"vidi models pull {'whisper-large-v3-turbo' if gpu else 'whisper-base'}"


def find_speech_model(spec: str | None = None, manager=None) -> SpeechModel | None:
    """The Whisper to use: ``spec`` (a catalog id or a model folder) when given, else the first speech model of
    the catalog that is on this machine (turbo first: it is better where it runs). None when there is none.

    A ``spec`` that names neither a folder nor a downloaded model is a ModelsError (one line: what to pull).
    """
    from core_model.models.catalog import SPEECH_MODELS

    found = find_local_model(spec, SPEECH_MODELS, "speech", manager)
    return SpeechModel(*found) if found is not None else None


def find_local_model(spec: str | None, entries, kind: str, manager=None) -> tuple[str, Path] | None:
    """(model id, folder) of ``spec`` (a catalog id or a model folder) when given, else of the first of the catalog
    ``entries`` on this machine; None when there is none. A ``spec`` that names neither a folder nor a downloaded
    model is a ModelsError line saying what to pull (``kind``: "speech", "embedding")."""
    from core_model.models.manager import ModelManager

    manager = manager if manager is not None else ModelManager()
    if spec:
        folder = Path(spec).expanduser()
        if folder.is_dir():
            return folder.name, folder.resolve()
        local = manager.local_path(spec)
        if local is None:
            raise ModelsError(f"The {kind} model '{spec}' is not on this machine: get it with "
                              f"'vidi models pull {spec}', or give a model folder.")
        return spec, local
    for entry in entries:
        local = manager.local_path(entry.id)
        if local is not None:
            return entry.id, local
    return None
