"""``with_media(conversation, media)``: the conversation with ``media`` on its last turn, where the Backend protocol
carries a question's attachments (tests written as "ask this, about that" read better with the two apart)."""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from core_model.backends.base import MediaRef, Turn


def with_media(conversation: Sequence[Turn], media: Sequence[MediaRef] = ()) -> list[Turn]:
    turns = list(conversation)
    if turns and media:
        turns[-1] = replace(turns[-1], media=tuple(media))
    return turns
