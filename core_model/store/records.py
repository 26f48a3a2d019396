"""Plain records the conversation store returns, and the JSON form of media references kept in turns."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

from core_model.backends.base import AudioRef, ImageRef, MediaRef, SegmentRef

TurnStatus = Literal["pending", "complete", "stopped", "error"]
TURN_STATUSES: tuple[str, ...] = ("pending", "complete", "stopped", "error")
"""pending: written before the answer streams (a crash leaves it so, with the partial text); complete: the
model finished; stopped: the user cancelled (the text is what came before); error: it failed (see ``error``)."""


@dataclass(frozen=True)
class VideoRecord:
    id: int
    fingerprint: str
    path: str
    size_bytes: int
    duration_s: float | None
    added_at: str
    last_opened_at: str


@dataclass(frozen=True)
class ChatRecord:
    id: int
    video_id: int | None
    title: str
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class SegmentRecord:
    id: int
    video_id: int
    start_s: float
    end_s: float
    label: str
    created_at: str


@dataclass(frozen=True)
class TurnRecord:
    """One stored message. ``media`` are the attachments; ``run`` the answer's RunInfo as a dict (answers only)."""

    id: int
    chat_id: int
    role: Literal["user", "assistant"]
    text: str
    media: tuple[MediaRef, ...]
    segment_id: int | None
    segment_start_s: float | None
    segment_end_s: float | None
    model_id: str
    status: TurnStatus
    error: str
    run: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""
    completed_at: str | None = None


def media_to_json(media: Sequence[MediaRef]) -> str:
    """JSON list of {"kind": "segment"|"image"|"audio", "path": ..., (segment) "start_s", "end_s", "include_audio"}."""
    items = []
    for ref in media:
        if isinstance(ref, SegmentRef):
            items.append(
                {"kind": "segment", "path": ref.path, "start_s": ref.start_s, "end_s": ref.end_s,
                 "include_audio": ref.include_audio}
            )
        elif isinstance(ref, (ImageRef, AudioRef)):
            items.append({"kind": ref.kind, "path": ref.path})
        else:
            raise TypeError(f"not a media reference: {ref!r}")
    return json.dumps(items)


def media_from_json(text: str) -> tuple[MediaRef, ...]:
    """The inverse of ``media_to_json``; unknown kinds are skipped (written by a newer Vidi)."""
    refs: list[MediaRef] = []
    for item in json.loads(text or "[]"):
        kind = item.get("kind")
        if kind == "segment":
            refs.append(
                SegmentRef(item["path"], item.get("start_s"), item.get("end_s"), bool(item.get("include_audio", True)))
            )
        elif kind == "image":
            refs.append(ImageRef(item["path"]))
        elif kind == "audio":
            refs.append(AudioRef(item["path"]))
    return tuple(refs)


# ----------------------------------------------------------------------------------------------------------------
# Rows -> records
# ----------------------------------------------------------------------------------------------------------------


def video_from_row(row: sqlite3.Row) -> VideoRecord:
    return VideoRecord(
        id=row["id"], fingerprint=row["fingerprint"], path=row["path"], size_bytes=row["size_bytes"],
        duration_s=row["duration_s"], added_at=row["added_at"], last_opened_at=row["last_opened_at"],
    )


def chat_from_row(row: sqlite3.Row) -> ChatRecord:
    return ChatRecord(
        id=row["id"], video_id=row["video_id"], title=row["title"], created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def segment_from_row(row: sqlite3.Row) -> SegmentRecord:
    return SegmentRecord(
        id=row["id"], video_id=row["video_id"], start_s=row["start_s"], end_s=row["end_s"], label=row["label"],
        created_at=row["created_at"],
    )


def turn_from_row(row: sqlite3.Row) -> TurnRecord:
    return TurnRecord(
        id=row["id"], chat_id=row["chat_id"], role=row["role"], text=row["text"],
        media=media_from_json(row["media_json"]), segment_id=row["segment_id"],
        segment_start_s=row["segment_start_s"], segment_end_s=row["segment_end_s"], model_id=row["model_id"],
        status=row["status"], error=row["error"], run=json.loads(row["run_json"] or "{}"),
        created_at=row["created_at"], updated_at=row["updated_at"], completed_at=row["completed_at"],
    )
