"""Writing a transcript to a subtitle file: the format follows the file's suffix (.srt SubRip, .vtt WebVTT)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from core_model.errors import UsageError
from core_model.index.subtitles import to_srt, to_vtt

EXPORT_FILTERS = "SubRip subtitles (*.srt);;WebVTT subtitles (*.vtt)"
_WRITERS = {".srt": to_srt, ".vtt": to_vtt}


def export_transcript(cues: Sequence, path: str | Path) -> Path:
    """Write ``cues`` to ``path`` (UTF-8) in the format of its suffix; UsageError for another suffix, and one
    line (a UsageError) when the file cannot be written."""
    path = Path(path)
    writer = _WRITERS.get(path.suffix.lower())
    if writer is None:
        raise UsageError(f"cannot export to '{path.name}': choose a .srt or .vtt file name")
    try:
        path.write_text(writer(cues), encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path
