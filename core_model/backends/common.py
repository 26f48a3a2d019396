"""Small checks and conversions the transformers backends share (generic, omni, Video-LLaMA).

    config = read_config(folder)                      # config.json as a dict, or ModelLoadError in plain words
    check_question(capabilities, conversation, model_id)  # BackendError / UnsupportedMediaError before any work
    inputs = to_device(processor_output, model.device, dtype)

Generation settings and run timing live next to the streaming loop, in core_model.backends.generation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core_model.backends.base import (
    BackendError,
    Capabilities,
    Conversation,
    ModelLoadError,
    check_media_supported,
)
from core_model.errors import first_line


def read_config(folder: Path) -> dict:
    """``folder``'s config.json as a dict; ModelLoadError when the folder or the file is missing or unreadable."""
    path = folder / "config.json"
    if not folder.is_dir():
        raise ModelLoadError(f"Model folder '{folder}' does not exist.")
    if not path.is_file():
        raise ModelLoadError(f"'{folder}' is not a model folder: it has no config.json.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"'{path}' cannot be read as JSON: {first_line(exc)}") from exc


def check_conversation(conversation: Conversation) -> None:
    """BackendError unless ``conversation`` ends with a non-empty user question."""
    if not conversation:
        raise BackendError("There is no question to answer.")
    if conversation[-1].role != "user":
        raise BackendError("The conversation must end with the user's question.")
    if not conversation[-1].text.strip():
        raise BackendError("The question is empty.")


def check_question(capabilities: Capabilities, conversation: Conversation, model_id: str = "") -> None:
    """``check_conversation``, then the question's media (the last turn's) against ``capabilities``; the message
    names ``model_id``. Earlier turns' media are not sent again (they travel as text), so they are not checked."""
    check_conversation(conversation)
    check_media_supported(capabilities, conversation[-1].media, model_id)


def to_device(inputs, device, dtype) -> dict[str, Any]:
    """Move the processor's tensors to ``device``; floating ones (pixels, audio features) also to ``dtype``."""
    import torch

    moved = {}
    for key, value in inputs.items():
        if isinstance(value, torch.Tensor):
            value = value.to(device, dtype=dtype) if value.is_floating_point() else value.to(device)
        moved[key] = value
    return moved
