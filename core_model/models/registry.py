"""Vidi's data folder and the small JSON file that records the models Vidi downloaded or imported.

    data_dir()                                  # $VIDI_DATA_DIR, else platformdirs.user_data_dir("vidi")
    registry = Registry(data_dir() / "models.json")
    registry.put(RegisteredModel(id="gemma-4-e2b", source="downloaded", path="/.../snapshots/abc", ...))

The file is rewritten whole through a temporary file and an atomic rename, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

DATA_DIR_ENV = "VIDI_DATA_DIR"
REGISTRY_FILENAME = "models.json"
_FORMAT_VERSION = 1


def data_dir() -> Path:
    """Vidi's per-user data folder: ``$VIDI_DATA_DIR`` when set, else platformdirs' user_data_dir("vidi")."""
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("vidi", appauthor=False))


Source = Literal["downloaded", "imported"]


@dataclass
class RegisteredModel:
    """A model Vidi knows on this machine.

    ``source`` "downloaded": Vidi pulled ``repo_id`` at ``commit`` into the Hugging Face cache and ``path`` is the
    snapshot folder (Vidi may delete it). "imported": ``path`` is the user's own folder (never deleted).
    """

    id: str
    source: Source
    path: str
    repo_id: str | None = None
    commit: str | None = None
    size_bytes: int = 0
    model_type: str = ""
    files: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: dict) -> "RegisteredModel":
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)


class Registry:
    """The models.json file: ``{"version": 1, "models": {id: RegisteredModel as dict}}``. Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def all(self) -> dict[str, RegisteredModel]:
        with self._lock:
            return self._read()

    def get(self, model_id: str) -> RegisteredModel | None:
        return self.all().get(model_id)

    def put(self, model: RegisteredModel) -> None:
        with self._lock:
            models = self._read()
            models[model.id] = model
            self._write(models)

    def delete(self, model_id: str) -> None:
        with self._lock:
            models = self._read()
            if models.pop(model_id, None) is not None:
                self._write(models)

    def _read(self) -> dict[str, RegisteredModel]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            # A damaged registry must not stop the app: start afresh (downloads stay in the HF cache).
            return {}
        entries = raw.get("models", {}) if isinstance(raw, dict) else {}
        models = {}
        for model_id, data in entries.items():
            try:
                models[model_id] = RegisteredModel.from_dict({**data, "id": model_id})
            except TypeError:
                continue
        return models

    def _write(self, models: dict[str, RegisteredModel]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": _FORMAT_VERSION, "models": {mid: asdict(m) for mid, m in sorted(models.items())}}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        os.replace(tmp, self.path)
