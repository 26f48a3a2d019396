"""The Models dialog's words for one model: its memory and inputs cells, and the details under the table.

Catalog models have their figures in the catalog; an imported folder has its own, read from its files by
core_model.models.folder_info (``ModelFolderInfo``): "unknown" where they cannot be read, never a bare "?".
"""

from __future__ import annotations

from core_model.models import ModelStatus, format_bytes


def needs_cells(status: ModelStatus, folder_info) -> tuple[str, str]:
    """(GPU memory in 4-bit, inputs) for the table."""
    if status.entry is not None:
        return format_bytes(status.entry.memory_4bit_bytes), ", ".join(status.entry.capability_names)
    if folder_info is None:
        return "unknown", "unknown"
    memory = format_bytes(folder_info.memory_4bit_bytes) if folder_info.memory_4bit_bytes else "unknown"
    takes = ", ".join(folder_info.capability_names) if folder_info.capabilities is not None else "unknown"
    return memory, takes


def details_html(status: ModelStatus, folder_info) -> str:
    entry = status.entry
    if entry is None:
        parts = [f"<b>{status.id}</b>: imported from {status.path}"]
        if folder_info is not None and folder_info.problem:
            parts.append(f"<i>{folder_info.problem}</i>")
        elif folder_info is not None:
            memory = (f"about {format_bytes(folder_info.memory_4bit_bytes)} of GPU memory in 4-bit, "
                      f"{format_bytes(folder_info.memory_16bit_bytes)} unquantized" if folder_info.memory_4bit_bytes
                      else "memory unknown (no safetensors weights to read the size from)")
            parts.append(f"A '{folder_info.model_type}' model; takes {', '.join(folder_info.capability_names)}; "
                         f"{memory}.")
        return "<br>".join(parts)
    parts = [f"<b>{entry.name}</b> — {entry.notes}"]
    if entry.hub_url:
        parts.append(f'Hub: <a href="{entry.hub_url}">{entry.repo_id}</a>. Licence: '
                     f'<a href="{entry.licence_url}">{entry.licence}</a>.')
    memory = f"GPU memory in 4-bit: {format_bytes(entry.memory_4bit_bytes)}"
    if entry.cpu_memory_bytes:
        memory += f", plus {format_bytes(entry.cpu_memory_bytes)} of the computer's RAM"
    parts.append(memory + f"; unquantized (Mac, CPU): {format_bytes(entry.memory_16bit_bytes)}.")
    if entry.access_note:
        parts.append(f"<i>{entry.access_note}</i>")
    if entry.how_to_get:
        parts.append(entry.how_to_get)
    if status.path is not None:
        parts.append(f"On disk: {status.path}")
    return "<br>".join(parts)
