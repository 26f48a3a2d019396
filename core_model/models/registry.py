"""Vidi's data folder and the small JSON file that records the models Vidi downloaded or imported.

    data_dir()                                  # $VIDI_DATA_DIR, else platformdirs.user_data_dir("vidi")
    registry = Registry(data_dir() / "models.json")
    registry.put(RegisteredModel(id="gemma-4-e2b", source="downloaded", path="/.../snapshots/abc", ...))

The file is rewritten whole through a temporary file and an atomic rename, so a crash never leaves half a file.

A damaged file (not JSON, or JSON of the wrong shape, e.g. a list, or entries that are not models) is never
overwritten: it is moved aside as ``models.json.damaged-<YYYYmmdd-HHMMSS>``, the entries that could still be read
are written to a fresh ``models.json``, and a one-line notice says so. Notices are collected per process and handed
out once by ``take_notices()``: the CLI prints them on stderr when a command ends, the GUI can show them. A file
that exists but cannot be read (permissions) raises ``ModelsError`` instead, so it is not overwritten either.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from core_model.errors import ModelsError

DATA_DIR_ENV = "VIDI_DATA_DIR"
REGISTRY_FILENAME = "models.json"
_FORMAT_VERSION = 1


_notices: list[str] = []
_notices_lock = threading.Lock()


def take_notices() -> list[str]:
    """Notices about the registry file not shown yet (e.g. a damaged file kept aside); each is returned once."""
    with _notices_lock:
        taken = list(_notices)
        _notices.clear()
    return taken


def _notify(message: str) -> None:
    with _notices_lock:
        _notices.append(message)


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
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise ModelsError(f"The model list '{self.path}' cannot be read: {exc.strerror or exc}") from exc
        try:
            raw = json.loads(data.decode("utf-8"))
        except ValueError as exc:  # not JSON (UnicodeDecodeError is a ValueError too)
            return self._keep_damaged_aside(f"it is not valid JSON ({str(exc).splitlines()[0]})", {})
        if not isinstance(raw, dict) or not isinstance(raw.get("models", {}), dict):
            return self._keep_damaged_aside(f"it holds a JSON {type(raw).__name__}, not a model list", {})
        models, bad = {}, []
        for model_id, data in raw.get("models", {}).items():
            try:
                models[model_id] = RegisteredModel.from_dict({**data, "id": model_id})
            except TypeError:  # not a dict, or a required field missing
                bad.append(model_id)
        if bad:
            return self._keep_damaged_aside(f"entries {', '.join(map(repr, bad))} are not models", models)
        return models

    def _keep_damaged_aside(self, why: str, readable: dict[str, RegisteredModel]) -> dict[str, RegisteredModel]:
        """Move the damaged file aside (never overwrite it), write what could be read, and leave a notice."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for number in range(1, 1000):
            if not aside.exists():
                break
            aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{number}")
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:  # another Vidi process moved it aside a moment ago: read what it left
            return self._read()
        except OSError as exc:
            raise ModelsError(
                f"The model list '{self.path}' is damaged ({why}) and cannot be moved aside: {exc.strerror or exc}"
            ) from exc
        if readable:
            self._write(readable)
        kept = f"the {len(readable)} readable entries were kept" if readable else "Vidi starts a new list"
        _notify(
            f"The model list '{self.path}' was damaged ({why}); it was saved as '{aside.name}' and {kept} "
            "(downloaded models stay in the cache; import or pull them again to list them)."
        )
        return readable

    def _write(self, models: dict[str, RegisteredModel]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": _FORMAT_VERSION, "models": {mid: asdict(m) for mid, m in sorted(models.items())}}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(payload, indent=2), encoding="utf-8")
        os.replace(tmp, self.path)
