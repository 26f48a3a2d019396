"""GUI preferences persisted with QSettings, behind one Key enum ("group/name" keys) and typed accessors.

Tests use a throw-away INI file (``Settings.for_file``) so they never touch the user's real settings.
"""

from __future__ import annotations

import enum
from pathlib import Path

from PySide6.QtCore import QSettings

ORGANIZATION = "Vidi"
APPLICATION = "Vidi"


class Key(str, enum.Enum):
    MODEL = "model/id"
    DEVICE = "model/device"  # "auto" | "cuda" | "cpu"
    LOAD_IN_4BIT = "model/load-in-4bit"
    NUM_FRAMES = "model/frames-per-segment"
    MAX_NEW_TOKENS = "model/max-new-tokens"
    DATA_FOLDER = "storage/data-folder"  # "" means the platform default
    THEME = "ui/theme"  # "system" | "light" | "dark"
    INCLUDE_AUDIO = "chat/include-audio"
    VOLUME = "player/volume"  # 0..100
    MUTED = "player/muted"
    RECENT_FILES = "files/recent"
    LAST_FOLDER = "files/last-folder"
    WINDOW_GEOMETRY = "window/geometry"
    WINDOW_STATE = "window/splitter"
    REMOTE_MODELS = "remote/models"  # remote model specs used before ("remote+URL#MODEL"; never a key)
    REMOTE_CONSENTED_HOSTS = "remote/consented-hosts"  # hosts the user agreed to send segments to


DEFAULTS: dict[Key, object] = {
    Key.MODEL: "",
    Key.DEVICE: "auto",
    Key.LOAD_IN_4BIT: True,
    Key.NUM_FRAMES: 8,
    Key.MAX_NEW_TOKENS: 512,
    Key.DATA_FOLDER: "",
    Key.THEME: "system",
    Key.INCLUDE_AUDIO: True,
    Key.VOLUME: 80,
    Key.MUTED: False,
    Key.RECENT_FILES: [],
    Key.LAST_FOLDER: "",
    Key.REMOTE_MODELS: [],
    Key.REMOTE_CONSENTED_HOSTS: [],
}

MAX_RECENT_FILES = 10
DEVICE_CHOICES = ("auto", "cuda", "cpu")
THEME_CHOICES = ("system", "light", "dark")


class Settings:
    """Typed access to the app's QSettings."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self._q = qsettings or QSettings(ORGANIZATION, APPLICATION)

    @classmethod
    def for_file(cls, path: str | Path) -> "Settings":
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    def value(self, key: Key):
        default = DEFAULTS.get(key)
        raw = self._q.value(key.value, default)
        if raw is None:
            return default
        if isinstance(default, bool):
            return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            try:
                return int(raw)
            except (TypeError, ValueError):
                return default
        if isinstance(default, list):
            if isinstance(raw, str):
                return [raw] if raw else []
            return list(raw)
        return raw

    def set_value(self, key: Key, value) -> None:
        self._q.setValue(key.value, value)

    def sync(self) -> None:
        self._q.sync()

    # ---- convenience ----------------------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        return [str(p) for p in self.value(Key.RECENT_FILES)]

    def add_recent_file(self, path: str) -> list[str]:
        files = [path] + [p for p in self.recent_files() if p != path]
        files = files[:MAX_RECENT_FILES]
        self.set_value(Key.RECENT_FILES, files)
        return files

    def clear_recent_files(self) -> None:
        self.set_value(Key.RECENT_FILES, [])
