"""Which model to use when none is named: the models on this machine, in the order the catalog prefers them.

    on_disk = models_on_disk(manager)                      # [ModelStatus(...), ...] downloaded, imported, in-cache
    model = model_on_disk(manager, device_info)            # "gemma-4-e2b" (or an imported id), or None
    hint = pull_hint(device_info)                          # "vidi models pull gemma-4-e2b (Gemma 4 E2B fits ...)"

Catalog models come in ``preference_order`` for the device (those that fit first, the recommendation first of
all); models imported under ids of their own come last, by id. No Qt, no torch (the caller detects the device).
"""

from __future__ import annotations

from typing import Sequence

from core_model.models.catalog import CATALOG, CatalogEntry, Recommendation, preference_order, recommend
from core_model.models.manager import ModelManager, ModelStatus


def models_on_disk(manager: ModelManager, device_info=None, *, ram_bytes: int | None = None) -> list[ModelStatus]:
    """The models ready to load here; in preference order for ``device_info`` when given, else by catalog rank."""
    # speech models (Whisper, for the index) are on disk too, but they answer no question
    statuses = [s for s in manager.list() if s.available and (
        _answers(s.path) if s.entry is None else s.entry.purpose == "answer")]
    answering = [entry for entry in manager.catalog if entry.purpose == "answer"]
    if device_info is None:
        order: Sequence[CatalogEntry] = sorted(answering, key=lambda e: e.rank)
    else:
        order = preference_order(device_info, ram_bytes=ram_bytes, catalog=answering)
    position = {entry.id: index for index, entry in enumerate(order)}
    return sorted(statuses, key=lambda s: (s.id not in position, position.get(s.id, 0), s.id))


def _answers(folder) -> bool:
    """Whether an imported folder under an id of its own holds a model some backend answers with: a SigLIP or a
    Whisper imported for the index (or a folder whose config.json cannot be read) must never be picked to answer."""
    from core_model.models.cache import model_type
    from core_model.models.folder_info import capabilities_for_model_type

    return folder is not None and capabilities_for_model_type(model_type(folder)) is not None


def model_on_disk(manager: ModelManager, device_info=None, *, ram_bytes: int | None = None) -> str | None:
    """The id of the first model on disk in the preferred order, or None when there is none."""
    statuses = models_on_disk(manager, device_info, ram_bytes=ram_bytes)
    return statuses[0].id if statuses else None


def recommendation_for(device_info, *, ram_bytes: int | None = None,
                       catalog: Sequence[CatalogEntry] = CATALOG) -> Recommendation:
    """``recommend``, falling back on the small default (Gemma 4 E2B) when nothing in the catalog fits."""
    choice = recommend(device_info, ram_bytes=ram_bytes, catalog=catalog)
    if choice.entry is not None:
        return choice
    from core_model.backends import DEFAULT_MODEL_ID
    from core_model.models.catalog import get_entry

    entry = get_entry(DEFAULT_MODEL_ID, catalog)
    return Recommendation(entry, f"{choice.reason}; {entry.name if entry else DEFAULT_MODEL_ID} is the smallest "
                          "model that hears", choice.precision)


def pull_hint(device_info, *, ram_bytes: int | None = None) -> str:
    """One line saying which model to get: "vidi models pull ID" and why it is the one for this device."""
    choice = recommendation_for(device_info, ram_bytes=ram_bytes)
    model_id = choice.entry.id if choice.entry is not None else "gemma-4-e2b"
    return f"get one with 'vidi models pull {model_id}' ({choice.reason})"
